//! Files users upload (voice recordings, evidence) in the key-value store:
//! a JSON record per file and its bytes as the chunks they were uploaded
//! in, keyed by offset so a prefix scan reads them back in order. Uploads
//! resume from the offset the server has, and the whole file is checked
//! against the SHA-256 declared for it. Everything sits under the user's
//! ID, so a client-made file ID of one user can never reach another user's
//! file.
//!
//! Read-modify-write of records goes through one lock: uploads are small
//! and infrequent, and two racing requests for one file must not both
//! append at the same offset.

pub mod evidence;

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::keys::UploadKeys;
use crate::store::{Batch, Store, StoreError};

/// A kind of uploaded file's record: what the store needs to know of it.
pub trait Upload: Serialize + DeserializeOwned + Clone + Send + Sync {
    /// Where records and bytes of this kind are kept.
    const KEYS: UploadKeys;
    fn user_id(&self) -> &str;
    fn id(&self) -> &str;
    /// The entry document the file belongs to.
    fn document_id(&self) -> &str;
    /// Declared size in bytes.
    fn size(&self) -> u64;
    /// Declared SHA-256, lowercase hex.
    fn sha256(&self) -> &str;
    fn received(&self) -> u64;
    fn set_received(&mut self, received: u64);
    /// Whether the file still takes bytes (false once complete and verified).
    fn is_uploading(&self) -> bool;
}

/// File IDs are made by clients: 16–64 characters of `[A-Za-z0-9_-]`, so
/// they are safe inside storage keys.
pub fn is_valid_upload_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[derive(Debug, thiserror::Error)]
pub enum UploadStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("an upload record is unreadable: {0}")]
    Corrupt(String),
}

#[derive(Debug)]
pub enum Appended<R> {
    /// Stored; more to come or complete and verified.
    Stored(R),
    WrongOffset {
        received: u64,
    },
    /// More bytes than were declared.
    Overflow,
    /// Complete, but the bytes do not match the declared SHA-256; they
    /// were discarded.
    HashMismatch(R),
}

pub struct UploadStore<R> {
    store: Arc<dyn Store>,
    lock: tokio::sync::Mutex<()>,
    kind: PhantomData<fn() -> R>,
}

impl<R: Upload> UploadStore<R> {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            lock: tokio::sync::Mutex::new(()),
            kind: PhantomData,
        }
    }

    pub fn get(&self, user_id: &str, id: &str) -> Result<Option<R>, UploadStoreError> {
        match self.store.get(R::KEYS.record(user_id, id).as_bytes())? {
            Some(bytes) => Ok(Some(parse(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Every file of this kind of one user.
    pub fn list_user(&self, user_id: &str) -> Result<Vec<R>, UploadStoreError> {
        list(self.store.as_ref(), &R::KEYS.user_records(user_id))
    }

    /// Every file of this kind on the server.
    pub fn list_all(&self) -> Result<Vec<R>, UploadStoreError> {
        list(self.store.as_ref(), R::KEYS.records)
    }

    /// Declared bytes of all the user's files of this kind: what counts
    /// against the quota.
    pub fn usage(&self, user_id: &str) -> Result<u64, UploadStoreError> {
        Ok(self.list_user(user_id)?.iter().map(|r| r.size()).sum())
    }

    /// Stores a new record if none exists under its ID; returns the record
    /// that is stored afterwards and whether it is the new one. `admit`
    /// checks limits under the lock, so two declarations cannot both slip
    /// under the quota.
    pub async fn declare<E>(
        &self,
        record: R,
        admit: impl FnOnce(&Self) -> Result<(), E>,
    ) -> Result<Result<(R, bool), E>, UploadStoreError> {
        let _guard = self.lock.lock().await;
        if let Some(existing) = self.get(record.user_id(), record.id())? {
            return Ok(Ok((existing, false)));
        }
        if let Err(refused) = admit(self) {
            return Ok(Err(refused));
        }
        self.save_now(&record).await?;
        Ok(Ok((record, true)))
    }

    /// Appends `bytes` at `offset`. Once the last byte is in, checks the
    /// SHA-256 and applies `complete` to the record.
    pub async fn append(
        &self,
        user_id: &str,
        id: &str,
        offset: u64,
        bytes: &[u8],
        complete: impl FnOnce(&mut R),
    ) -> Result<Option<Appended<R>>, UploadStoreError> {
        let _guard = self.lock.lock().await;
        let Some(mut record) = self.get(user_id, id)? else {
            return Ok(None);
        };
        if offset != record.received() {
            return Ok(Some(Appended::WrongOffset {
                received: record.received(),
            }));
        }
        if !record.is_uploading() || bytes.is_empty() {
            // Nothing to add: a repeat of the last request, or an empty body.
            return Ok(Some(Appended::Stored(record)));
        }
        if offset + bytes.len() as u64 > record.size() {
            return Ok(Some(Appended::Overflow));
        }
        record.set_received(record.received() + bytes.len() as u64);
        let mut batch = Batch::default();
        batch.put(R::KEYS.chunk(user_id, id, offset), bytes);
        if record.received() == record.size() {
            let hash = hex::encode(self.hash_with(&record, offset, bytes)?);
            if hash != record.sha256() {
                // Start again from nothing: the client re-sends everything.
                self.delete_chunks(user_id, id, &mut batch)?;
                batch.delete(R::KEYS.chunk(user_id, id, offset));
                record.set_received(0);
                batch.put(R::KEYS.record(user_id, id), to_json(&record));
                self.store.apply(batch)?;
                self.store.flush().await?;
                return Ok(Some(Appended::HashMismatch(record)));
            }
            complete(&mut record);
        }
        batch.put(R::KEYS.record(user_id, id), to_json(&record));
        self.store.apply(batch)?;
        self.store.flush().await?;
        Ok(Some(Appended::Stored(record)))
    }

    /// SHA-256 of the stored chunks followed by the last one, not yet stored.
    fn hash_with(
        &self,
        record: &R,
        last_offset: u64,
        last: &[u8],
    ) -> Result<[u8; 32], UploadStoreError> {
        let mut hasher = Sha256::new();
        let last_key = R::KEYS.chunk(record.user_id(), record.id(), last_offset);
        for (key, chunk) in self
            .store
            .scan_prefix(R::KEYS.chunks(record.user_id(), record.id()).as_bytes())?
        {
            if key != last_key.as_bytes() {
                hasher.update(&chunk);
            }
        }
        hasher.update(last);
        Ok(hasher.finalize().into())
    }

    /// The whole file, or None if it is not (or no longer) stored.
    pub fn read_bytes(&self, record: &R) -> Result<Option<Vec<u8>>, UploadStoreError> {
        let chunks = self
            .store
            .scan_prefix(R::KEYS.chunks(record.user_id(), record.id()).as_bytes())?;
        let mut bytes = Vec::with_capacity(record.size() as usize);
        for (_, chunk) in chunks {
            bytes.extend_from_slice(&chunk);
        }
        let complete = bytes.len() as u64 == record.size() && record.received() == record.size();
        Ok(complete.then_some(bytes))
    }

    /// Applies `change` to the stored record if it still exists (a user may
    /// delete a file while the server works on it); returns the result.
    pub async fn update(
        &self,
        user_id: &str,
        id: &str,
        change: impl FnOnce(&mut R),
    ) -> Result<Option<R>, UploadStoreError> {
        let _guard = self.lock.lock().await;
        let Some(mut record) = self.get(user_id, id)? else {
            return Ok(None);
        };
        change(&mut record);
        self.save_now(&record).await?;
        Ok(Some(record))
    }

    /// Removes the file's record and bytes; returns whether it existed.
    pub async fn delete(&self, user_id: &str, id: &str) -> Result<bool, UploadStoreError> {
        let _guard = self.lock.lock().await;
        if self.get(user_id, id)?.is_none() {
            return Ok(false);
        }
        let mut batch = Batch::default();
        self.delete_chunks(user_id, id, &mut batch)?;
        batch.delete(R::KEYS.record(user_id, id));
        self.store.apply(batch)?;
        self.store.flush().await?;
        Ok(true)
    }

    /// Deletes every file of the user's `document_id` (the entry was
    /// deleted); returns how many.
    pub async fn delete_for_document(
        &self,
        user_id: &str,
        document_id: &str,
    ) -> Result<usize, UploadStoreError> {
        let mut deleted = 0;
        for record in self.list_user(user_id)? {
            if record.document_id() == document_id && self.delete(user_id, record.id()).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    fn delete_chunks(
        &self,
        user_id: &str,
        id: &str,
        batch: &mut Batch,
    ) -> Result<(), UploadStoreError> {
        for (key, _) in self
            .store
            .scan_prefix(R::KEYS.chunks(user_id, id).as_bytes())?
        {
            batch.delete(key);
        }
        Ok(())
    }

    async fn save_now(&self, record: &R) -> Result<(), UploadStoreError> {
        self.store.put(
            R::KEYS.record(record.user_id(), record.id()).as_bytes(),
            &to_json(record),
        )?;
        self.store.flush().await?;
        Ok(())
    }
}

/// Adds the deletion of every file of `keys`' kind of `user_id` (records
/// and bytes) to `batch`; used when an account is deleted. Returns how many
/// files.
pub fn purge_user(
    store: &dyn Store,
    keys: &UploadKeys,
    user_id: &str,
    batch: &mut Batch,
) -> Result<usize, StoreError> {
    let records = store.scan_prefix(keys.user_records(user_id).as_bytes())?;
    for (key, _) in &records {
        batch.delete(key.clone());
    }
    for (key, _) in store.scan_prefix(keys.user_chunks(user_id).as_bytes())? {
        batch.delete(key);
    }
    Ok(records.len())
}

/// Every record of kind `R` of `user_id`, for export.
pub fn user_records<R: Upload>(
    store: &dyn Store,
    user_id: &str,
) -> Result<Vec<R>, UploadStoreError> {
    list(store, &R::KEYS.user_records(user_id))
}

fn list<R: Upload>(store: &dyn Store, prefix: &str) -> Result<Vec<R>, UploadStoreError> {
    store
        .scan_prefix(prefix.as_bytes())?
        .iter()
        .map(|(_, bytes)| parse(bytes))
        .collect()
}

fn parse<R: Upload>(bytes: &[u8]) -> Result<R, UploadStoreError> {
    serde_json::from_slice(bytes).map_err(|err| UploadStoreError::Corrupt(err.to_string()))
}

fn to_json<R: Upload>(record: &R) -> Vec<u8> {
    serde_json::to_vec(record).expect("an upload record always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_are_bounded_and_key_safe() {
        assert!(is_valid_upload_id("abcdefghijklmnop"));
        assert!(is_valid_upload_id(&"a_-9".repeat(16)));
        assert!(!is_valid_upload_id("short"));
        assert!(!is_valid_upload_id(&"a".repeat(65)));
        assert!(!is_valid_upload_id("abcdefgh/../ijklmnop"));
        assert!(!is_valid_upload_id("abcdefghijklmnopé"));
    }
}
