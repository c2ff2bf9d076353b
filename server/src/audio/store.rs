//! Recordings in the key-value store: a JSON record per recording and its
//! bytes as the chunks they were uploaded in, keyed by offset so a prefix
//! scan reads them back in order. Everything sits under the user's ID, so a
//! client-made audio ID of one user can never reach another user's audio.
//!
//! Read-modify-write of records goes through one lock: uploads are small
//! and infrequent, and two racing requests for one recording must not both
//! append at the same offset.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::record::{AudioRecord, AudioState};
use crate::keys;
use crate::store::{Batch, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AudioStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("an audio record is unreadable: {0}")]
    Corrupt(String),
}

#[derive(Debug)]
pub enum Appended {
    /// Stored; more to come or complete and verified.
    Stored(AudioRecord),
    WrongOffset {
        received: u64,
    },
    /// More bytes than were declared.
    Overflow,
    /// Complete, but the bytes do not match the declared SHA-256; they
    /// were discarded.
    HashMismatch(AudioRecord),
}

pub struct AudioStore {
    store: Arc<dyn Store>,
    lock: tokio::sync::Mutex<()>,
}

impl AudioStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn get(
        &self,
        user_id: &str,
        audio_id: &str,
    ) -> Result<Option<AudioRecord>, AudioStoreError> {
        match self.store.get(keys::audio(user_id, audio_id).as_bytes())? {
            Some(bytes) => Ok(Some(parse(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Every recording of one user.
    pub fn list_user(&self, user_id: &str) -> Result<Vec<AudioRecord>, AudioStoreError> {
        list(self.store.as_ref(), &keys::user_audio(user_id))
    }

    /// Every recording on the server (start-up and the periodic sweep).
    pub fn list_all(&self) -> Result<Vec<AudioRecord>, AudioStoreError> {
        list(self.store.as_ref(), keys::AUDIO_PREFIX)
    }

    /// Declared bytes of all the user's recordings: what counts against the quota.
    pub fn usage(&self, user_id: &str) -> Result<u64, AudioStoreError> {
        Ok(self.list_user(user_id)?.iter().map(|r| r.size).sum())
    }

    /// Stores a new record if none exists under its ID; returns the record
    /// that is stored afterwards and whether it is the new one. `admit`
    /// checks limits under the lock, so two declarations cannot both slip
    /// under the quota.
    pub async fn declare<E>(
        &self,
        record: AudioRecord,
        admit: impl FnOnce(&Self) -> Result<(), E>,
    ) -> Result<Result<(AudioRecord, bool), E>, AudioStoreError> {
        let _guard = self.lock.lock().await;
        if let Some(existing) = self.get(&record.user_id, &record.audio_id)? {
            return Ok(Ok((existing, false)));
        }
        if let Err(refused) = admit(self) {
            return Ok(Err(refused));
        }
        self.save_now(&record).await?;
        Ok(Ok((record, true)))
    }

    /// Appends `bytes` at `offset`. Once the last byte is in, checks the
    /// SHA-256 and moves the record to `complete_state`.
    pub async fn append(
        &self,
        user_id: &str,
        audio_id: &str,
        offset: u64,
        bytes: &[u8],
        complete_state: AudioState,
    ) -> Result<Option<Appended>, AudioStoreError> {
        let _guard = self.lock.lock().await;
        let Some(mut record) = self.get(user_id, audio_id)? else {
            return Ok(None);
        };
        if offset != record.received {
            return Ok(Some(Appended::WrongOffset {
                received: record.received,
            }));
        }
        if record.state != AudioState::Uploading || bytes.is_empty() {
            // Nothing to add: a repeat of the last request, or an empty body.
            return Ok(Some(Appended::Stored(record)));
        }
        if offset + bytes.len() as u64 > record.size {
            return Ok(Some(Appended::Overflow));
        }
        record.received += bytes.len() as u64;
        let mut batch = Batch::default();
        batch.put(keys::audio_chunk(user_id, audio_id, offset), bytes);
        if record.received == record.size {
            let hash = hex::encode(self.hash_with(&record, offset, bytes)?);
            if hash != record.sha256 {
                // Start again from nothing: the client re-sends everything.
                self.delete_chunks(user_id, audio_id, &mut batch)?;
                batch.delete(keys::audio_chunk(user_id, audio_id, offset));
                record.received = 0;
                batch.put(keys::audio(user_id, audio_id), to_json(&record));
                self.store.apply(batch)?;
                self.store.flush().await?;
                return Ok(Some(Appended::HashMismatch(record)));
            }
            record.state = complete_state;
        }
        batch.put(keys::audio(user_id, audio_id), to_json(&record));
        self.store.apply(batch)?;
        self.store.flush().await?;
        Ok(Some(Appended::Stored(record)))
    }

    /// SHA-256 of the stored chunks followed by the last one, not yet stored.
    fn hash_with(
        &self,
        record: &AudioRecord,
        last_offset: u64,
        last: &[u8],
    ) -> Result<[u8; 32], AudioStoreError> {
        let mut hasher = Sha256::new();
        for (key, chunk) in self
            .store
            .scan_prefix(keys::audio_chunks(&record.user_id, &record.audio_id).as_bytes())?
        {
            if key != keys::audio_chunk(&record.user_id, &record.audio_id, last_offset).as_bytes() {
                hasher.update(&chunk);
            }
        }
        hasher.update(last);
        Ok(hasher.finalize().into())
    }

    /// The whole recording, or None if it is not (or no longer) stored.
    pub fn read_bytes(&self, record: &AudioRecord) -> Result<Option<Vec<u8>>, AudioStoreError> {
        let chunks = self
            .store
            .scan_prefix(keys::audio_chunks(&record.user_id, &record.audio_id).as_bytes())?;
        let mut bytes = Vec::with_capacity(record.size as usize);
        for (_, chunk) in chunks {
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes.len() as u64 == record.size && record.received == record.size).then_some(bytes))
    }

    /// Applies `change` to the stored record if it still exists (a user may
    /// delete a recording while it is being transcribed); returns the result.
    pub async fn update(
        &self,
        user_id: &str,
        audio_id: &str,
        change: impl FnOnce(&mut AudioRecord),
    ) -> Result<Option<AudioRecord>, AudioStoreError> {
        let _guard = self.lock.lock().await;
        let Some(mut record) = self.get(user_id, audio_id)? else {
            return Ok(None);
        };
        change(&mut record);
        self.save_now(&record).await?;
        Ok(Some(record))
    }

    /// Removes the recording, its bytes and its job; returns whether it existed.
    pub async fn delete(&self, user_id: &str, audio_id: &str) -> Result<bool, AudioStoreError> {
        let _guard = self.lock.lock().await;
        if self.get(user_id, audio_id)?.is_none() {
            return Ok(false);
        }
        let mut batch = Batch::default();
        self.delete_chunks(user_id, audio_id, &mut batch)?;
        batch.delete(keys::audio(user_id, audio_id));
        self.store.apply(batch)?;
        self.store.flush().await?;
        Ok(true)
    }

    fn delete_chunks(
        &self,
        user_id: &str,
        audio_id: &str,
        batch: &mut Batch,
    ) -> Result<(), AudioStoreError> {
        for (key, _) in self
            .store
            .scan_prefix(keys::audio_chunks(user_id, audio_id).as_bytes())?
        {
            batch.delete(key);
        }
        Ok(())
    }

    async fn save_now(&self, record: &AudioRecord) -> Result<(), AudioStoreError> {
        self.store.put(
            keys::audio(&record.user_id, &record.audio_id).as_bytes(),
            &to_json(record),
        )?;
        self.store.flush().await?;
        Ok(())
    }
}

/// Adds the deletion of every recording of `user_id` (records and bytes)
/// to `batch`; used when an account is deleted. Returns how many recordings.
pub fn purge_user(
    store: &dyn Store,
    user_id: &str,
    batch: &mut Batch,
) -> Result<usize, StoreError> {
    let records = store.scan_prefix(keys::user_audio(user_id).as_bytes())?;
    for (key, _) in &records {
        batch.delete(key.clone());
    }
    for (key, _) in store.scan_prefix(keys::user_audio_chunks(user_id).as_bytes())? {
        batch.delete(key);
    }
    Ok(records.len())
}

/// Every recording record of `user_id`, for export.
pub fn user_records(store: &dyn Store, user_id: &str) -> Result<Vec<AudioRecord>, AudioStoreError> {
    list(store, &keys::user_audio(user_id))
}

fn list(store: &dyn Store, prefix: &str) -> Result<Vec<AudioRecord>, AudioStoreError> {
    store
        .scan_prefix(prefix.as_bytes())?
        .iter()
        .map(|(_, bytes)| parse(bytes))
        .collect()
}

fn parse(bytes: &[u8]) -> Result<AudioRecord, AudioStoreError> {
    serde_json::from_slice(bytes).map_err(|err| AudioStoreError::Corrupt(err.to_string()))
}

fn to_json(record: &AudioRecord) -> Vec<u8> {
    serde_json::to_vec(record).expect("an audio record always serialises")
}
