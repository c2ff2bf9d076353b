//! The sync hub: the documents held in memory, the peers connected to them,
//! and the automerge sync protocol between the two, with access control.
//!
//! Each document in memory sits behind its own async lock, so work on one
//! document is serialised (apply, persist, flush, then answer) while
//! different documents proceed in parallel. A document's contents are
//! unloaded as soon as every device subscribed to it has all of it (only
//! their sync states stay), and a document nobody is subscribed to is
//! evicted after an idle time, so memory follows the documents being synced,
//! not every document of every connected device.

mod sync_payload;

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transaction;
use automerge::Automerge;
use fieldbook_shared::wire::{Message, PeerId};
use fieldbook_shared::DocumentId;
use tokio::sync::mpsc::UnboundedSender;

use crate::clock::{Clock, SystemClock};
use crate::metrics::{DocumentCounts, Metrics};
use crate::sharing::{Membership, Role, Sharing, SharingError};
use crate::store::Store;
use crate::sync::access::{decide, Act, Decision, Standing};
use crate::sync::doc_store::{DocRecord, DocStore, DocStoreError, Persisted};
use crate::sync::group_flush::GroupFlush;

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

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the sync message could not be read")]
    BadPayload,
    #[error("the server could not store the change; it will be asked for again")]
    Storage(#[from] DocStoreError),
}

#[derive(Debug, thiserror::Error)]
#[error("that peer ID is in use by another of your devices")]
pub struct PeerIdTaken;

struct PeerEntry {
    info: PeerInfo,
    tx: UnboundedSender<Outbound>,
    docs: HashSet<DocumentId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    /// Not read from the store yet.
    Unloaded,
    /// No stored document: the first user to send changes claims it.
    Unknown,
    /// Being created by this user; becomes theirs when changes arrive.
    Pending(String),
    Owned(String),
    Deleted,
}

struct Subscriber {
    conn_id: u64,
    sync: sync::State,
}

/// A document's contents and what of it is on disk. Boxed where it is held:
/// even an empty `Automerge` takes about 10 KiB, a small draft about 17 KiB,
/// and most documents in memory are unloaded (only sync states).
#[derive(Default)]
struct Loaded {
    doc: Automerge,
    persisted: Persisted,
    /// Read back soon after it was unloaded: a document being typed into.
    /// It then stays loaded until nobody has used it for a while
    /// (`Hub::release_idle`), so it is not read back for every keystroke.
    busy: bool,
}

struct DocState {
    access: Access,
    /// The members of an owned document besides its owner, read with
    /// `access` and changed only through the hub (`admit_member`,
    /// `remove_member`), so it always matches what is stored.
    members: HashMap<String, Role>,
    /// `None` until the document is read or first synced, and again once
    /// unloaded or forgotten.
    loaded: Option<Box<Loaded>>,
    /// When it was last unloaded for every subscriber having all of it
    /// (milliseconds since the hub started).
    unloaded_at: Option<u64>,
    subscribers: HashMap<PeerKey, Subscriber>,
    /// Peers that asked for the document before it existed here. If their
    /// own user then creates it (another device's changes arrive), they get
    /// it at once, as automerge-repo's own server would; nobody else does.
    waiters: HashMap<PeerKey, PeerInfo>,
}

impl DocState {
    /// Where `user_id` stands with this document, for [`decide`]. One not
    /// read from the store yet gives nobody anything.
    fn standing_of(&self, user_id: &str) -> Standing {
        match &self.access {
            Access::Owned(owner) if owner == user_id => Standing::Owner,
            Access::Owned(_) => Standing::of_role(self.members.get(user_id).copied()),
            Access::Unknown => Standing::Unknown,
            Access::Pending(claimant) if claimant == user_id => Standing::Creating,
            Access::Pending(_) => Standing::CreatedByOther,
            Access::Deleted => Standing::Deleted,
            Access::Unloaded => Standing::Stranger,
        }
    }

    /// A document new here with nothing received yet is not kept: an empty
    /// one is made again for the next message. Each costs about 10 KiB, and a
    /// device coming online asks about all its drafts at once.
    fn drop_if_empty(&mut self) {
        if self
            .loaded
            .as_ref()
            .is_some_and(|loaded| loaded.doc.get_heads().is_empty())
        {
            self.loaded = None;
        }
    }

    /// Drops the contents of an owned document that is on disk and that
    /// every subscribed device has, keeping their sync states; it is read
    /// back when one of them changes it again, which for a small document
    /// is cheap (BENCHMARKS.md).
    fn unload_if_caught_up(&mut self, now: u64) {
        if !matches!(self.access, Access::Owned(_)) || !self.waiters.is_empty() {
            return;
        }
        let Some(loaded) = &self.loaded else {
            return;
        };
        let heads = loaded.doc.get_heads();
        let has_all = |sync: &sync::State| {
            sync.their_heads.as_ref().is_some_and(|theirs| {
                theirs.len() == heads.len() && theirs.iter().all(|head| heads.contains(head))
            })
        };
        if loaded.persisted.holds(&heads) && self.subscribers.values().all(|sub| has_all(&sub.sync))
        {
            self.loaded = None;
            self.unloaded_at = Some(now);
        }
    }

    /// Drops the in-memory copy after a failed write, so changes that never
    /// reached the disk cannot be acknowledged later; the next use reloads
    /// what is stored, and peers resync (they still hold their changes).
    fn forget(&mut self) {
        self.access = Access::Unloaded;
        self.members.clear();
        self.loaded = None;
        self.subscribers.clear();
        self.waiters.clear();
    }
}

struct LiveDoc {
    state: tokio::sync::Mutex<DocState>,
    /// Milliseconds since the hub started, when last used.
    last_used: AtomicU64,
}

pub struct Hub {
    flusher: GroupFlush,
    /// Set while the last flush failed: written data may not be on disk, so
    /// nothing is sent to any peer until a flush succeeds again.
    flush_failed: AtomicBool,
    docs: DocStore,
    sharing: Sharing,
    metrics: Arc<Metrics>,
    server_peer_id: PeerId,
    /// Where `last_used` and `unloaded_at` are read from.
    clock: Arc<dyn Clock>,
    idle_timeout: Duration,
    next_conn_id: AtomicU64,
    peers: Mutex<HashMap<PeerKey, PeerEntry>>,
    live: Mutex<HashMap<DocumentId, Arc<LiveDoc>>>,
    /// Highest ephemeral `count` seen per (sender, session), to drop repeats.
    ephemeral_seen: Mutex<HashMap<(PeerKey, String), u64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a few map operations that leave the map
    // consistent, so a poisoned lock is still safe to use.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    pub fn new(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        server_peer_id: PeerId,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            docs: DocStore::new(store.clone()),
            sharing: Sharing::new(store.clone()),
            flusher: GroupFlush::new(store),
            flush_failed: AtomicBool::new(false),
            metrics,
            server_peer_id,
            clock: Arc::new(SystemClock::default()),
            idle_timeout,
            next_conn_id: AtomicU64::new(1),
            peers: Mutex::default(),
            live: Mutex::default(),
            ephemeral_seen: Mutex::default(),
        }
    }

    /// Reads time from `clock` instead of the system's (tests move it by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Invitations expire after `expiry` instead of the default week.
    pub fn with_invitation_expiry(mut self, expiry: Duration) -> Self {
        self.sharing = self.sharing.with_expiry(expiry);
        self
    }

    /// Who is a member of which document, and invitations. Memberships
    /// themselves are changed through [`Hub::admit_member`] and
    /// [`Hub::remove_member`], which keep the documents in memory in step.
    pub fn sharing(&self) -> &Sharing {
        &self.sharing
    }

    /// The owner of a stored (not deleted) document.
    pub fn owner_of(&self, doc_id: &DocumentId) -> Result<Option<String>, DocStoreError> {
        Ok(match self.docs.record(doc_id)? {
            DocRecord::Owned { owner } => Some(owner),
            DocRecord::Unknown | DocRecord::Deleted { .. } => None,
        })
    }

    pub fn server_peer_id(&self) -> &str {
        &self.server_peer_id
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Relaxed)
    }

    /// Documents held in memory, and of those, how many with their contents
    /// loaded (the others are only the sync states of connected devices).
    pub fn document_counts(&self) -> DocumentCounts {
        let live = lock(&self.live);
        let loaded = live
            .values()
            .filter(|live| {
                // One being worked on right now is loaded.
                live.state
                    .try_lock()
                    .map_or(true, |state| state.loaded.is_some())
            })
            .count();
        DocumentCounts {
            in_memory: live.len(),
            loaded,
        }
    }

    /// Binds `info.peer_id` to this connection, among its user's peers. The
    /// same device reconnecting replaces its old connection (whose sync state
    /// is reset); another device of the same user can never take a peer ID
    /// that is in use, and other users' peer IDs are not seen at all.
    pub async fn register_peer(
        &self,
        info: PeerInfo,
        tx: UnboundedSender<Outbound>,
    ) -> Result<(), PeerIdTaken> {
        let replaced = {
            let mut peers = lock(&self.peers);
            if let Some(existing) = peers.get(&info.key()) {
                if existing.info.device_id != info.device_id {
                    return Err(PeerIdTaken);
                }
            }
            let entry = PeerEntry {
                info: info.clone(),
                tx,
                docs: HashSet::new(),
            };
            peers.insert(info.key(), entry)
        };
        if let Some(old) = replaced {
            let _ = old.tx.send(Outbound::Close("replaced by a new connection"));
            self.forget_peer_docs(&old.info, old.docs).await;
        }
        Ok(())
    }

    /// Forgets a closed connection: its subscriptions end and the sync state
    /// of storage peers is kept for their next visit.
    pub async fn unregister_peer(&self, info: &PeerInfo) {
        let removed = {
            let mut peers = lock(&self.peers);
            let key = info.key();
            match peers.get(&key) {
                Some(entry) if entry.info.conn_id == info.conn_id => peers.remove(&key),
                _ => None,
            }
        };
        if let Some(entry) = removed {
            self.forget_peer_docs(&entry.info, entry.docs).await;
            let key = info.key();
            lock(&self.ephemeral_seen).retain(|(sender, _), _| *sender != key);
        }
    }

    async fn forget_peer_docs(&self, info: &PeerInfo, docs: HashSet<DocumentId>) {
        let key = info.key();
        for doc_id in docs {
            let Some(live) = lock(&self.live).get(&doc_id).cloned() else {
                continue;
            };
            let mut state = live.state.lock().await;
            if state
                .waiters
                .get(&key)
                .is_some_and(|waiter| waiter.conn_id == info.conn_id)
            {
                state.waiters.remove(&key);
            }
            let is_this_connection = state
                .subscribers
                .get(&key)
                .is_some_and(|sub| sub.conn_id == info.conn_id);
            if !is_this_connection {
                continue;
            }
            let subscriber = state.subscribers.remove(&key).expect("checked above");
            if matches!(state.access, Access::Pending(_)) && state.subscribers.is_empty() {
                // The device creating it left before sending any change:
                // those waiting for it will not get it after all.
                state.access = Access::Unknown;
                for waiter in state.waiters.drain().map(|(_, waiter)| waiter) {
                    self.send_unavailable(&waiter, doc_id);
                }
            }
            if let (Some(storage_id), Access::Owned(_)) = (&info.storage_id, &state.access) {
                if let Err(err) = self
                    .docs
                    .save_sync_state(&doc_id, storage_id, &subscriber.sync)
                {
                    tracing::warn!(document = %doc_id, error = %err, "could not keep sync state");
                }
            }
            self.touch(&live);
        }
    }

    /// Closes every connection of a device (used when it is revoked).
    pub fn disconnect_device(&self, device_id: &str) {
        for entry in lock(&self.peers).values() {
            if entry.info.device_id == device_id {
                let _ = entry.tx.send(Outbound::Close("device signed out"));
            }
        }
    }

    /// Asks every connection to close (server shutting down).
    pub fn disconnect_all(&self) {
        for entry in lock(&self.peers).values() {
            let _ = entry.tx.send(Outbound::Close("server restarting"));
        }
    }

    /// Handles a `sync` or `request` message from `peer`.
    pub async fn receive_sync(
        &self,
        peer: &PeerInfo,
        doc_id: DocumentId,
        data: &[u8],
        is_request: bool,
    ) -> Result<(), SyncError> {
        let message = sync::Message::decode(data).map_err(|_| SyncError::BadPayload)?;
        if !sync_payload::blooms_are_safe(&message) {
            return Err(SyncError::BadPayload);
        }
        let live = self.live_doc(doc_id);
        let mut state = live.state.lock().await;
        self.ensure_loaded(doc_id, &mut state)?;
        let changes = !message.changes.is_empty();
        let act = if is_request {
            Act::Request { changes }
        } else {
            Act::Sync { changes }
        };
        match decide(state.standing_of(&peer.user_id), act) {
            Decision::Allow => {}
            Decision::Claim => {
                if state.access == Access::Unknown {
                    state.access = Access::Pending(peer.user_id.clone());
                }
            }
            Decision::Wait { tell_unavailable } => {
                state.waiters.insert(peer.key(), peer.clone());
                self.subscribe(peer, doc_id);
                drop(state);
                if tell_unavailable {
                    self.send_unavailable(peer, doc_id);
                }
                return Ok(());
            }
            Decision::RefuseChange => {
                // None of it is applied or relayed; the reader's other
                // documents and its updates of this one go on.
                self.subscribe(peer, doc_id);
                drop(state);
                self.send_error(
                    peer,
                    format!(
                        "document {doc_id} is shared with you to read: your change was not kept"
                    ),
                );
                return Ok(());
            }
            Decision::Unavailable => {
                drop(state);
                self.send_unavailable(peer, doc_id);
                return Ok(());
            }
        }
        self.subscribe(peer, doc_id);

        let DocState {
            access,
            loaded,
            subscribers,
            waiters,
            ..
        } = &mut *state;
        // A document new to the server starts empty here.
        let Loaded { doc, persisted, .. } = &mut **loaded.get_or_insert_with(Box::default);
        let subscriber = subscribers
            .entry(peer.key())
            .or_insert_with(|| self.new_subscriber(peer, doc_id));
        if subscriber.conn_id != peer.conn_id {
            *subscriber = self.new_subscriber(peer, doc_id);
        }
        let heads_before = doc.get_heads();
        // automerge can panic on hostile input (see `sync_payload`); a panic
        // must cost only this message, not the connection's task.
        let applied = catch_unwind(AssertUnwindSafe(|| {
            doc.receive_sync_message(&mut subscriber.sync, message)
        }));
        if !matches!(applied, Ok(Ok(()))) {
            if applied.is_err() || doc.get_heads() != heads_before {
                // Part of it may be in memory and not on disk: drop the copy
                // so nothing unwritten is ever acknowledged; the next use
                // reloads what is stored.
                tracing::warn!(document = %doc_id, "a sync message failed part-way; reloading the document");
                state.forget();
            }
            return Err(SyncError::BadPayload);
        }
        let changed = doc.get_heads() != heads_before;
        if changed {
            if let Access::Pending(claimant) = access.clone() {
                if !self.docs.claim(&doc_id, &claimant)? {
                    // Claimed or deleted behind our back: refuse, keep nothing.
                    state.forget();
                    drop(state);
                    self.send_unavailable(peer, doc_id);
                    return Ok(());
                }
                for (key, waiter) in waiters.drain() {
                    if waiter.user_id == claimant {
                        subscribers.insert(key, self.new_subscriber(&waiter, doc_id));
                    }
                }
                *access = Access::Owned(claimant);
            }
            if let Err(err) = self.store_changes(doc_id, persisted, doc).await {
                state.forget();
                return Err(err.into());
            }
        }
        if !changed && self.flush_failed.load(Relaxed) {
            self.flush().await?;
        }
        // Answer the sender; if the document changed, bring every other
        // subscriber up to date too. All of this happens after the flush.
        let sender = peer.key();
        for (key, subscriber) in subscribers.iter_mut() {
            if !changed && *key != sender {
                continue;
            }
            self.send_sync(doc_id, doc, key, subscriber);
        }
        // Once every device has it, a document is unloaded at once (the
        // drafts a device uploads on coming online), unless it is busy.
        state.drop_if_empty();
        if !state.loaded.as_ref().is_some_and(|loaded| loaded.busy) {
            state.unload_if_caught_up(self.elapsed_millis());
        }
        drop(state);
        self.touch(&live);
        Ok(())
    }

    /// Relays an ephemeral message to the sender's other peers on the same
    /// document, once per (sender, session, count).
    pub async fn relay_ephemeral(&self, peer: &PeerInfo, message: Message) {
        let Message::Ephemeral {
            document_id,
            session_id,
            count,
            ..
        } = &message
        else {
            return;
        };
        {
            let mut seen = lock(&self.ephemeral_seen);
            let key = (peer.key(), session_id.clone());
            if seen.get(&key).is_some_and(|last| count <= last) {
                return;
            }
            seen.insert(key, *count);
        }
        let live = lock(&self.live).get(document_id).cloned();
        let state = match &live {
            Some(live) => Some(live.state.lock().await),
            None => None,
        };
        let standing = match state.as_deref() {
            Some(state) if state.access != Access::Unloaded => state.standing_of(&peer.user_id),
            // Not in memory: nobody else is on it, but only a stranger is
            // told it is unavailable.
            _ => self.stored_standing(document_id, &peer.user_id),
        };
        if decide(standing, Act::Ephemeral) != Decision::Allow {
            self.send_unavailable(peer, *document_id);
            return;
        }
        let Some(state) = state else {
            return;
        };
        let sender = peer.key();
        for (key, subscriber) in &state.subscribers {
            if *key == sender {
                continue;
            }
            let mut relayed = message.clone();
            if let Message::Ephemeral { target_id, .. } = &mut relayed {
                target_id.clone_from(&key.peer_id);
            }
            self.send_to(key, subscriber.conn_id, relayed);
        }
    }

    /// Applies a change made by the server itself (for example removing a
    /// deleted entry from a root document), persists it and pushes it to
    /// subscribers. Returns false if `owner` does not own the document.
    pub async fn change_document(
        &self,
        doc_id: DocumentId,
        owner: &str,
        change: impl FnOnce(&mut Transaction<'_>),
    ) -> Result<bool, DocStoreError> {
        let live = self.live_doc(doc_id);
        let Some(mut state) = self
            .lock_if_allowed(&live, doc_id, owner, Act::Change)
            .await?
        else {
            return Ok(false);
        };
        let DocState {
            loaded,
            subscribers,
            ..
        } = &mut *state;
        let Loaded { doc, persisted, .. } =
            loaded.as_deref_mut().expect("an owned document is loaded");
        let mut tx = doc.transaction();
        change(&mut tx);
        tx.commit();
        if let Err(err) = self.store_changes(doc_id, persisted, doc).await {
            state.forget();
            return Err(err);
        }
        for (key, subscriber) in subscribers.iter_mut() {
            self.send_sync(doc_id, doc, key, subscriber);
        }
        drop(state);
        self.touch(&live);
        Ok(true)
    }

    /// Deletes a document of `owner`: its data goes, a tombstone stays, and
    /// every peer on it is told it is unavailable. Returns false if `owner`
    /// does not own it.
    pub async fn delete_document(
        &self,
        doc_id: DocumentId,
        owner: &str,
    ) -> Result<bool, DocStoreError> {
        let live = self.live_doc(doc_id);
        let Some(mut state) = self
            .lock_if_allowed(&live, doc_id, owner, Act::Delete)
            .await?
        else {
            return Ok(false);
        };
        self.docs.delete(&doc_id, owner)?;
        self.flush().await?;
        state.access = Access::Deleted;
        state.loaded = None;
        for (key, subscriber) in state.subscribers.drain() {
            self.send_to(
                &key,
                subscriber.conn_id,
                Message::DocUnavailable {
                    sender_id: self.server_peer_id.clone(),
                    target_id: key.peer_id.clone(),
                    document_id: doc_id,
                },
            );
        }
        Ok(true)
    }

    /// Brings a document in memory in step with `membership`, just stored
    /// (see [`Sharing::accept_invitation`]): the member's devices can sync
    /// it from now on. If the document was deleted meanwhile, the
    /// membership is removed again and this returns false.
    pub async fn admit_member(&self, membership: &Membership) -> Result<bool, SharingError> {
        let doc_id = membership.document_id;
        let live = self.live_doc(doc_id);
        let mut state = live.state.lock().await;
        self.ensure_loaded(doc_id, &mut state)?;
        if !matches!(state.access, Access::Owned(_)) {
            self.sharing
                .remove_membership(&doc_id, &membership.user_id)?;
            self.flush().await?;
            return Ok(false);
        }
        state
            .members
            .insert(membership.user_id.clone(), membership.role);
        Ok(true)
    }

    /// Ends `user_id`'s membership of `doc_id`, durably, and closes the
    /// document at once on every device of theirs. False if there was none.
    pub async fn remove_member(
        &self,
        doc_id: &DocumentId,
        user_id: &str,
    ) -> Result<bool, SharingError> {
        let live = self.live_doc(*doc_id);
        let mut state = live.state.lock().await;
        self.ensure_loaded(*doc_id, &mut state)?;
        if self.sharing.membership(doc_id, user_id)?.is_none() {
            return Ok(false);
        }
        self.sharing.remove_membership(doc_id, user_id)?;
        self.flush().await?;
        state.members.remove(user_id);
        let theirs: Vec<PeerKey> = state
            .subscribers
            .keys()
            .filter(|key| key.user_id == user_id)
            .cloned()
            .collect();
        for key in theirs {
            let subscriber = state.subscribers.remove(&key).expect("listed above");
            self.send_to(
                &key,
                subscriber.conn_id,
                Message::DocUnavailable {
                    sender_id: self.server_peer_id.clone(),
                    target_id: key.peer_id.clone(),
                    document_id: *doc_id,
                },
            );
        }
        Ok(true)
    }

    /// The document's state, loaded and locked, if `user_id` may do `act`.
    async fn lock_if_allowed<'a>(
        &self,
        live: &'a LiveDoc,
        doc_id: DocumentId,
        user_id: &str,
        act: Act,
    ) -> Result<Option<tokio::sync::MutexGuard<'a, DocState>>, DocStoreError> {
        let mut state = live.state.lock().await;
        self.ensure_loaded(doc_id, &mut state)?;
        let allowed = decide(state.standing_of(user_id), act) == Decision::Allow;
        Ok(allowed.then_some(state))
    }

    /// Where `user_id` stands with a document as stored, without loading it.
    fn stored_standing(&self, doc_id: &DocumentId, user_id: &str) -> Standing {
        match self.docs.record(doc_id) {
            Ok(DocRecord::Owned { owner }) if owner == user_id => Standing::Owner,
            Ok(DocRecord::Owned { .. }) => match self.sharing.membership(doc_id, user_id) {
                Ok(Some(membership)) => Standing::of_role(Some(membership.role)),
                _ => Standing::Stranger,
            },
            Ok(DocRecord::Unknown) => Standing::Unknown,
            Ok(DocRecord::Deleted { .. }) => Standing::Deleted,
            // Nothing is given when the record cannot be read.
            Err(_) => Standing::Stranger,
        }
    }

    /// How long a busy document (see `Loaded::busy`), or one changed by the
    /// server, stays loaded once every subscribed device has all of it.
    pub fn unload_after(&self) -> Duration {
        self.idle_timeout.min(Duration::from_secs(2))
    }

    /// Unloads the contents of documents every subscriber has and nobody
    /// has used for `unload_after`, and drops documents nobody is subscribed
    /// to and nobody has used for the idle timeout.
    pub fn release_idle(&self) {
        let now = self.elapsed_millis();
        let unload_after = self.unload_after().as_millis() as u64;
        let idle_timeout = self.idle_timeout.as_millis() as u64;
        lock(&self.live).retain(|_, live| {
            // Someone holds a reference: in use right now.
            if Arc::strong_count(live) > 1 {
                return true;
            }
            let idle = now.saturating_sub(live.last_used.load(Relaxed));
            if idle < unload_after {
                return true;
            }
            let Ok(mut state) = live.state.try_lock() else {
                return true;
            };
            state.unload_if_caught_up(now);
            idle < idle_timeout || !state.subscribers.is_empty() || !state.waiters.is_empty()
        });
    }

    /// Keeps the sync state of every storage peer and flushes, before exit.
    pub async fn shutdown(&self) -> Result<(), DocStoreError> {
        let peers: Vec<(PeerInfo, HashSet<DocumentId>)> = lock(&self.peers)
            .drain()
            .map(|(_, entry)| (entry.info, entry.docs))
            .collect();
        for (info, docs) in peers {
            self.forget_peer_docs(&info, docs).await;
        }
        self.flush().await
    }

    /// Writes the document's new changes and waits until they are on disk.
    async fn store_changes(
        &self,
        doc_id: DocumentId,
        persisted: &mut Persisted,
        doc: &Automerge,
    ) -> Result<(), DocStoreError> {
        self.docs.append(&doc_id, persisted, doc)?;
        self.flush().await
    }

    async fn flush(&self) -> Result<(), DocStoreError> {
        let started = Instant::now();
        let result = self.flusher.flush().await;
        self.flush_failed.store(result.is_err(), Relaxed);
        result?;
        self.metrics.observe_flush(started.elapsed());
        Ok(())
    }

    fn live_doc(&self, doc_id: DocumentId) -> Arc<LiveDoc> {
        let live = lock(&self.live)
            .entry(doc_id)
            .or_insert_with(|| {
                Arc::new(LiveDoc {
                    state: tokio::sync::Mutex::new(DocState {
                        access: Access::Unloaded,
                        members: HashMap::new(),
                        loaded: None,
                        unloaded_at: None,
                        subscribers: HashMap::new(),
                        waiters: HashMap::new(),
                    }),
                    last_used: AtomicU64::new(0),
                })
            })
            .clone();
        self.touch(&live);
        live
    }

    /// Reads who owns the document, if not known yet, and the contents of
    /// an owned one that is not loaded.
    fn ensure_loaded(&self, doc_id: DocumentId, state: &mut DocState) -> Result<(), DocStoreError> {
        if state.access == Access::Unloaded {
            state.access = match self.docs.record(&doc_id)? {
                DocRecord::Unknown => Access::Unknown,
                DocRecord::Deleted { .. } => Access::Deleted,
                DocRecord::Owned { owner } => Access::Owned(owner),
            };
            state.members = match state.access {
                Access::Owned(_) => self
                    .sharing
                    .members(&doc_id)
                    .map_err(|err| match err {
                        SharingError::Store(err) => DocStoreError::Store(err),
                        other => DocStoreError::Corrupt(doc_id, other.to_string()),
                    })?
                    .into_iter()
                    .map(|member| (member.user_id, member.role))
                    .collect(),
                _ => HashMap::new(),
            };
        }
        if matches!(state.access, Access::Owned(_)) && state.loaded.is_none() {
            let (doc, persisted) = self.docs.load(&doc_id)?;
            let unload_after = self.unload_after().as_millis() as u64;
            let busy = state
                .unloaded_at
                .is_some_and(|at| self.elapsed_millis().saturating_sub(at) < unload_after);
            state.loaded = Some(Box::new(Loaded {
                doc,
                persisted,
                busy,
            }));
        }
        Ok(())
    }

    fn new_subscriber(&self, peer: &PeerInfo, doc_id: DocumentId) -> Subscriber {
        let sync = peer
            .storage_id
            .as_deref()
            .and_then(|storage_id| self.docs.load_sync_state(&doc_id, storage_id))
            .unwrap_or_default();
        Subscriber {
            conn_id: peer.conn_id,
            sync,
        }
    }

    fn subscribe(&self, peer: &PeerInfo, doc_id: DocumentId) {
        if let Some(entry) = lock(&self.peers).get_mut(&peer.key()) {
            if entry.info.conn_id == peer.conn_id {
                entry.docs.insert(doc_id);
            }
        }
    }

    /// Sends the peer whatever the sync protocol says it needs next, if anything.
    fn send_sync(
        &self,
        doc_id: DocumentId,
        doc: &Automerge,
        peer: &PeerKey,
        subscriber: &mut Subscriber,
    ) {
        // The sync state holds what the peer said it has; if automerge
        // panics on it, start this peer's sync afresh instead.
        let generated = catch_unwind(AssertUnwindSafe(|| {
            doc.generate_sync_message(&mut subscriber.sync)
        }));
        let generated = generated.unwrap_or_else(|_| {
            tracing::warn!(document = %doc_id, "could not answer a peer's sync state; starting afresh");
            subscriber.sync = sync::State::new();
            None
        });
        if let Some(message) = generated {
            self.send_to(
                peer,
                subscriber.conn_id,
                Message::Sync {
                    sender_id: self.server_peer_id.clone(),
                    target_id: peer.peer_id.clone(),
                    document_id: doc_id,
                    data: message.encode(),
                },
            );
        }
    }

    /// Tells the peer, in a protocol `error` message, why something it
    /// sent was refused; the connection stays open.
    fn send_error(&self, peer: &PeerInfo, message: String) {
        self.send_to(
            &peer.key(),
            peer.conn_id,
            Message::Error {
                sender_id: self.server_peer_id.clone(),
                target_id: peer.peer_id.clone(),
                message,
            },
        );
    }

    fn send_unavailable(&self, peer: &PeerInfo, doc_id: DocumentId) {
        self.send_to(
            &peer.key(),
            peer.conn_id,
            Message::DocUnavailable {
                sender_id: self.server_peer_id.clone(),
                target_id: peer.peer_id.clone(),
                document_id: doc_id,
            },
        );
    }

    /// Queues `message` for the given connection of `peer`, if it is still
    /// the one registered under that ID.
    fn send_to(&self, peer: &PeerKey, conn_id: u64, message: Message) {
        if let Some(entry) = lock(&self.peers).get(peer) {
            if entry.info.conn_id == conn_id {
                let _ = entry.tx.send(Outbound::Send(message));
            }
        }
    }

    fn touch(&self, live: &LiveDoc) {
        live.last_used.store(self.elapsed_millis(), Relaxed);
    }

    fn elapsed_millis(&self) -> u64 {
        self.clock.elapsed_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::{Batch, KeyValue, MemoryStore, StoreError, StoreResult};
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicBool;

    /// Memory storage whose flush can be made to fail, like a full disk.
    #[derive(Default)]
    struct FlakyDisk {
        inner: MemoryStore,
        failing: AtomicBool,
    }

    impl Store for FlakyDisk {
        fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
            self.inner.get(key)
        }
        fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
            self.inner.put(key, value)
        }
        fn put_if_absent(&self, key: &[u8], value: &[u8]) -> StoreResult<bool> {
            self.inner.put_if_absent(key, value)
        }
        fn delete(&self, key: &[u8]) -> StoreResult<()> {
            self.inner.delete(key)
        }
        fn scan_prefix(&self, prefix: &[u8]) -> StoreResult<Vec<KeyValue>> {
            self.inner.scan_prefix(prefix)
        }
        fn apply(&self, batch: Batch) -> StoreResult<()> {
            self.inner.apply(batch)
        }
        fn flush(&self) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + '_>> {
            let failing = self.failing.load(Relaxed);
            Box::pin(async move {
                if failing {
                    Err(StoreError::new("disk full"))
                } else {
                    Ok(())
                }
            })
        }
    }

    fn peer(peer_id: &str, conn_id: u64) -> PeerInfo {
        PeerInfo {
            peer_id: peer_id.into(),
            conn_id,
            user_id: "user".into(),
            device_id: format!("device-{peer_id}"),
            storage_id: None,
        }
    }

    fn sync_data(message: Outbound) -> Vec<u8> {
        match message {
            Outbound::Send(Message::Sync { data, .. }) => data,
            other => panic!("expected a sync message, got {other:?}"),
        }
    }

    /// A hub over `store` with the device "phone" connected.
    async fn hub_with_phone(
        store: Arc<dyn Store>,
        idle_timeout: Duration,
    ) -> (
        Hub,
        PeerInfo,
        tokio::sync::mpsc::UnboundedReceiver<Outbound>,
    ) {
        let hub = Hub::new(store, Arc::default(), "server".into(), idle_timeout);
        let phone = peer("phone", 1);
        let (tx, inbox) = tokio::sync::mpsc::unbounded_channel();
        hub.register_peer(phone.clone(), tx).await.unwrap();
        (hub, phone, inbox)
    }

    /// Runs the sync protocol between a device's `doc` and the hub until
    /// neither has anything more to say.
    async fn sync_fully(
        hub: &Hub,
        device: &PeerInfo,
        inbox: &mut tokio::sync::mpsc::UnboundedReceiver<Outbound>,
        doc_id: DocumentId,
        (doc, state): (&mut Automerge, &mut sync::State),
    ) {
        loop {
            let mut quiet = true;
            if let Some(message) = doc.generate_sync_message(state) {
                quiet = false;
                hub.receive_sync(device, doc_id, &message.encode(), false)
                    .await
                    .unwrap();
            }
            while let Ok(reply) = inbox.try_recv() {
                quiet = false;
                let reply = sync::Message::decode(&sync_data(reply)).unwrap();
                doc.receive_sync_message(state, reply).unwrap();
            }
            if quiet {
                return;
            }
        }
    }

    #[tokio::test]
    async fn documents_every_device_has_are_unloaded_and_busy_ones_once_idle() {
        let (hub, phone, mut inbox) =
            hub_with_phone(Arc::new(MemoryStore::new()), Duration::from_millis(300)).await;
        let clock = Arc::new(ManualClock::default());
        let hub = hub.with_clock(clock.clone());
        let doc_id = DocumentId::from_bytes([5; 16]);
        let (mut doc, mut state) = (Automerge::new(), sync::State::new());
        let edit = |doc: &mut Automerge, text: &str| {
            let mut tx = doc.transaction();
            tx.put(automerge::ROOT, "title", text).unwrap();
            tx.commit();
        };
        let counts = |in_memory, loaded| DocumentCounts { in_memory, loaded };

        // Written offline and uploaded on coming online: unloaded as soon as
        // the server has stored it, while the phone stays connected.
        edit(&mut doc, "written offline");
        sync_fully(&hub, &phone, &mut inbox, doc_id, (&mut doc, &mut state)).await;
        assert_eq!(hub.document_counts(), counts(1, 0));

        // Typed into again at once: read back, then kept between keystrokes.
        for text in ["typing", "typing on"] {
            edit(&mut doc, text);
            sync_fully(&hub, &phone, &mut inbox, doc_id, (&mut doc, &mut state)).await;
            assert_eq!(hub.document_counts(), counts(1, 1));
        }

        // Unloaded once nobody has used it for a while.
        clock.advance(hub.unload_after());
        hub.release_idle();
        assert_eq!(hub.document_counts(), counts(1, 0));

        // Another device gets every edit, read back from the store.
        let laptop = peer("laptop", 2);
        let (tx, mut laptop_inbox) = tokio::sync::mpsc::unbounded_channel();
        hub.register_peer(laptop.clone(), tx).await.unwrap();
        let mut copy = (Automerge::new(), sync::State::new());
        sync_fully(
            &hub,
            &laptop,
            &mut laptop_inbox,
            doc_id,
            (&mut copy.0, &mut copy.1),
        )
        .await;
        assert_eq!(copy.0.get_heads(), doc.get_heads());
        let title = copy.0.get(automerge::ROOT, "title").unwrap().unwrap().0;
        assert_eq!(title.as_str(), Some("typing on"));
    }

    #[tokio::test]
    async fn a_peer_id_held_by_another_user_blocks_and_reaches_nobody() {
        let hub = Hub::new(
            Arc::new(MemoryStore::new()),
            Arc::default(),
            "server".into(),
            Duration::from_secs(60),
        );
        let owner = peer("phone", 1);
        let squatter = PeerInfo {
            user_id: "someone else".into(),
            device_id: "their device".into(),
            ..peer("phone", 2)
        };
        let (tx, mut squatter_inbox) = tokio::sync::mpsc::unbounded_channel();
        hub.register_peer(squatter.clone(), tx).await.unwrap();
        let (tx, mut owner_inbox) = tokio::sync::mpsc::unbounded_channel();
        hub.register_peer(owner.clone(), tx).await.unwrap();

        let doc_id = DocumentId::from_bytes([3; 16]);
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "title", "the owner's").unwrap();
        tx.commit();
        let mut state = sync::State::new();
        sync_fully(
            &hub,
            &owner,
            &mut owner_inbox,
            doc_id,
            (&mut doc, &mut state),
        )
        .await;
        assert!(
            squatter_inbox.try_recv().is_err(),
            "nothing of the owner's reached the other user's device, nor closed it"
        );
        // A second device of the owner's with that peer ID is still refused.
        let (tx, _) = tokio::sync::mpsc::unbounded_channel();
        let twin = PeerInfo {
            device_id: "owner's laptop".into(),
            ..peer("phone", 3)
        };
        assert!(hub.register_peer(twin, tx).await.is_err());
    }

    #[tokio::test]
    async fn a_panic_in_automerge_costs_only_that_peers_sync_state() {
        let (hub, phone, mut inbox) =
            hub_with_phone(Arc::new(MemoryStore::new()), Duration::from_secs(60)).await;
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "title", "notes").unwrap();
        tx.commit();
        // What a peer's bloom filter of one entry and no bits leaves in its
        // sync state, had it got past `sync_payload`: automerge divides by
        // zero answering it.
        let mut subscriber = Subscriber {
            conn_id: 1,
            sync: sync::State::new(),
        };
        subscriber.sync.their_heads = Some(Vec::new());
        subscriber.sync.their_need = Some(Vec::new());
        subscriber.sync.their_have = Some(vec![sync::Have {
            last_sync: Vec::new(),
            bloom: sync::BloomFilter::try_from(&[1u8, 0, 7][..]).unwrap(),
        }]);
        let doc_id = DocumentId::from_bytes([9; 16]);
        hub.send_sync(doc_id, &doc, &phone.key(), &mut subscriber);
        assert!(subscriber.sync.their_have.is_none(), "started afresh");
        assert!(inbox.try_recv().is_err(), "nothing sent");
        // The next answer is an ordinary one.
        hub.send_sync(doc_id, &doc, &phone.key(), &mut subscriber);
        let offer = sync::Message::decode(&sync_data(inbox.try_recv().unwrap())).unwrap();
        assert_eq!(offer.heads, doc.get_heads());
    }

    #[tokio::test]
    async fn a_change_that_never_reached_the_disk_is_never_acknowledged() {
        let disk = Arc::new(FlakyDisk::default());
        let (hub, phone, mut inbox) = hub_with_phone(disk.clone(), Duration::from_secs(60)).await;
        let doc_id = DocumentId::from_bytes([7; 16]);

        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "title", "lost?").unwrap();
        tx.commit();
        let mut state = sync::State::new();
        let offer = doc.generate_sync_message(&mut state).unwrap();
        hub.receive_sync(&phone, doc_id, &offer.encode(), false)
            .await
            .unwrap();
        let reply = sync::Message::decode(&sync_data(inbox.recv().await.unwrap())).unwrap();
        doc.receive_sync_message(&mut state, reply).unwrap();
        let changes = doc.generate_sync_message(&mut state).unwrap();

        disk.failing.store(true, Relaxed);
        let result = hub
            .receive_sync(&phone, doc_id, &changes.encode(), false)
            .await;
        assert!(matches!(result, Err(SyncError::Storage(_))), "{result:?}");
        assert!(inbox.try_recv().is_err(), "nothing acknowledged the change");

        // While the disk still fails, another device asking is told nothing.
        let laptop = peer("laptop", 2);
        let (tx, mut laptop_inbox) = tokio::sync::mpsc::unbounded_channel();
        hub.register_peer(laptop.clone(), tx).await.unwrap();
        let hello = Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        let result = hub
            .receive_sync(&laptop, doc_id, &hello.encode(), true)
            .await;
        assert!(matches!(result, Err(SyncError::Storage(_))), "{result:?}");
        assert!(
            laptop_inbox.try_recv().is_err(),
            "nothing offered before a flush succeeds"
        );

        // Once the disk recovers (and so the change is on it), it is offered.
        disk.failing.store(false, Relaxed);
        let hello = Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        hub.receive_sync(&laptop, doc_id, &hello.encode(), true)
            .await
            .unwrap();
        let offered =
            sync::Message::decode(&sync_data(laptop_inbox.recv().await.unwrap())).unwrap();
        assert_eq!(offered.heads, doc.get_heads());
    }
}
