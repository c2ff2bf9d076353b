//! The sync hub: the async layer over each document's state
//! ([`doc_state`](crate::sync::doc_state)), which makes the decisions. The
//! hub holds the peers connected and the documents in memory, does the I/O
//! the state needs (reading and writing through `DocStore`, the group
//! flush) and delivers the messages the state returns to the connections.
//!
//! Each document in memory sits behind its own async lock, so work on one
//! document is serialised (apply, persist, flush, then answer) while
//! different documents proceed in parallel; its messages are delivered
//! while that lock is held, so each peer gets them in order. A document's
//! contents are unloaded as soon as every device subscribed to it has all
//! of it (only their sync states stay), and a document nobody is
//! subscribed to is evicted after an idle time, so memory follows the
//! documents being synced, not every document of every connected device.

mod sync_payload;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use automerge::sync;
use automerge::transaction::Transaction;
use fieldbook_shared::wire::{Message, PeerId};
use fieldbook_shared::DocumentId;
use tokio::sync::mpsc::UnboundedSender;

use crate::clock::{Clock, SystemClock};
use crate::metrics::{DocumentCounts, Metrics};
use crate::sharing::{Membership, Sharing, SharingError};
use crate::store::Store;
use crate::sync::access::{decide, Act, Decision, Standing};
use crate::sync::doc_state::{Access, Applied, DocState, Effect, UnloadPolicy};
use crate::sync::doc_store::{ChunkWrite, DocRecord, DocStore, DocStoreError};
use crate::sync::ephemeral::EphemeralSeen;
use crate::sync::group_flush::GroupFlush;
use crate::sync::peers::{Gone, Peers, Recipient};
pub use crate::sync::peers::{Outbound, PeerIdTaken, PeerInfo};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the sync message could not be read")]
    BadPayload,
    #[error("the server could not store the change; it will be asked for again")]
    Storage(#[from] DocStoreError),
}

struct LiveDoc {
    state: tokio::sync::Mutex<DocState>,
    /// When last used, by the hub's clock.
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
    /// Where `last_used` and the unload policy's times are read from.
    clock: Arc<dyn Clock>,
    policy: UnloadPolicy,
    next_conn_id: AtomicU64,
    peers: Peers,
    live: Mutex<HashMap<DocumentId, Arc<LiveDoc>>>,
    ephemeral_seen: Mutex<EphemeralSeen>,
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
            policy: UnloadPolicy::new(idle_timeout),
            next_conn_id: AtomicU64::new(1),
            peers: Peers::default(),
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

    /// Whether the database answers a read, for the readiness check.
    pub fn storage_answers(&self) -> bool {
        self.docs.storage_answers()
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
                    .map_or(true, |state| state.is_loaded())
            })
            .count();
        DocumentCounts {
            in_memory: live.len(),
            loaded,
        }
    }

    /// Binds `info.peer_id` to this connection, among its user's peers (see
    /// [`Peers::register`]). The same device reconnecting replaces its old
    /// connection, whose sync state is reset; other users' peer IDs are not
    /// seen at all.
    pub async fn register_peer(
        &self,
        info: PeerInfo,
        tx: UnboundedSender<Outbound>,
    ) -> Result<(), PeerIdTaken> {
        if let Some(replaced) = self.peers.register(info, tx)? {
            self.forget_peer_docs(replaced).await;
        }
        Ok(())
    }

    /// Forgets a closed connection: its subscriptions end and the sync state
    /// of storage peers is kept for their next visit.
    pub async fn unregister_peer(&self, info: &PeerInfo) {
        if let Some(gone) = self.peers.unregister(info) {
            self.forget_peer_docs(gone).await;
            lock(&self.ephemeral_seen).forget_sender(&info.key());
        }
    }

    async fn forget_peer_docs(&self, gone: Gone) {
        let info = &gone.info;
        for doc_id in gone.docs {
            let Some(live) = lock(&self.live).get(&doc_id).cloned() else {
                continue;
            };
            let mut state = live.state.lock().await;
            let Some(left) = state.peer_left(info) else {
                continue;
            };
            self.apply(doc_id, left.effects);
            if let (Some(storage_id), Some(sync)) = (&info.storage_id, &left.keep_sync_state) {
                if let Err(err) = self.docs.save_sync_state(&doc_id, storage_id, sync) {
                    tracing::warn!(document = %doc_id, error = %err, "could not keep sync state");
                }
            }
            self.touch(&live);
        }
    }

    /// Closes every connection of a device (used when it is revoked).
    pub fn disconnect_device(&self, device_id: &str) {
        self.peers
            .close(|peer| peer.device_id == device_id, "device signed out");
    }

    /// Asks every connection to close (server shutting down).
    pub fn disconnect_all(&self) {
        self.peers.close(|_| true, "server restarting");
    }

    /// Handles a `sync` or `request` message from `peer`: the document's
    /// state admits and applies it; a new document is claimed and its
    /// changes are written and flushed; only then is it answered.
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
        let admission = state.admit(peer, act);
        self.apply(doc_id, admission.effects);
        if !admission.go_on {
            return Ok(());
        }
        let stored_sync_state = |peer: &PeerInfo| self.stored_sync_state(peer, doc_id);
        let applied = state
            .apply_sync(peer, message, &stored_sync_state)
            .map_err(|_| SyncError::BadPayload)?;
        let changed = matches!(applied, Applied::Changed { .. });
        if let Applied::Changed { claim, write } = applied {
            if let Some(claimant) = claim {
                match self.docs.claim(&doc_id, &claimant) {
                    Ok(true) => state.claimed(&claimant, &stored_sync_state),
                    Ok(false) => {
                        // Claimed or deleted behind our back: refuse, keep nothing.
                        let effects = state.claim_refused(peer);
                        self.apply(doc_id, effects);
                        return Ok(());
                    }
                    Err(err) => {
                        state.forget();
                        return Err(err.into());
                    }
                }
            }
            if let Err(err) = self.store_changes(&mut state, write).await {
                state.forget();
                return Err(err.into());
            }
        } else if self.flush_failed.load(Relaxed) {
            self.flush().await?;
        }
        // Everything it changed is on disk: now it may be acknowledged.
        let effects = state.answer(&peer.key(), changed, self.now());
        self.apply(doc_id, effects);
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
        if !lock(&self.ephemeral_seen).is_new(&peer.key(), session_id, *count) {
            return;
        }
        let live = lock(&self.live).get(document_id).cloned();
        let state = match &live {
            Some(live) => Some(live.state.lock().await),
            None => None,
        };
        let standing = match state.as_deref() {
            Some(state) if state.is_read() => state.standing_of(&peer.user_id),
            // Not in memory: nobody else is on it, but only a stranger is
            // told it is unavailable.
            _ => self.stored_standing(document_id, &peer.user_id),
        };
        if decide(standing, Act::Ephemeral) != Decision::Allow {
            let to = Recipient::of(peer);
            self.apply(*document_id, vec![Effect::Unavailable { to }]);
            return;
        }
        if let Some(state) = state {
            self.apply(*document_id, state.relay(&peer.key(), &message));
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
        let write = state.change(change);
        if let Err(err) = self.store_changes(&mut state, write).await {
            state.forget();
            return Err(err);
        }
        let effects = state.sync_subscribers(None);
        self.apply(doc_id, effects);
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
        let effects = state.deleted();
        self.apply(doc_id, effects);
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
        if !state.is_owned() {
            self.sharing
                .remove_membership(&doc_id, &membership.user_id)?;
            self.flush().await?;
            return Ok(false);
        }
        state.add_member(&membership.user_id, membership.role);
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
        let effects = state.remove_member(user_id);
        self.apply(*doc_id, effects);
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
        Ok(state.allows(user_id, act).then_some(state))
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

    /// How long a busy document, or one changed by the server, stays loaded
    /// once every subscribed device has all of it.
    pub fn unload_after(&self) -> Duration {
        self.policy.unload_after()
    }

    /// Unloads the contents of documents every subscriber has and nobody
    /// has used for `unload_after`, and drops documents nobody is subscribed
    /// to and nobody has used for the idle timeout.
    pub fn release_idle(&self) {
        let now = self.now();
        lock(&self.live).retain(|_, live| {
            // Someone holds a reference: in use right now.
            if Arc::strong_count(live) > 1 {
                return true;
            }
            let Ok(mut state) = live.state.try_lock() else {
                return true;
            };
            state.release(live.last_used.load(Relaxed), now)
        });
    }

    /// Keeps the sync state of every storage peer and flushes, before exit.
    pub async fn shutdown(&self) -> Result<(), DocStoreError> {
        for gone in self.peers.drain() {
            self.forget_peer_docs(gone).await;
        }
        self.flush().await
    }

    /// Stores the document's new chunks and waits until they are on disk.
    async fn store_changes(
        &self,
        state: &mut DocState,
        write: Option<ChunkWrite>,
    ) -> Result<(), DocStoreError> {
        if let Some(write) = write {
            self.docs.write(&write)?;
            state.written(write);
        }
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
                    state: tokio::sync::Mutex::new(DocState::new(doc_id, self.policy)),
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
        if !state.is_read() {
            let access = match self.docs.record(&doc_id)? {
                DocRecord::Unknown => Access::Unknown,
                DocRecord::Deleted { .. } => Access::Deleted,
                DocRecord::Owned { owner } => Access::Owned(owner),
            };
            let members = match access {
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
            state.read(access, members);
        }
        if state.needs_contents() {
            let (doc, persisted) = self.docs.load(&doc_id)?;
            state.contents_read(doc, persisted, self.now());
        }
        Ok(())
    }

    /// The sync state kept for a storage peer, or a fresh one.
    fn stored_sync_state(&self, peer: &PeerInfo, doc_id: DocumentId) -> sync::State {
        peer.storage_id
            .as_deref()
            .and_then(|storage_id| self.docs.load_sync_state(&doc_id, storage_id))
            .unwrap_or_default()
    }

    /// Carries out what a document's state asked for, as messages from
    /// this server about `doc_id`.
    fn apply(&self, doc_id: DocumentId, effects: Vec<Effect>) {
        for effect in effects {
            let (to, message) = match effect {
                Effect::Subscribe(peer) => {
                    self.peers.subscribe(&peer, doc_id);
                    continue;
                }
                Effect::Sync { to, data } => {
                    let message = Message::Sync {
                        sender_id: self.server_peer_id.clone(),
                        target_id: to.peer.peer_id.clone(),
                        document_id: doc_id,
                        data,
                    };
                    (to, message)
                }
                Effect::Unavailable { to } => {
                    let message = Message::DocUnavailable {
                        sender_id: self.server_peer_id.clone(),
                        target_id: to.peer.peer_id.clone(),
                        document_id: doc_id,
                    };
                    (to, message)
                }
                Effect::Error { to, message } => {
                    let message = Message::Error {
                        sender_id: self.server_peer_id.clone(),
                        target_id: to.peer.peer_id.clone(),
                        message,
                    };
                    (to, message)
                }
                Effect::Relay { to, message } => (to, message),
            };
            self.peers.send(&to, message);
        }
    }

    fn touch(&self, live: &LiveDoc) {
        live.last_used.store(self.now(), Relaxed);
    }

    fn now(&self) -> u64 {
        self.clock.elapsed_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::{Batch, KeyValue, MemoryStore, StoreError, StoreResult};
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::Automerge;
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
