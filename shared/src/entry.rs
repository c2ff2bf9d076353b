//! The shape of Fieldbook's Automerge documents, as ARCHITECTURE.md defines them:
//! a root document per user listing their entries, and one document per CPD
//! entry (a draft is an entry that so far has only notes).
//!
//! The PWA mirrors these types in `pwa/src/sync/schema.ts`. Both sides are
//! checked against one committed example, `shared/tests/fixtures/entry.json`:
//! the test below fails if this file drifts from it, and the PWA's
//! `schema.test.ts` fails if the TypeScript does.

use serde::{Deserialize, Serialize};

pub const ENTRY_TYPE: &str = "fieldbook/entry";
pub const ENTRY_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    Draft,
    Ready,
    Recorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    Text,
    Voice,
}

/// Times are milliseconds since the Unix epoch; dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: String,
    pub created_at: i64,
    /// The name of the device the note was captured on.
    pub device: String,
    pub kind: NoteKind,
    pub text: String,
    pub audio: Option<String>,
    pub transcript: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerReflection {
    pub peer_role: String,
    pub discussed_on: Option<String>,
    pub text: String,
}

/// A file attached to an entry as evidence (a certificate, slides, a photo
/// of a handout). The file itself is on the server under `id`
/// (`/api/evidence/{id}/file`); the entry lists it so the list syncs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub id: String,
    /// The file's name as the user chose it.
    pub name: String,
    pub mime_type: String,
    pub size: u64,
    pub added_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(rename = "type")]
    pub kind: String,
    pub schema_version: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub status: EntryStatus,
    pub recorded_on_swe_at: Option<i64>,
    pub title: String,
    pub activity_date: Option<String>,
    pub activity_type: Option<String>,
    pub description: String,
    pub learning: String,
    pub impact: String,
    pub peer_reflection: Option<PeerReflection>,
    pub standards: Vec<String>,
    pub pcf: Vec<String>,
    pub tags: Vec<String>,
    pub notes: Vec<Note>,
    /// Anonymisation flags the user looked at and kept ("kind:text").
    pub dismissed_flags: Vec<String>,
    /// Absent in entries made before evidence could be attached.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/entry.json");

    #[test]
    fn the_committed_example_is_exactly_this_schema() {
        let example: Entry = serde_json::from_str(FIXTURE).expect("the fixture is an Entry");
        assert_eq!(example.kind, ENTRY_TYPE);
        assert_eq!(example.schema_version, ENTRY_SCHEMA_VERSION);
        // Round-tripping gives the same JSON: no field the struct lacks, none missing.
        let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        assert_eq!(serde_json::to_value(&example).unwrap(), fixture);
    }
}
