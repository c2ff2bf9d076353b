//! Persistence of Automerge documents: who owns each one, its bytes as a
//! snapshot plus incremental chunks (compacted as automerge-repo does), the
//! sync state of each storage peer, and tombstones of deleted documents.

use std::sync::Arc;

use automerge::{sync, Automerge, ChangeHash};
use fieldbook_shared::DocumentId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sharing::SharingError;
use crate::store::keys::{self, ChunkKind};
use crate::store::{Batch, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DocStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored document {0} cannot be loaded: {1}")]
    Corrupt(DocumentId, String),
}

/// What the server knows about a document ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocRecord {
    /// Never seen (or never claimed by a change).
    Unknown,
    Owned {
        owner: String,
    },
    /// Deleted by its owner; it must never come back.
    Deleted {
        owner: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tombstone {
    owner: String,
    deleted_at: String,
}

/// What is on disk for one loaded document, so new changes can be appended
/// and compaction knows when the chunks have outgrown the snapshot.
#[derive(Debug, Default)]
pub struct Persisted {
    saved_heads: Vec<ChangeHash>,
    chunk_keys: Vec<String>,
    snapshot_bytes: usize,
    incremental_bytes: usize,
}

impl Persisted {
    /// Whether everything up to `heads` has been written.
    pub fn holds(&self, heads: &[ChangeHash]) -> bool {
        self.saved_heads == heads
    }

    /// What to write so that `automerge`'s changes are all on disk: one
    /// incremental chunk, or, once the chunks would outgrow the snapshot,
    /// one snapshot replacing them all. `None` if all is written.
    pub fn next_write(&self, doc: &DocumentId, automerge: &Automerge) -> Option<ChunkWrite> {
        let heads = automerge.get_heads();
        if heads == self.saved_heads {
            return None;
        }
        let chunk = automerge.save_after(&self.saved_heads);
        if self.incremental_bytes + chunk.len() > self.snapshot_bytes {
            let snapshot = automerge.save();
            let key = keys::doc_chunk(doc, ChunkKind::Snapshot, &content_hash(&snapshot));
            let replaces = self
                .chunk_keys
                .iter()
                .filter(|old| **old != key)
                .cloned()
                .collect();
            let after = Persisted {
                saved_heads: heads,
                chunk_keys: vec![key.clone()],
                snapshot_bytes: snapshot.len(),
                incremental_bytes: 0,
            };
            return Some(ChunkWrite::Snapshot {
                key,
                bytes: snapshot,
                replaces,
                after,
            });
        }
        let key = keys::doc_chunk(doc, ChunkKind::Incremental, &content_hash(&chunk));
        let mut chunk_keys = self.chunk_keys.clone();
        chunk_keys.push(key.clone());
        let after = Persisted {
            saved_heads: heads,
            chunk_keys,
            snapshot_bytes: self.snapshot_bytes,
            incremental_bytes: self.incremental_bytes + chunk.len(),
        };
        Some(ChunkWrite::Incremental {
            key,
            bytes: chunk,
            after,
        })
    }

    /// `write` (made by [`Persisted::next_write`]) is stored.
    pub fn written(&mut self, write: ChunkWrite) {
        *self = match write {
            ChunkWrite::Incremental { after, .. } | ChunkWrite::Snapshot { after, .. } => after,
        };
    }
}

/// A document's changes as the chunks to store ([`Persisted::next_write`]).
#[derive(Debug)]
pub enum ChunkWrite {
    Incremental {
        key: String,
        bytes: Vec<u8>,
        /// What is on disk once it is written.
        after: Persisted,
    },
    Snapshot {
        key: String,
        bytes: Vec<u8>,
        /// The chunks it holds, deleted with its writing.
        replaces: Vec<String>,
        after: Persisted,
    },
}

#[derive(Clone)]
pub struct DocStore {
    store: Arc<dyn Store>,
}

impl DocStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Whether the database answers a read (of the storage ID, written at
    /// the server's first start), for the readiness check.
    pub fn storage_answers(&self) -> bool {
        matches!(
            self.store.get(keys::SERVER_STORAGE_ID.as_bytes()),
            Ok(Some(_))
        )
    }

    pub fn record(&self, doc: &DocumentId) -> Result<DocRecord, DocStoreError> {
        if let Some(bytes) = self.store.get(keys::doc_tombstone(doc).as_bytes())? {
            let tomb: Tombstone = serde_json::from_slice(&bytes)
                .map_err(|err| DocStoreError::Corrupt(*doc, err.to_string()))?;
            return Ok(DocRecord::Deleted { owner: tomb.owner });
        }
        match self.store.get(keys::doc_owner(doc).as_bytes())? {
            Some(owner) => Ok(DocRecord::Owned {
                owner: String::from_utf8_lossy(&owner).into_owned(),
            }),
            None => Ok(DocRecord::Unknown),
        }
    }

    /// Loads every chunk of `doc`; an unknown document loads as empty.
    pub fn load(&self, doc: &DocumentId) -> Result<(Automerge, Persisted), DocStoreError> {
        let chunks = self.store.scan_prefix(keys::doc_chunks(doc).as_bytes())?;
        let mut automerge = Automerge::new();
        let mut persisted = Persisted::default();
        for (key, bytes) in chunks {
            automerge
                .load_incremental(&bytes)
                .map_err(|err| DocStoreError::Corrupt(*doc, err.to_string()))?;
            match keys::chunk_kind(&key) {
                Some(ChunkKind::Snapshot) => persisted.snapshot_bytes += bytes.len(),
                _ => persisted.incremental_bytes += bytes.len(),
            }
            persisted
                .chunk_keys
                .push(String::from_utf8_lossy(&key).into_owned());
        }
        persisted.saved_heads = automerge.get_heads();
        Ok((automerge, persisted))
    }

    /// Records `owner` as the owner of a new document. Returns false if the
    /// document already has an owner or was deleted.
    pub fn claim(&self, doc: &DocumentId, owner: &str) -> Result<bool, DocStoreError> {
        if self.record(doc)? != DocRecord::Unknown {
            return Ok(false);
        }
        if !self
            .store
            .put_if_absent(keys::doc_owner(doc).as_bytes(), owner.as_bytes())?
        {
            return Ok(false);
        }
        self.store.put(keys::user_doc(owner, doc).as_bytes(), b"")?;
        Ok(true)
    }

    /// Writes the changes made since the last save (see
    /// [`Persisted::next_write`]). The caller flushes before acknowledging
    /// anything.
    pub fn append(
        &self,
        doc: &DocumentId,
        persisted: &mut Persisted,
        automerge: &Automerge,
    ) -> Result<(), DocStoreError> {
        if let Some(write) = persisted.next_write(doc, automerge) {
            self.write(&write)?;
            persisted.written(write);
        }
        Ok(())
    }

    /// Stores the chunks of `write`; a snapshot replaces the chunks it
    /// holds atomically, so a crash leaves either them or it.
    pub fn write(&self, write: &ChunkWrite) -> Result<(), DocStoreError> {
        match write {
            ChunkWrite::Incremental { key, bytes, .. } => self.store.put(key.as_bytes(), bytes)?,
            ChunkWrite::Snapshot {
                key,
                bytes,
                replaces,
                ..
            } => {
                let mut batch = Batch::default();
                for old in replaces {
                    batch.delete(old.clone());
                }
                batch.put(key.clone(), bytes.clone());
                self.store.apply(batch)?;
            }
        }
        Ok(())
    }

    /// Stores a document made by the server itself (such as a user's root
    /// document), owned by `owner`.
    pub fn create(
        &self,
        doc: &DocumentId,
        owner: &str,
        automerge: &Automerge,
    ) -> Result<(), DocStoreError> {
        if !self.claim(doc, owner)? {
            return Err(DocStoreError::Corrupt(
                *doc,
                "document ID already in use".into(),
            ));
        }
        self.append(doc, &mut Persisted::default(), automerge)
    }

    /// Removes the document's data and sync states and leaves a tombstone.
    pub fn delete(&self, doc: &DocumentId, owner: &str) -> Result<(), DocStoreError> {
        let mut batch = Batch::default();
        for prefix in [keys::doc_chunks(doc), keys::doc_sync_states(doc)] {
            for (key, _) in self.store.scan_prefix(prefix.as_bytes())? {
                batch.delete(key);
            }
        }
        batch.delete(keys::doc_owner(doc));
        batch.delete(keys::user_doc(owner, doc));
        let tomb = Tombstone {
            owner: owner.to_string(),
            deleted_at: crate::clock::now_rfc3339(),
        };
        batch.put(
            keys::doc_tombstone(doc),
            serde_json::to_vec(&tomb).expect("tombstone serialises"),
        );
        self.store.apply(batch)?;
        Ok(())
    }

    pub fn load_sync_state(&self, doc: &DocumentId, storage_id: &str) -> Option<sync::State> {
        let bytes = self
            .store
            .get(keys::doc_sync_state(doc, storage_id).as_bytes())
            .ok()??;
        // A state we cannot read only costs a longer sync; start afresh.
        sync::State::decode(&bytes).ok()
    }

    pub fn save_sync_state(
        &self,
        doc: &DocumentId,
        storage_id: &str,
        state: &sync::State,
    ) -> Result<(), DocStoreError> {
        self.store.put(
            keys::doc_sync_state(doc, storage_id).as_bytes(),
            &state.encode(),
        )?;
        Ok(())
    }
}

fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A membership change fails as sharing does when the document's own
/// record cannot be read: converted here, where the two meet, so that
/// `sharing` knows nothing of the document store.
impl From<DocStoreError> for SharingError {
    fn from(err: DocStoreError) -> Self {
        match err {
            DocStoreError::Store(err) => SharingError::Store(err),
            other => SharingError::Corrupt(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use automerge::transaction::Transactable;
    use automerge::ROOT;

    fn doc_id(n: u8) -> DocumentId {
        DocumentId::from_bytes([n; 16])
    }

    fn edit(doc: &mut Automerge, key: &str, value: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
    }

    #[test]
    fn appended_changes_load_back_and_compact_into_one_snapshot() {
        let docs = DocStore::new(Arc::new(MemoryStore::new()));
        let id = doc_id(1);
        let mut doc = Automerge::new();
        edit(&mut doc, "title", "first");
        docs.create(&id, "user-a", &doc).unwrap();
        let (_, mut persisted) = docs.load(&id).unwrap();
        for n in 0..20 {
            edit(&mut doc, "title", &format!("edit {n}"));
            docs.append(&id, &mut persisted, &doc).unwrap();
        }
        let (loaded, after) = docs.load(&id).unwrap();
        assert_eq!(loaded.get_heads(), doc.get_heads());
        // Compaction has run: far fewer chunks than edits.
        assert!(
            after.chunk_keys.len() < 10,
            "{} chunks",
            after.chunk_keys.len()
        );
        assert_eq!(
            docs.record(&id).unwrap(),
            DocRecord::Owned {
                owner: "user-a".into()
            }
        );
    }

    #[test]
    fn a_write_is_planned_without_the_store_and_only_for_what_is_not_on_disk() {
        let id = doc_id(3);
        let mut doc = Automerge::new();
        let mut persisted = Persisted::default();
        assert!(persisted.next_write(&id, &doc).is_none(), "nothing yet");
        edit(&mut doc, "title", "first");
        // The first write outgrows the empty snapshot: it is one.
        let first = persisted.next_write(&id, &doc).unwrap();
        assert!(matches!(first, ChunkWrite::Snapshot { ref replaces, .. } if replaces.is_empty()));
        persisted.written(first);
        assert!(persisted.holds(&doc.get_heads()));
        assert!(persisted.next_write(&id, &doc).is_none(), "all written");
        edit(&mut doc, "title", "second");
        let second = persisted.next_write(&id, &doc).unwrap();
        assert!(
            matches!(second, ChunkWrite::Incremental { .. }),
            "{second:?}"
        );
    }

    #[test]
    fn claims_are_first_come_and_deletion_leaves_a_tombstone() {
        let docs = DocStore::new(Arc::new(MemoryStore::new()));
        let id = doc_id(2);
        assert_eq!(docs.record(&id).unwrap(), DocRecord::Unknown);
        assert!(docs.claim(&id, "a").unwrap());
        assert!(!docs.claim(&id, "b").unwrap());
        docs.delete(&id, "a").unwrap();
        assert_eq!(
            docs.record(&id).unwrap(),
            DocRecord::Deleted { owner: "a".into() }
        );
        assert!(
            !docs.claim(&id, "a").unwrap(),
            "a deleted document cannot be reclaimed"
        );
        assert!(docs.load(&id).unwrap().0.get_heads().is_empty());
    }
}
