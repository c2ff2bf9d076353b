//! Documents shaped as `fieldbook_shared::entry` defines them, written into
//! Automerge the way the PWA writes them (every string as Automerge text),
//! and seeded random edits to them.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, ROOT};
use fieldbook_shared::entry::{
    keys, Entry, EntryStatus, Listed, Note, NoteKind, RootDoc, ENTRY_SCHEMA_VERSION, ENTRY_TYPE,
    ROOT_SCHEMA_VERSION, ROOT_TYPE,
};
use fieldbook_shared::DocumentId;
use serde_json::Value;

use crate::rng::Rng;

/// A draft as the PWA makes it: every field empty but `title`, no notes.
pub fn entry(title: &str) -> Entry {
    Entry {
        kind: ENTRY_TYPE.to_owned(),
        schema_version: ENTRY_SCHEMA_VERSION,
        created_at: 0,
        updated_at: 0,
        status: EntryStatus::Draft,
        recorded_on_swe_at: None,
        title: title.to_owned(),
        activity_date: None,
        activity_type: None,
        description: String::new(),
        learning: String::new(),
        impact: String::new(),
        peer_reflection: None,
        standards: Vec::new(),
        pcf: Vec::new(),
        tags: Vec::new(),
        notes: Vec::new(),
        dismissed_flags: Vec::new(),
        evidence: Vec::new(),
        merge_marks: Default::default(),
    }
}

/// A typed note, as captured on `device`.
pub fn note(id: &str, device: &str, text: &str) -> Note {
    Note {
        id: id.to_owned(),
        created_at: 0,
        device: device.to_owned(),
        kind: NoteKind::Text,
        text: text.to_owned(),
        audio: None,
        transcript: None,
    }
}

/// A root document listing `entries`, as the server makes one and devices
/// add to it.
pub fn root(entries: &[DocumentId]) -> RootDoc {
    RootDoc {
        kind: ROOT_TYPE.to_owned(),
        schema_version: ROOT_SCHEMA_VERSION,
        entries: entries
            .iter()
            .map(|id| (id.to_string(), Listed { added_at: 1 }))
            .collect(),
        settings: Default::default(),
        shared: Default::default(),
    }
}

/// `value` (an [`Entry`], a [`RootDoc`]) as a new Automerge document, in one
/// change with a fixed time so the same value gives the same change hash
/// for the same actor.
pub fn document(value: &impl serde::Serialize, actor: Option<ActorId>) -> Automerge {
    let value = serde_json::to_value(value).expect("schema types serialise");
    let Value::Object(fields) = value else {
        panic!("a document is a map");
    };
    let mut doc = match actor {
        Some(actor) => Automerge::new().with_actor(actor),
        None => Automerge::new(),
    };
    let mut tx = doc.transaction();
    for (key, value) in &fields {
        put(&mut tx, &ROOT, key, value);
    }
    tx.commit_with(CommitOptions::default().with_time(0));
    doc
}

fn scalar(value: &Value) -> ScalarValue {
    match value {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => ScalarValue::Int(i),
            (None, Some(f)) => ScalarValue::F64(f),
            _ => unreachable!("a JSON number is an i64 or an f64"),
        },
        _ => unreachable!("only scalars here"),
    }
}

fn put(tx: &mut impl Transactable, obj: &ObjId, key: &str, value: &Value) {
    let id = match value {
        Value::Object(_) => tx.put_object(obj, key, ObjType::Map),
        Value::Array(_) => tx.put_object(obj, key, ObjType::List),
        Value::String(_) => tx.put_object(obj, key, ObjType::Text),
        other => return tx.put(obj, key, scalar(other)).expect("map put"),
    }
    .expect("map put");
    fill(tx, &id, value);
}

fn insert(tx: &mut impl Transactable, list: &ObjId, index: usize, value: &Value) {
    let id = match value {
        Value::Object(_) => tx.insert_object(list, index, ObjType::Map),
        Value::Array(_) => tx.insert_object(list, index, ObjType::List),
        Value::String(_) => tx.insert_object(list, index, ObjType::Text),
        other => return tx.insert(list, index, scalar(other)).expect("list insert"),
    }
    .expect("list insert");
    fill(tx, &id, value);
}

/// Fills a new map, list or text object with `value`'s contents.
fn fill(tx: &mut impl Transactable, id: &ObjId, value: &Value) {
    match value {
        Value::Object(fields) => fields.iter().for_each(|(k, v)| put(tx, id, k, v)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| insert(tx, id, i, v)),
        Value::String(text) => tx.splice_text(id, 0, 0, text).expect("splice"),
        _ => unreachable!("scalars are put, not filled"),
    }
}

/// An entry reduced to its type and one text field `key` holding `text`:
/// the least a device sends for a document to be an entry.
pub fn with_text(key: &str, text: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, keys::TYPE, ENTRY_TYPE).expect("map put");
    let field = tx.put_object(ROOT, key, ObjType::Text).expect("map put");
    tx.splice_text(&field, 0, 0, text).expect("splice");
    tx.commit();
    doc
}

/// `status` as documents hold it.
pub fn status_text(status: EntryStatus) -> String {
    match serde_json::to_value(status).expect("schema types serialise") {
        Value::String(text) => text,
        other => unreachable!("a status serialises as a string, not {other}"),
    }
}

/// A draft as typed in the car: a title and two notes, reduced to what the
/// benchmarks have always sent (their figures compare across versions, so
/// the document must not grow).
pub fn draft(n: usize) -> Automerge {
    let text = "Noticed how the family responded when I explained the plan in plain words; \
                try the same approach at the next review and ask the health visitor.";
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, keys::TYPE, ENTRY_TYPE).expect("map put");
    tx.put(ROOT, keys::STATUS, status_text(EntryStatus::Draft))
        .expect("map put");
    let title = tx
        .put_object(ROOT, keys::TITLE, ObjType::Text)
        .expect("map put");
    tx.splice_text(&title, 0, 0, &format!("Draft {n}: home visit reflections"))
        .expect("splice");
    let notes = tx
        .put_object(ROOT, keys::NOTES, ObjType::List)
        .expect("map put");
    for i in 0..2 {
        let note = tx.insert_object(&notes, i, ObjType::Map).expect("insert");
        let body = tx
            .put_object(&note, keys::TEXT, ObjType::Text)
            .expect("map put");
        tx.splice_text(&body, 0, 0, text).expect("splice");
    }
    tx.commit();
    doc
}

/// A root document listing `entries`, as a device would build it: the
/// list alone, as the benchmarks have always sent it.
pub fn root_listing(entries: &[DocumentId]) -> Automerge {
    let mut doc = Automerge::new();
    list_entries(&mut doc, entries);
    doc
}

/// The entry IDs a root document lists.
pub fn listed_entries(doc: &Automerge) -> Vec<DocumentId> {
    match doc.get(ROOT, keys::ENTRIES) {
        Ok(Some((_, map))) => doc
            .keys(&map)
            .filter_map(|key| DocumentId::parse(&key).ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// Lists `entries` in a root document, as a device does when it makes them.
pub fn list_entries(doc: &mut Automerge, entries: &[DocumentId]) {
    let mut tx = doc.transaction();
    let map = match tx.get(ROOT, keys::ENTRIES).expect("root map") {
        Some((_, map)) => map,
        None => tx
            .put_object(ROOT, keys::ENTRIES, ObjType::Map)
            .expect("map put"),
    };
    for id in entries {
        let item = tx
            .put_object(&map, id.to_string(), ObjType::Map)
            .expect("map put");
        tx.put(&item, keys::ADDED_AT, 1_i64).expect("map put");
    }
    // A fixed time, so the same seed gives the same change hashes.
    tx.commit_with(CommitOptions::default().with_time(0));
}

/// The text of field `key`, if it is text.
pub fn text_of(doc: &Automerge, key: &str) -> Option<String> {
    let (_, id) = doc.get(ROOT, key).ok()??;
    doc.text(&id).ok()
}

/// A fresh random document ID.
pub fn new_doc_id() -> DocumentId {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's randomness");
    DocumentId::from_bytes(bytes)
}

const WORDS: &[&str] = &[
    "supervision",
    "visit",
    "health visitor",
    "reflection",
    "podcast",
    "safeguarding",
    "learning",
    "peer",
    "impact",
    "é",
    "—",
    "🙂",
];

/// An empty draft written by `actor`, for [`edit_entry`] to edit.
pub fn new_entry(actor: ActorId) -> Automerge {
    document(&entry(""), Some(actor))
}

/// One random edit to an entry document (created by [`new_entry`]), with
/// a fixed timestamp so the same seed gives the same change hashes. Returns
/// the change, or `None` if the edit changed nothing (such as setting the
/// status it already had).
pub fn edit_entry(doc: &mut Automerge, rng: &mut Rng, device: &str) -> Option<ChangeHash> {
    let word = WORDS[rng.below(WORDS.len())];
    let mut tx = doc.transaction();
    let notes = match tx.get(ROOT, keys::NOTES).unwrap() {
        Some((_, id)) => id,
        None => tx.put_object(ROOT, keys::NOTES, ObjType::List).unwrap(),
    };
    let note_count = tx.length(&notes);
    match rng.below(10) {
        // Type into, or delete from, a long text field.
        0..=3 => {
            let field = if rng.chance(50) {
                keys::TITLE
            } else {
                keys::LEARNING
            };
            let text = match tx.get(ROOT, field).unwrap() {
                Some((_, id)) => id,
                None => tx.put_object(ROOT, field, ObjType::Text).unwrap(),
            };
            let len = tx.length(&text);
            if len > 0 && rng.chance(30) {
                let at = rng.below(len);
                let delete = 1 + rng.below((len - at).min(8));
                tx.splice_text(&text, at, delete as isize, "").unwrap();
            } else {
                let at = rng.below(len + 1);
                tx.splice_text(&text, at, 0, &format!("{word} ")).unwrap();
            }
        }
        // A new note, at the end or in between.
        4..=5 => {
            let at = rng.below(note_count + 1);
            let value = serde_json::to_value(note(&hex::encode(rng.bytes::<8>()), device, word))
                .expect("schema types serialise");
            insert(&mut tx, &notes, at, &value);
        }
        // Type into a note.
        6..=7 if note_count > 0 => {
            let note = tx.get(&notes, rng.below(note_count)).unwrap().unwrap().1;
            if let Some((_, text)) = tx.get(&note, keys::TEXT).unwrap() {
                let len = tx.length(&text);
                tx.splice_text(&text, rng.below(len + 1), 0, &format!(" {word}"))
                    .unwrap();
            }
        }
        // Remove a note.
        8 if note_count > 0 => {
            tx.delete(&notes, rng.below(note_count)).unwrap();
        }
        // A scalar field that concurrent edits conflict on.
        _ => {
            let status = [
                EntryStatus::Draft,
                EntryStatus::Ready,
                EntryStatus::Recorded,
            ][rng.below(3)];
            tx.put(ROOT, keys::STATUS, status_text(status)).unwrap();
        }
    }
    tx.commit_with(CommitOptions::default().with_time(0)).0
}

/// Whether `doc` holds every change in `hashes`.
pub fn has_all(doc: &Automerge, hashes: &[ChangeHash]) -> bool {
    hashes
        .iter()
        .all(|hash| doc.get_change_by_hash(hash).is_some())
}
