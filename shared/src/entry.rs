//! The shape of Fieldbook's Automerge documents, as ARCHITECTURE.md defines them:
//! a root document per user listing their entries, and one document per CPD
//! entry (a draft is an entry that so far has only notes).
//!
//! The PWA mirrors these types in `pwa/src/sync/schema.ts`. Both sides are
//! checked against one committed example, `shared/tests/fixtures/entry.json`:
//! the test below fails if this file drifts from it, and the PWA's
//! `schema.test.ts` fails if the TypeScript does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const ENTRY_TYPE: &str = "fieldbook/entry";
pub const ENTRY_SCHEMA_VERSION: u32 = 1;
pub const ROOT_TYPE: &str = "fieldbook/root";
pub const ROOT_SCHEMA_VERSION: u32 = 1;

/// The keys of these documents, for code that reads or writes them field by
/// field through Automerge rather than as a whole [`Entry`] or [`RootDoc`].
/// The tests below check each against the serialised types.
pub mod keys {
    pub const TYPE: &str = "type";
    pub const SCHEMA_VERSION: &str = "schemaVersion";
    /// The root document's map of entry document IDs to [`super::Listed`].
    pub const ENTRIES: &str = "entries";
    pub const ADDED_AT: &str = "addedAt";
    pub const SETTINGS: &str = "settings";
    /// The root document's map of documents shared with its user, by
    /// document ID, to [`super::SharedWithMe`].
    pub const SHARED: &str = "shared";
    pub const ROLE: &str = "role";
    pub const OWNER_DISPLAY_NAME: &str = "ownerDisplayName";
    pub const SINCE: &str = "since";
    pub const STATUS: &str = "status";
    pub const TITLE: &str = "title";
    pub const LEARNING: &str = "learning";
    pub const IMPACT: &str = "impact";
    pub const NOTES: &str = "notes";
    /// A note's keys.
    pub const ID: &str = "id";
    pub const DEVICE: &str = "device";
    pub const KIND: &str = "kind";
    pub const TEXT: &str = "text";
    pub const AUDIO: &str = "audio";
    pub const TRANSCRIPT: &str = "transcript";
}

/// A user's root document, created by the server at registration: the
/// entries the user has, by document ID, and their settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootDoc {
    #[serde(rename = "type")]
    pub kind: String,
    pub schema_version: u32,
    pub entries: BTreeMap<String, Listed>,
    /// Set by the app (the PDF's name and registration number, ...).
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Documents other users share with this one, by document ID, written
    /// by the server alone. Absent in roots nobody has shared with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shared: BTreeMap<String, SharedWithMe>,
}

/// A document another user shares with this one, as its root lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedWithMe {
    /// `writer` or `reader`.
    pub role: String,
    /// The name the owner goes by in shares (never their email).
    pub owner_display_name: String,
    /// When it was shared (ISO 8601).
    pub since: String,
}

/// An entry as its root document lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub added_at: i64,
}

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
    /// Text fields changed on two devices while apart, by field
    /// ("description", "peerReflection.text"), until the user dismisses the
    /// mark. Absent in entries written before marks existed.
    #[serde(default)]
    pub merge_marks: BTreeMap<String, MergeMark>,
}

/// A field changed on two devices while apart: each side as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeMark {
    pub sides: Vec<MergeSide>,
}

/// One side of a merge: the device and the document's heads (hex change
/// hashes) as it had them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeSide {
    pub device_id: String,
    /// The device's name, as the user knows it ("" if unknown).
    pub device: String,
    pub heads: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/entry.json");
    const ROOT_FIXTURE: &str = include_str!("../tests/fixtures/root.json");

    #[test]
    fn the_committed_root_example_is_exactly_this_schema() {
        let example: RootDoc =
            serde_json::from_str(ROOT_FIXTURE).expect("the fixture is a RootDoc");
        assert_eq!(example.kind, ROOT_TYPE);
        assert_eq!(example.schema_version, ROOT_SCHEMA_VERSION);
        let fixture: serde_json::Value = serde_json::from_str(ROOT_FIXTURE).unwrap();
        assert_eq!(serde_json::to_value(&example).unwrap(), fixture);
    }

    #[test]
    fn every_key_constant_is_a_key_of_the_schema() {
        let entry: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let root: serde_json::Value = serde_json::from_str(ROOT_FIXTURE).unwrap();
        let listed = root["entries"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap();
        let holds = |doc: &serde_json::Value, key: &str| doc.get(key).is_some();
        for key in [
            keys::TYPE,
            keys::SCHEMA_VERSION,
            keys::STATUS,
            keys::TITLE,
            keys::LEARNING,
            keys::IMPACT,
            keys::NOTES,
        ] {
            assert!(holds(&entry, key), "{key} is not an entry key");
        }
        for key in [
            keys::TYPE,
            keys::SCHEMA_VERSION,
            keys::ENTRIES,
            keys::SETTINGS,
            keys::SHARED,
        ] {
            assert!(holds(&root, key), "{key} is not a root key");
        }
        assert!(holds(listed, keys::ADDED_AT));
        let shared = root["shared"].as_object().unwrap().values().next().unwrap();
        for key in [keys::ROLE, keys::OWNER_DISPLAY_NAME, keys::SINCE] {
            assert!(
                holds(shared, key),
                "{key} is not a key of a shared document"
            );
        }
        let note = &entry["notes"][0];
        for key in [
            keys::ID,
            keys::DEVICE,
            keys::KIND,
            keys::TEXT,
            keys::AUDIO,
            keys::TRANSCRIPT,
        ] {
            assert!(holds(note, key), "{key} is not a note key");
        }
    }

    #[test]
    fn the_committed_example_is_exactly_this_schema() {
        let example: Entry = serde_json::from_str(FIXTURE).expect("the fixture is an Entry");
        assert_eq!(example.kind, ENTRY_TYPE);
        assert_eq!(example.schema_version, ENTRY_SCHEMA_VERSION);
        // Round-tripping gives the same JSON: no field the struct lacks, none missing.
        let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        assert_eq!(serde_json::to_value(&example).unwrap(), fixture);
    }

    #[test]
    fn a_merge_mark_as_the_app_writes_it() {
        let mut entry: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let side = |device: &str, head: &str| serde_json::json!({ "deviceId": format!("id-{device}"), "device": device, "heads": [head] });
        entry["mergeMarks"] = serde_json::json!({ "description": { "sides": [side("Phone", "ab12"), side("Laptop", "cd34")] } });
        let parsed: Entry = serde_json::from_value(entry).expect("an entry with a mark");
        let mark = &parsed.merge_marks["description"];
        assert_eq!(mark.sides[1].device, "Laptop");
        assert_eq!(mark.sides[0].heads, ["ab12"]);
    }

    #[test]
    fn an_entry_from_before_merge_marks_has_none() {
        let mut entry: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        entry.as_object_mut().unwrap().remove("mergeMarks");
        let parsed: Entry = serde_json::from_value(entry).expect("an older entry");
        assert!(parsed.merge_marks.is_empty());
    }
}
