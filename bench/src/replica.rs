//! A device's copy of documents and its sync state with the server, driven
//! as automerge-repo's DocSynchronizer drives them, with convergence checks.

use std::collections::HashMap;

use anyhow::Context;
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;

use crate::conn::Conn;

pub struct Replica {
    pub doc: Automerge,
    pub state: sync::State,
}

impl Replica {
    pub fn new(doc: Automerge) -> Self {
        Self {
            doc,
            state: sync::State::new(),
        }
    }

    /// The server has acknowledged everything we have.
    pub fn pushed(&self) -> bool {
        self.state.shared_heads == self.doc.get_heads()
    }

    /// We have everything the server told us it has (and it has something).
    pub fn fetched(&self) -> bool {
        let heads = self.doc.get_heads();
        !heads.is_empty() && self.state.their_heads.as_ref() == Some(&heads)
    }
}

/// Documents of one device, by ID.
#[derive(Default)]
pub struct Replicas(pub HashMap<DocumentId, Replica>);

impl Replicas {
    /// Sends the opening message for every document: `sync` for those we
    /// have, `request` for those we don't.
    pub async fn open_all(&mut self, conn: &mut Conn) -> anyhow::Result<()> {
        for (id, replica) in self.0.iter_mut() {
            let request = replica.doc.get_heads().is_empty();
            if let Some(message) = replica.doc.generate_sync_message(&mut replica.state) {
                conn.sync(*id, message.encode(), request).await?;
            }
        }
        Ok(())
    }

    /// Sends whatever a document now has to say (after a local change).
    pub async fn send_changes(&mut self, conn: &mut Conn, id: DocumentId) -> anyhow::Result<()> {
        let replica = self.0.get_mut(&id).context("unknown document")?;
        if let Some(message) = replica.doc.generate_sync_message(&mut replica.state) {
            conn.sync(id, message.encode(), false).await?;
        }
        Ok(())
    }

    /// Applies one message from the server and answers it. Returns the
    /// document it was about, if it was a sync message for one of ours.
    pub async fn handle(
        &mut self,
        conn: &mut Conn,
        message: Message,
    ) -> anyhow::Result<Option<DocumentId>> {
        let Message::Sync {
            document_id, data, ..
        } = message
        else {
            if let Message::DocUnavailable { document_id, .. } = message {
                anyhow::bail!("server says {document_id} is unavailable");
            }
            return Ok(None);
        };
        let Some(replica) = self.0.get_mut(&document_id) else {
            return Ok(None);
        };
        replica
            .doc
            .receive_sync_message(&mut replica.state, sync::Message::decode(&data)?)?;
        if let Some(reply) = replica.doc.generate_sync_message(&mut replica.state) {
            conn.sync(document_id, reply.encode(), false).await?;
        }
        Ok(Some(document_id))
    }

    /// Runs the protocol until `done` holds for every document.
    pub async fn converge(
        &mut self,
        conn: &mut Conn,
        done: fn(&Replica) -> bool,
    ) -> anyhow::Result<()> {
        let mut pending = self.0.values().filter(|r| !done(r)).count();
        while pending > 0 {
            let message = conn.recv().await?;
            if let Some(id) = self.handle(conn, message).await? {
                let replica = &self.0[&id];
                if done(replica) {
                    pending = self.0.values().filter(|r| !done(r)).count();
                }
            }
        }
        Ok(())
    }
}

/// A draft as typed in the car: a title and two notes.
pub fn draft(n: usize) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "type", "fieldbook/entry").expect("map put");
    tx.put(ROOT, "status", "draft").expect("map put");
    let title = tx
        .put_object(ROOT, "title", ObjType::Text)
        .expect("map put");
    tx.splice_text(&title, 0, 0, &format!("Draft {n}: home visit reflections"))
        .expect("splice");
    let notes = tx
        .put_object(ROOT, "notes", ObjType::List)
        .expect("map put");
    for i in 0..2 {
        let note = tx.insert_object(&notes, i, ObjType::Map).expect("insert");
        let text = tx
            .put_object(&note, "text", ObjType::Text)
            .expect("map put");
        tx.splice_text(
            &text,
            0,
            0,
            "Noticed how the family responded when I explained the plan in plain words; \
             try the same approach at the next review and ask the health visitor.",
        )
        .expect("splice");
    }
    tx.commit();
    doc
}

/// A root document listing `entries`, as a device would build it.
pub fn root_listing(entries: &[DocumentId]) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let map = tx
        .put_object(ROOT, "entries", ObjType::Map)
        .expect("map put");
    for id in entries {
        let item = tx
            .put_object(&map, id.to_string(), ObjType::Map)
            .expect("map put");
        tx.put(&item, "addedAt", 1_i64).expect("map put");
    }
    tx.commit();
    doc
}

/// The entry IDs a root document lists.
pub fn listed_entries(doc: &Automerge) -> Vec<DocumentId> {
    match doc.get(ROOT, "entries") {
        Ok(Some((_, map))) => doc
            .keys(&map)
            .filter_map(|key| DocumentId::parse(&key).ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// A fresh random document ID.
pub fn new_doc_id() -> DocumentId {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("randomness");
    DocumentId::from_bytes(bytes)
}
