//! A simulated device of one user, for the in-memory [`crate::network`]:
//! its copy of the root document and of every entry the root lists, synced
//! as automerge-repo syncs them, with the edits a person makes (new
//! entries, typing, notes) and the ephemeral messages an open editor sends.
//! No I/O: what it has to say comes back as values for the network to carry.

use std::collections::HashSet;

use automerge::{ActorId, Automerge};
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;

use crate::entry::{edit_entry, list_entries, listed_entries, new_entry};
use crate::replica::{Outgoing, Replica, Replicas};
use crate::rng::Rng;

/// An ephemeral message as its sender numbered it: (sender, session, count).
pub type EphemeralKey = (String, String, u64);

pub struct Device {
    /// The user it is signed in as.
    pub user: String,
    /// Its peer ID, also the name its notes carry.
    pub name: String,
    /// Set for a device that keeps its documents (the PWA's IndexedDB), so
    /// the server keeps its sync state between connections.
    pub storage_id: Option<String>,
    pub actor: ActorId,
    /// The user's root document, whose list says which entries to fetch.
    pub root: DocumentId,
    pub docs: Replicas,
    /// Ephemeral messages heard, each of which must arrive once at most.
    heard: HashSet<EphemeralKey>,
    /// Ephemeral session: a new one on every connection, as a page reload.
    session: u64,
    sent_ephemeral: u64,
}

impl Device {
    /// A device of `user` that knows only the ID of the user's root document.
    pub fn new(
        user: &str,
        name: &str,
        storage_id: Option<String>,
        actor: ActorId,
        root: DocumentId,
    ) -> Self {
        let mut docs = Replicas::default();
        docs.insert(Replica::new(
            root,
            Automerge::new().with_actor(actor.clone()),
        ));
        Self {
            user: user.to_owned(),
            name: name.to_owned(),
            storage_id,
            actor,
            root,
            docs,
            heard: HashSet::new(),
            session: 0,
            sent_ephemeral: 0,
        }
    }

    /// A new connection: every sync starts over, and every document's
    /// opening message goes out (a `request` for those it holds nothing of).
    pub fn connected(&mut self) -> Vec<Outgoing> {
        self.docs.reset();
        self.session += 1;
        self.docs.open_all()
    }

    /// Applies one message from the server; returns the answers. Entries the
    /// root lists that the device lacks are asked for at once.
    pub fn receive(&mut self, message: &Message) -> Vec<Outgoing> {
        match message {
            Message::Ephemeral {
                sender_id,
                session_id,
                count,
                ..
            } => {
                assert_ne!(
                    sender_id, &self.name,
                    "{}: its own ephemeral came back",
                    self.name
                );
                let key = (sender_id.clone(), session_id.clone(), *count);
                assert!(
                    self.heard.insert(key.clone()),
                    "{}: ephemeral {key:?} arrived twice",
                    self.name
                );
                return Vec::new();
            }
            Message::Error { message, .. } => {
                panic!(
                    "{}: the server refused a well-behaved device: {message}",
                    self.name
                )
            }
            _ => {}
        }
        let (_, answer) = self
            .docs
            .handle(message)
            .unwrap_or_else(|err| panic!("{}: {err}", self.name));
        let mut out: Vec<Outgoing> = answer.into_iter().collect();
        if matches!(message, Message::Sync { document_id, .. } if *document_id == self.root) {
            out.extend(self.fetch_listed());
        }
        out
    }

    /// Empty copies of entries the root lists and the device lacks, and
    /// their `request`s.
    fn fetch_listed(&mut self) -> Vec<Outgoing> {
        let listed = listed_entries(&self.docs.0[&self.root].doc);
        let mut out = Vec::new();
        for id in listed {
            if !self.docs.0.contains_key(&id) {
                out.extend(self.follow(id));
            }
        }
        out
    }

    /// Makes a new entry and lists it in the root document; returns its ID.
    /// Not before the root has come from the server: a list made in an
    /// empty root would be another object than the server's, and the two
    /// would conflict rather than merge.
    pub fn create_entry(&mut self, rng: &mut Rng) -> Option<DocumentId> {
        let root = &mut self.docs.0.get_mut(&self.root).expect("the root").doc;
        if root.get_heads().is_empty() {
            return None;
        }
        let id = DocumentId::from_bytes(rng.bytes());
        list_entries(root, &[id]);
        self.docs
            .insert(Replica::new(id, new_entry(self.actor.clone())));
        Some(id)
    }

    /// Starts following a document it has been given the ID of (shared by
    /// another user); returns its `request`.
    pub fn follow(&mut self, id: DocumentId) -> Option<Outgoing> {
        let doc = Automerge::new().with_actor(self.actor.clone());
        let mut replica = Replica::new(id, doc);
        let request = replica.next_message(true);
        self.docs.insert(replica);
        request
    }

    /// A few random edits to a random entry it has; the entry edited, if it
    /// has any.
    pub fn edit_some_entry(&mut self, rng: &mut Rng) -> Option<DocumentId> {
        let entries: Vec<DocumentId> = self
            .docs
            .0
            .iter()
            .filter(|(id, replica)| **id != self.root && !replica.doc.get_heads().is_empty())
            .map(|(id, _)| *id)
            .collect();
        if entries.is_empty() {
            return None;
        }
        let id = entries[rng.below(entries.len())];
        let doc = &mut self.docs.0.get_mut(&id).expect("listed above").doc;
        for _ in 0..1 + rng.below(4) {
            edit_entry(doc, rng, &self.name);
        }
        Some(id)
    }

    /// What document `id` has to say after a local change, if anything.
    pub fn changes(&mut self, id: DocumentId) -> Option<Outgoing> {
        self.docs.changes(id)
    }

    /// The next ephemeral message of this device about `document_id`, to
    /// `server_id`.
    pub fn ephemeral(&mut self, document_id: DocumentId, server_id: &str) -> Message {
        self.sent_ephemeral += 1;
        Message::Ephemeral {
            sender_id: self.name.clone(),
            target_id: server_id.to_owned(),
            document_id,
            session_id: format!("{}-session-{}", self.name, self.session),
            count: self.sent_ephemeral,
            data: vec![0xa0],
        }
    }

    /// How many ephemeral messages from others it has heard.
    pub fn ephemeral_heard(&self) -> usize {
        self.heard.len()
    }
}
