//! A device's copy of documents and its sync state with the server, driven
//! as automerge-repo's DocSynchronizer drives them. No I/O: messages go in,
//! and what to send back comes out, so the same device runs over a real
//! WebSocket ([`crate::conn`]) and over the in-memory network.

use std::collections::BTreeMap;

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;

/// A sync message from the server that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailed {
    #[error("unreadable sync message: {0}")]
    Decode(#[from] sync::ReadMessageError),
    #[error("sync message not applied: {0}")]
    Apply(#[from] automerge::AutomergeError),
}

/// One document and its sync state with the server.
pub struct Replica {
    pub id: DocumentId,
    pub doc: Automerge,
    pub state: sync::State,
}

/// A sync message to send for a document: a `request` if we have nothing
/// of it yet, otherwise a `sync`.
#[derive(Debug)]
pub struct Outgoing {
    pub document_id: DocumentId,
    pub data: Vec<u8>,
    pub request: bool,
}

impl Outgoing {
    /// As a protocol message from `sender` to `target`.
    pub fn message(self, sender: &str, target: &str) -> Message {
        let (sender_id, target_id) = (sender.to_owned(), target.to_owned());
        let (document_id, data) = (self.document_id, self.data);
        if self.request {
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        }
    }
}

impl Replica {
    pub fn new(id: DocumentId, doc: Automerge) -> Self {
        Self {
            id,
            doc,
            state: sync::State::new(),
        }
    }

    pub fn empty(id: DocumentId) -> Self {
        Self::new(id, Automerge::new())
    }

    /// The next message the protocol has to send, if any; `first` marks
    /// the opening one, sent as a `request` when we hold nothing.
    pub fn next_message(&mut self, first: bool) -> Option<Outgoing> {
        let request = first && self.doc.get_heads().is_empty();
        let message = self.doc.generate_sync_message(&mut self.state)?;
        Some(Outgoing {
            document_id: self.id,
            data: message.encode(),
            request,
        })
    }

    /// Applies a sync message's payload from the server.
    pub fn receive(&mut self, data: &[u8]) -> Result<(), SyncFailed> {
        let message = sync::Message::decode(data)?;
        Ok(self.doc.receive_sync_message(&mut self.state, message)?)
    }

    /// Starts the sync over, as a device does on a new connection.
    pub fn reset(&mut self) {
        self.state = sync::State::new();
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

    /// The sync has reached its fixed point: the server has all our changes
    /// and we have all of its.
    pub fn in_step(&self) -> bool {
        in_step(&self.doc, &self.state)
    }
}

/// Whether the sync of `doc` in `state` has reached its fixed point.
pub fn in_step(doc: &Automerge, state: &sync::State) -> bool {
    let ours = doc.get_heads();
    state.shared_heads == ours && state.their_heads.as_deref() == Some(&ours[..])
}

/// What a message from the server meant for a device's documents.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// A sync message for one of ours, applied.
    Synced(DocumentId),
    /// The server says it does not have (or will not give us) one of ours.
    Unavailable(DocumentId),
    /// Nothing about our documents.
    Other,
}

/// A device's documents, by ID.
#[derive(Default)]
pub struct Replicas(pub BTreeMap<DocumentId, Replica>);

impl Replicas {
    pub fn insert(&mut self, replica: Replica) {
        self.0.insert(replica.id, replica);
    }

    /// The opening message of every document.
    pub fn open_all(&mut self) -> Vec<Outgoing> {
        self.0
            .values_mut()
            .filter_map(|replica| replica.next_message(true))
            .collect()
    }

    /// Whatever a document now has to say (after a local change).
    pub fn changes(&mut self, id: DocumentId) -> Option<Outgoing> {
        self.0.get_mut(&id)?.next_message(false)
    }

    /// Applies one message from the server; returns what it meant and the
    /// answer to send, if any.
    pub fn handle(&mut self, message: &Message) -> Result<(Heard, Option<Outgoing>), SyncFailed> {
        match message {
            Message::Sync {
                document_id, data, ..
            } => {
                let Some(replica) = self.0.get_mut(document_id) else {
                    return Ok((Heard::Other, None));
                };
                replica.receive(data)?;
                Ok((Heard::Synced(*document_id), replica.next_message(false)))
            }
            Message::DocUnavailable { document_id, .. } if self.0.contains_key(document_id) => {
                Ok((Heard::Unavailable(*document_id), None))
            }
            _ => Ok((Heard::Other, None)),
        }
    }

    /// Starts every document's sync over (a new connection).
    pub fn reset(&mut self) {
        self.0.values_mut().for_each(Replica::reset);
    }
}
