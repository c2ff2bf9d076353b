//! Every storage key the server writes, built in one place so the layout is
//! easy to read and prefixes cannot collide.
//!
//! | key                                   | value                          |
//! |---------------------------------------|--------------------------------|
//! | `server/storage-id`                   | this server's stable storageId |
//! | `server/format-version`               | data format version (decimal)  |
//! | `user/{userId}`                       | account record (JSON)          |
//! | `disabled-user/{userId}`              | a disabled account's record    |
//! | `email/{email}`                       | userId                         |
//! | `device/{deviceId}`                   | device record (JSON)           |
//! | `token/{sha256 of token}`             | deviceId                       |
//! | `user-device/{userId}/{deviceId}`     | empty (index)                  |
//! | `doc-owner/{documentId}`              | userId                         |
//! | `doc-tomb/{documentId}`               | tombstone (JSON)               |
//! | `doc-chunk/{documentId}/{s|i}/{hash}` | snapshot or incremental chunk  |
//! | `doc-sync/{documentId}/{storageId}`   | encoded automerge sync state   |
//! | `user-doc/{userId}/{documentId}`      | empty (index of owned docs)    |
//! | `audio/{userId}/{audioId}`            | recording and job record (JSON)|
//! | `audio-data/{userId}/{audioId}/{off}` | recording bytes from offset    |
//! | `evidence/{userId}/{evidenceId}`      | evidence file's record (JSON)  |
//! | `evidence-data/{userId}/{id}/{off}`   | evidence bytes from offset     |
//! | `doc-member/{documentId}/{userId}`    | membership (JSON)              |
//! | `user-member/{userId}/{documentId}`   | empty (index of shared docs)   |
//! | `invitation/{invitationId}`           | invitation (JSON)              |
//! | `invitation-token/{sha256 of token}`  | invitationId                   |
//! | `doc-invitation/{docId}/{invitationId}` | empty (index)                |
//!
//! The sharing keys are built in `crate::sharing::keys`, beside the code
//! that alone reads and writes them.

use fieldbook_shared::DocumentId;

pub const SERVER_STORAGE_ID: &str = "server/storage-id";
/// Which layout the data is in; see `crate::admin::format`.
pub const FORMAT_VERSION: &str = "server/format-version";

pub fn user(user_id: &str) -> String {
    format!("user/{user_id}")
}

/// Where an account's record waits while it is disabled: with no record at
/// `user/{userId}`, its tokens and its password stop working (see
/// `crate::admin::users`).
pub fn disabled_user(user_id: &str) -> String {
    format!("disabled-user/{user_id}")
}

pub fn email(email: &str) -> String {
    format!("email/{email}")
}

pub fn device(device_id: &str) -> String {
    format!("device/{device_id}")
}

pub fn token(token_hash: &str) -> String {
    format!("token/{token_hash}")
}

pub fn user_devices(user_id: &str) -> String {
    format!("user-device/{user_id}/")
}

pub fn user_device(user_id: &str, device_id: &str) -> String {
    format!("user-device/{user_id}/{device_id}")
}

pub fn doc_owner(doc: &DocumentId) -> String {
    format!("doc-owner/{doc}")
}

pub fn doc_tombstone(doc: &DocumentId) -> String {
    format!("doc-tomb/{doc}")
}

pub fn doc_chunks(doc: &DocumentId) -> String {
    format!("doc-chunk/{doc}/")
}

pub fn doc_chunk(doc: &DocumentId, kind: ChunkKind, hash: &str) -> String {
    let kind = match kind {
        ChunkKind::Snapshot => 's',
        ChunkKind::Incremental => 'i',
    };
    format!("doc-chunk/{doc}/{kind}/{hash}")
}

pub fn doc_sync_states(doc: &DocumentId) -> String {
    format!("doc-sync/{doc}/")
}

pub fn doc_sync_state(doc: &DocumentId, storage_id: &str) -> String {
    format!("doc-sync/{doc}/{storage_id}")
}

pub fn user_docs(user_id: &str) -> String {
    format!("user-doc/{user_id}/")
}

pub fn user_doc(user_id: &str, doc: &DocumentId) -> String {
    format!("user-doc/{user_id}/{doc}")
}

/// Where one kind of uploaded file is kept (see `crate::uploads`): records
/// under `{records}{userId}/{id}`, bytes under `{data}{userId}/{id}/{offset}`.
#[derive(Debug, Clone, Copy)]
pub struct UploadKeys {
    pub records: &'static str,
    pub data: &'static str,
}

pub const AUDIO: UploadKeys = UploadKeys {
    records: "audio/",
    data: "audio-data/",
};

pub const EVIDENCE: UploadKeys = UploadKeys {
    records: "evidence/",
    data: "evidence-data/",
};

impl UploadKeys {
    pub fn user_records(&self, user_id: &str) -> String {
        format!("{}{user_id}/", self.records)
    }

    pub fn record(&self, user_id: &str, id: &str) -> String {
        format!("{}{user_id}/{id}", self.records)
    }

    pub fn user_chunks(&self, user_id: &str) -> String {
        format!("{}{user_id}/", self.data)
    }

    pub fn chunks(&self, user_id: &str, id: &str) -> String {
        format!("{}{user_id}/{id}/", self.data)
    }

    /// Zero-padded so chunks sort by offset.
    pub fn chunk(&self, user_id: &str, id: &str, offset: u64) -> String {
        format!("{}{user_id}/{id}/{offset:016}", self.data)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Snapshot,
    Incremental,
}

/// Reads the chunk kind back from a key made by [`doc_chunk`].
pub fn chunk_kind(key: &[u8]) -> Option<ChunkKind> {
    let text = std::str::from_utf8(key).ok()?;
    match text.rsplit('/').nth(1)? {
        "s" => Some(ChunkKind::Snapshot),
        "i" => Some(ChunkKind::Incremental),
        _ => None,
    }
}
