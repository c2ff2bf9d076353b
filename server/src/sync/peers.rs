//! The peers connected to the hub: who is at the other end of each
//! connection, the key the hub knows them by, and the registry that
//! delivers messages to their connections.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use fieldbook_shared::wire::{Message, PeerId};
use fieldbook_shared::DocumentId;
use tokio::sync::mpsc::UnboundedSender;

/// What the hub asks a connection to do.
#[derive(Debug)]
pub enum Outbound {
    Send(Message),
    /// Close the connection normally (device revoked, replaced, server stopping).
    Close(&'static str),
}

/// Who is at the other end of a connection, as established by authentication
/// and the `join` message.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub peer_id: PeerId,
    pub conn_id: u64,
    pub user_id: String,
    pub device_id: String,
    /// Set for peers that keep their own storage; their sync state is kept.
    pub storage_id: Option<String>,
}

/// A peer ID within one user's devices. Clients choose their peer IDs, so
/// two users' devices may well give the same one (by chance, or because one
/// copies the other's): keyed by user, neither can displace, silence or
/// lock out the other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerKey {
    pub user_id: String,
    pub peer_id: PeerId,
}

impl PeerInfo {
    pub fn key(&self) -> PeerKey {
        PeerKey {
            user_id: self.user_id.clone(),
            peer_id: self.peer_id.clone(),
        }
    }
}

/// One connection of a peer: a message is delivered only if it is still
/// the connection registered under the peer's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub peer: PeerKey,
    pub conn_id: u64,
}

impl Recipient {
    pub fn of(peer: &PeerInfo) -> Self {
        Self {
            peer: peer.key(),
            conn_id: peer.conn_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("that peer ID is in use by another of your devices")]
pub struct PeerIdTaken;

/// A connection that left, with the documents it was subscribed to.
pub struct Gone {
    pub info: PeerInfo,
    pub docs: HashSet<DocumentId>,
}

struct PeerEntry {
    info: PeerInfo,
    tx: UnboundedSender<Outbound>,
    docs: HashSet<DocumentId>,
}

/// The connections registered, each under its peer's key.
#[derive(Default)]
pub struct Peers {
    entries: Mutex<HashMap<PeerKey, PeerEntry>>,
}

impl Peers {
    /// Binds `info.peer_id` to this connection, among its user's peers. The
    /// same device reconnecting replaces its old connection, which is asked
    /// to close and returned; another device of the same user can never
    /// take a peer ID that is in use.
    pub fn register(
        &self,
        info: PeerInfo,
        tx: UnboundedSender<Outbound>,
    ) -> Result<Option<Gone>, PeerIdTaken> {
        let mut entries = self.lock();
        if let Some(existing) = entries.get(&info.key()) {
            if existing.info.device_id != info.device_id {
                return Err(PeerIdTaken);
            }
        }
        let entry = PeerEntry {
            info: info.clone(),
            tx,
            docs: HashSet::new(),
        };
        let replaced = entries.insert(info.key(), entry);
        Ok(replaced.map(|old| {
            let _ = old.tx.send(Outbound::Close("replaced by a new connection"));
            Gone {
                info: old.info,
                docs: old.docs,
            }
        }))
    }

    /// Removes `info`'s connection, if it is still the one registered.
    pub fn unregister(&self, info: &PeerInfo) -> Option<Gone> {
        let mut entries = self.lock();
        let key = info.key();
        match entries.get(&key) {
            Some(entry) if entry.info.conn_id == info.conn_id => {
                entries.remove(&key).map(|entry| Gone {
                    info: entry.info,
                    docs: entry.docs,
                })
            }
            _ => None,
        }
    }

    /// Removes every connection (server shutting down).
    pub fn drain(&self) -> Vec<Gone> {
        self.lock()
            .drain()
            .map(|(_, entry)| Gone {
                info: entry.info,
                docs: entry.docs,
            })
            .collect()
    }

    /// Counts `doc_id` among the subscriptions of `peer`'s connection.
    pub fn subscribe(&self, peer: &PeerInfo, doc_id: DocumentId) {
        if let Some(entry) = self.lock().get_mut(&peer.key()) {
            if entry.info.conn_id == peer.conn_id {
                entry.docs.insert(doc_id);
            }
        }
    }

    /// Queues `message` for its recipient's connection, if it is still the
    /// one registered under that peer's key.
    pub fn send(&self, to: &Recipient, message: Message) {
        if let Some(entry) = self.lock().get(&to.peer) {
            if entry.info.conn_id == to.conn_id {
                let _ = entry.tx.send(Outbound::Send(message));
            }
        }
    }

    /// Asks every connection for which `which` holds to close.
    pub fn close(&self, which: impl Fn(&PeerInfo) -> bool, reason: &'static str) {
        for entry in self.lock().values() {
            if which(&entry.info) {
                let _ = entry.tx.send(Outbound::Close(reason));
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PeerKey, PeerEntry>> {
        // Every critical section is a few map operations that leave the map
        // consistent, so a poisoned lock is still safe to use.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
