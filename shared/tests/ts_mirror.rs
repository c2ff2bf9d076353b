//! The PWA's TypeScript mirror of the schema (`pwa/src/sync/schema.ts`)
//! against this crate's: the same document types and versions, and the
//! same keys in an entry, a note and a root document. The PWA's own
//! `schema.test.ts` checks its new drafts against the committed example;
//! this checks the declarations themselves, so neither side can drift.

use fieldbook_shared::entry::{
    RootDoc, ENTRY_SCHEMA_VERSION, ENTRY_TYPE, ROOT_SCHEMA_VERSION, ROOT_TYPE,
};

const SCHEMA_TS: &str = include_str!("../../pwa/src/sync/schema.ts");
const ENTRY: &str = include_str!("fixtures/entry.json");
const ROOT: &str = include_str!("fixtures/root.json");

/// The field names declared in `export interface NAME { ... }`.
fn interface_keys(name: &str) -> Vec<String> {
    let start = format!("export interface {name} {{");
    let body = SCHEMA_TS
        .split_once(&start)
        .unwrap_or_else(|| panic!("schema.ts declares no interface {name}"))
        .1;
    let body = &body[..body.find("\n}").expect("the interface ends")];
    let mut keys: Vec<String> = body
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (key, _) = line.split_once(':')?;
            let key = key.trim_end_matches('?');
            key.chars()
                .all(|c| c.is_ascii_alphanumeric())
                .then(|| key.to_owned())
        })
        .collect();
    keys.sort();
    keys
}

fn json_keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[test]
fn the_typescript_constants_are_the_rust_ones() {
    assert!(
        SCHEMA_TS.contains(&format!("export const ENTRY_TYPE = \"{ENTRY_TYPE}\";")),
        "schema.ts's ENTRY_TYPE is not {ENTRY_TYPE}"
    );
    assert!(
        SCHEMA_TS.contains(&format!(
            "export const ENTRY_SCHEMA_VERSION = {ENTRY_SCHEMA_VERSION};"
        )),
        "schema.ts's ENTRY_SCHEMA_VERSION is not {ENTRY_SCHEMA_VERSION}"
    );
    assert!(
        SCHEMA_TS.contains(&format!("type: \"{ROOT_TYPE}\";")),
        "schema.ts's RootDoc type is not {ROOT_TYPE}"
    );
    let root: RootDoc = serde_json::from_str(ROOT).unwrap();
    assert_eq!(root.schema_version, ROOT_SCHEMA_VERSION);
}

#[test]
fn the_typescript_interfaces_have_the_rust_keys() {
    let entry: serde_json::Value = serde_json::from_str(ENTRY).unwrap();
    let root: serde_json::Value = serde_json::from_str(ROOT).unwrap();
    assert_eq!(interface_keys("EntryDoc"), json_keys(&entry));
    assert_eq!(interface_keys("Note"), json_keys(&entry["notes"][0]));
    assert_eq!(interface_keys("Evidence"), json_keys(&entry["evidence"][0]));
    assert_eq!(
        interface_keys("PeerReflection"),
        json_keys(&entry["peerReflection"])
    );
    assert_eq!(interface_keys("RootDoc"), json_keys(&root));
}
