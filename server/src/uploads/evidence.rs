//! Evidence attached to an entry: a certificate, slides, a photo of a
//! handout. Stored per user in the same resumable, hash-checked way as
//! voice recordings (`crate::uploads`), within its own size limit and
//! quota. The entry document lists its evidence (`evidence: [{id, name,
//! mimeType, size, addedAt}]`) so the list syncs; the server holds the
//! files. Deleting the entry deletes its evidence.

use serde::{Deserialize, Serialize};

use crate::store::keys;
use crate::uploads::{Upload, UploadStore};

/// The file types users attach as evidence (the PWA's list, with the file
/// name endings it maps them from, is `pwa/src/evidence/types.ts`). Files
/// are served back with one of these types only, never one a client made
/// up, and always as a download.
pub const ACCEPTED_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.text",
];

/// The accepted MIME type `mime_type` names (parameters and case aside).
pub fn canonical_type(mime_type: &str) -> Option<&'static str> {
    let essence = mime_type.split(';').next().unwrap_or("").trim();
    ACCEPTED_TYPES
        .iter()
        .copied()
        .find(|accepted| essence.eq_ignore_ascii_case(accepted))
}

/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A file name as the user gave it, if it is one we can keep and show: not
/// empty, not too long, no control characters or path separators.
pub fn is_valid_name(name: &str) -> bool {
    let trimmed = name.trim();
    !trimmed.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
}

/// Evidence IDs are made by clients, as every upload's are.
pub use super::is_valid_upload_id as is_valid_evidence_id;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceRecord {
    pub evidence_id: String,
    pub user_id: String,
    pub document_id: String,
    pub name: String,
    /// One of [`ACCEPTED_TYPES`].
    pub mime_type: String,
    pub size: u64,
    pub sha256: String,
    pub received: u64,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
}

/// Where an evidence file's upload is: `uploading` until every byte is in
/// and matches its SHA-256, then `stored`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceState {
    Uploading,
    Stored,
}

/// What `GET /api/evidence/{id}` and the upload calls answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceStatus {
    pub evidence_id: String,
    pub document_id: String,
    pub name: String,
    pub mime_type: String,
    pub received: u64,
    pub size: u64,
    pub state: EvidenceState,
}

impl EvidenceRecord {
    pub fn state(&self) -> EvidenceState {
        if self.received == self.size {
            EvidenceState::Stored
        } else {
            EvidenceState::Uploading
        }
    }

    pub fn status(&self) -> EvidenceStatus {
        EvidenceStatus {
            evidence_id: self.evidence_id.clone(),
            document_id: self.document_id.clone(),
            name: self.name.clone(),
            mime_type: self.mime_type.clone(),
            received: self.received,
            size: self.size,
            state: self.state(),
        }
    }
}

impl Upload for EvidenceRecord {
    const KEYS: keys::UploadKeys = keys::EVIDENCE;
    fn user_id(&self) -> &str {
        &self.user_id
    }
    fn id(&self) -> &str {
        &self.evidence_id
    }
    fn document_id(&self) -> &str {
        &self.document_id
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn sha256(&self) -> &str {
        &self.sha256
    }
    fn received(&self) -> u64 {
        self.received
    }
    fn set_received(&mut self, received: u64) {
        self.received = received;
    }
    fn is_uploading(&self) -> bool {
        self.received < self.size
    }
}

pub type EvidenceStore = UploadStore<EvidenceRecord>;

/// The size limit and quota, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
}

/// The evidence service the HTTP handlers share.
pub struct Evidence {
    pub store: EvidenceStore,
    pub limits: Limits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_matched_without_parameters_or_case() {
        assert_eq!(canonical_type("application/PDF"), Some("application/pdf"));
        assert_eq!(canonical_type("image/jpeg; q=1"), Some("image/jpeg"));
        assert_eq!(canonical_type("text/html"), None);
        assert_eq!(canonical_type("image/svg+xml"), None);
        assert_eq!(canonical_type(""), None);
    }

    #[test]
    fn names_are_bounded_and_plain() {
        assert!(is_valid_name("Safeguarding certificate 2026.pdf"));
        assert!(is_valid_name("Été – notes.docx"));
        assert!(!is_valid_name("   "));
        assert!(!is_valid_name("../etc/passwd"));
        assert!(!is_valid_name("a\nb.pdf"));
        assert!(!is_valid_name(&"a".repeat(MAX_NAME_CHARS + 1)));
    }
}
