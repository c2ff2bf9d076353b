//! One recording's metadata and job state, stored as JSON beside its bytes.

use serde::{Deserialize, Serialize};

/// Where a recording is on its way to a transcript. Serialised as the
/// strings of the HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AudioState {
    Uploading,
    Queued,
    Transcribing,
    Done,
    Failed,
    /// Uploaded, but the server has no speech model configured: kept until
    /// one is (then queued at start-up) or the user retries.
    NoModel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioRecord {
    pub audio_id: String,
    pub user_id: String,
    pub document_id: String,
    pub note_id: String,
    pub mime_type: String,
    pub size: u64,
    pub sha256: String,
    pub received: u64,
    pub state: AudioState,
    /// A plain reason when `state` is failed.
    pub error: Option<String>,
    /// Kept until it is written into the note (and after, for export).
    pub transcript: Option<String>,
    /// Whether the transcript is in the entry document yet.
    pub transcript_written: bool,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub done_at: Option<u64>,
}

/// What `GET /api/audio/{id}` and the upload calls answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioStatus {
    pub audio_id: String,
    pub received: u64,
    pub size: u64,
    pub state: AudioState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl crate::uploads::Upload for AudioRecord {
    const KEYS: crate::store::keys::UploadKeys = crate::store::keys::AUDIO;
    fn user_id(&self) -> &str {
        &self.user_id
    }
    fn id(&self) -> &str {
        &self.audio_id
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
        self.state == AudioState::Uploading
    }
}

impl AudioRecord {
    pub fn status(&self) -> AudioStatus {
        AudioStatus {
            audio_id: self.audio_id.clone(),
            received: self.received,
            size: self.size,
            state: self.state,
            error: self.error.clone(),
        }
    }
}

/// Audio IDs are made by clients, as every upload's are.
pub use crate::uploads::is_valid_upload_id as is_valid_audio_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_the_contract_strings() {
        let json = serde_json::to_string(&AudioState::NoModel).unwrap();
        assert_eq!(json, "\"no-model\"");
    }
}
