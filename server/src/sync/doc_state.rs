//! One document as the hub holds it, without I/O: who owns it and its
//! members, its contents while loaded, the devices subscribed to it and
//! their sync states, and when to unload it. Time is passed in (`now`, in
//! milliseconds of the hub's clock), reads the hub has already made are
//! passed in, and what is to be sent comes back as [`Effect`]s, so every
//! decision here is tested alone.
//!
//! The hub drives a sync message through it in steps, doing the I/O in
//! between: [`DocState::admit`], [`DocState::apply_sync`], then (when it
//! changed the document) the claim of a new document and the write of the
//! chunks it returns and a flush, and only then [`DocState::answer`]:
//! nothing that acknowledges a change is made before the change is on disk.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transaction;
use automerge::Automerge;
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;

use crate::sharing::Role;
use crate::sync::access::{decide, Act, Decision, Standing};
use crate::sync::doc_store::{ChunkWrite, Persisted};
use crate::sync::peers::{PeerInfo, PeerKey, Recipient};

/// Who owns the document, as far as the hub knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Not read from the store yet.
    Unloaded,
    /// No stored document: the first user to send changes claims it.
    Unknown,
    /// Being created by this user; becomes theirs when changes arrive.
    Pending(String),
    Owned(String),
    Deleted,
}

/// What the document's state asks the hub to do.
#[derive(Debug)]
pub enum Effect {
    /// Send the server's next sync message.
    Sync { to: Recipient, data: Vec<u8> },
    /// Send `doc-unavailable`.
    Unavailable { to: Recipient },
    /// Send a protocol `error` saying why something the peer sent was
    /// refused; the connection stays open.
    Error { to: Recipient, message: String },
    /// Pass on another peer's ephemeral message.
    Relay { to: Recipient, message: Message },
    /// Count the document among the peer's subscriptions, so they end when
    /// its connection does.
    Subscribe(PeerInfo),
}

/// What the hub may skip: a sync message refused or made to wait stops
/// after its effects.
#[derive(Debug)]
pub struct Admission {
    pub effects: Vec<Effect>,
    pub go_on: bool,
}

/// What applying a sync message leaves for the hub to do before it answers.
#[derive(Debug)]
pub enum Applied {
    /// Nothing new: answer the sender (once a failed flush has succeeded).
    Unchanged,
    /// New changes: record `claim` as the owner of this document new here
    /// (see [`DocState::claimed`]), store `write` (then
    /// [`DocState::written`]) and flush, then answer every subscriber.
    Changed {
        claim: Option<String>,
        write: Option<ChunkWrite>,
    },
}

/// The sync message could not be applied; the document is as stored.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// A closed connection's leaving, for the hub to finish.
#[derive(Debug)]
pub struct Left {
    pub effects: Vec<Effect>,
    /// A storage peer's sync state, to keep for its next visit.
    pub keep_sync_state: Option<sync::State>,
}

/// How long a document stays loaded, and in memory at all, once unused.
#[derive(Debug, Clone, Copy)]
pub struct UnloadPolicy {
    /// How long a busy document (see `Loaded::busy`), or one changed by the
    /// server, stays loaded once every subscribed device has all of it.
    unload_after: u64,
    /// How long a document nobody is subscribed to stays in memory.
    idle_timeout: u64,
}

impl UnloadPolicy {
    pub fn new(idle_timeout: Duration) -> Self {
        let unload_after = idle_timeout.min(Duration::from_secs(2));
        Self {
            unload_after: unload_after.as_millis() as u64,
            idle_timeout: idle_timeout.as_millis() as u64,
        }
    }

    pub fn unload_after(&self) -> Duration {
        Duration::from_millis(self.unload_after)
    }
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
    /// ([`DocState::release`]), so it is not read back for every keystroke.
    busy: bool,
}

pub struct DocState {
    doc_id: DocumentId,
    policy: UnloadPolicy,
    access: Access,
    /// The members of an owned document besides its owner, read with
    /// `access` and changed only through the hub, so it always matches what
    /// is stored.
    members: HashMap<String, Role>,
    /// `None` until the document is read or first synced, and again once
    /// unloaded or forgotten.
    loaded: Option<Box<Loaded>>,
    /// When it was last unloaded for every subscriber having all of it.
    unloaded_at: Option<u64>,
    subscribers: HashMap<PeerKey, Subscriber>,
    /// Peers that asked for the document before it existed here. If their
    /// own user then creates it (another device's changes arrive), they get
    /// it at once, as automerge-repo's own server would; nobody else does.
    waiters: HashMap<PeerKey, PeerInfo>,
}

impl DocState {
    pub fn new(doc_id: DocumentId, policy: UnloadPolicy) -> Self {
        Self {
            doc_id,
            policy,
            access: Access::Unloaded,
            members: HashMap::new(),
            loaded: None,
            unloaded_at: None,
            subscribers: HashMap::new(),
            waiters: HashMap::new(),
        }
    }

    /// Whether who owns it has been read from the store.
    pub fn is_read(&self) -> bool {
        self.access != Access::Unloaded
    }

    /// What the store says of it: who owns it, and its members if owned.
    pub fn read(&mut self, access: Access, members: HashMap<String, Role>) {
        self.access = access;
        self.members = members;
    }

    pub fn is_owned(&self) -> bool {
        matches!(self.access, Access::Owned(_))
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }

    /// An owned document whose contents are to be read from the store.
    pub fn needs_contents(&self) -> bool {
        self.is_owned() && self.loaded.is_none()
    }

    /// Its contents, as read from the store at `now`.
    pub fn contents_read(&mut self, doc: Automerge, persisted: Persisted, now: u64) {
        let busy = self
            .unloaded_at
            .is_some_and(|at| now.saturating_sub(at) < self.policy.unload_after);
        self.loaded = Some(Box::new(Loaded {
            doc,
            persisted,
            busy,
        }));
    }

    /// What to store so that every change in memory is on disk.
    fn next_write(&self) -> Option<ChunkWrite> {
        let loaded = self.loaded.as_deref()?;
        loaded.persisted.next_write(&self.doc_id, &loaded.doc)
    }

    /// `write` is stored (not yet flushed).
    pub fn written(&mut self, write: ChunkWrite) {
        if let Some(loaded) = self.loaded.as_deref_mut() {
            loaded.persisted.written(write);
        }
    }

    /// Where `user_id` stands with this document, for [`decide`]. One not
    /// read from the store yet gives nobody anything.
    pub fn standing_of(&self, user_id: &str) -> Standing {
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

    /// Whether `user_id` may do `act`, as [`decide`] says.
    pub fn allows(&self, user_id: &str, act: Act) -> bool {
        decide(self.standing_of(user_id), act) == Decision::Allow
    }

    /// Whether `peer`'s sync message (`act`) goes on to be applied, and
    /// what to tell it.
    pub fn admit(&mut self, peer: &PeerInfo, act: Act) -> Admission {
        let stop = |effects| Admission {
            effects,
            go_on: false,
        };
        let subscribe = Effect::Subscribe(peer.clone());
        match decide(self.standing_of(&peer.user_id), act) {
            Decision::Allow => {}
            Decision::Claim => {
                if self.access == Access::Unknown {
                    self.access = Access::Pending(peer.user_id.clone());
                }
            }
            Decision::Wait { tell_unavailable } => {
                self.waiters.insert(peer.key(), peer.clone());
                let mut effects = vec![subscribe];
                if tell_unavailable {
                    effects.push(Effect::Unavailable {
                        to: Recipient::of(peer),
                    });
                }
                return stop(effects);
            }
            Decision::RefuseChange => {
                // None of it is applied or relayed; the reader's other
                // documents and its updates of this one go on.
                let message = format!(
                    "document {} is shared with you to read: your change was not kept",
                    self.doc_id
                );
                let error = Effect::Error {
                    to: Recipient::of(peer),
                    message,
                };
                return stop(vec![subscribe, error]);
            }
            Decision::Unavailable => {
                return stop(vec![Effect::Unavailable {
                    to: Recipient::of(peer),
                }])
            }
        }
        Admission {
            effects: vec![subscribe],
            go_on: true,
        }
    }

    /// Applies an admitted peer's sync message. `stored_sync_state` gives
    /// the sync state kept for a peer that starts syncing on this
    /// connection (empty for peers without storage).
    pub fn apply_sync(
        &mut self,
        peer: &PeerInfo,
        message: sync::Message,
        stored_sync_state: &dyn Fn(&PeerInfo) -> sync::State,
    ) -> Result<Applied, Malformed> {
        // A document new to the server starts empty here.
        let Loaded { doc, .. } = &mut **self.loaded.get_or_insert_with(Box::default);
        let subscriber = self
            .subscribers
            .entry(peer.key())
            .or_insert_with(|| Subscriber {
                conn_id: peer.conn_id,
                sync: stored_sync_state(peer),
            });
        if subscriber.conn_id != peer.conn_id {
            *subscriber = Subscriber {
                conn_id: peer.conn_id,
                sync: stored_sync_state(peer),
            };
        }
        let heads_before = doc.get_heads();
        // automerge can panic on hostile input (see `sync_payload`); a panic
        // must cost only this message, not the connection's task.
        let applied = catch_unwind(AssertUnwindSafe(|| {
            doc.receive_sync_message(&mut subscriber.sync, message)
        }));
        let changed = doc.get_heads() != heads_before;
        if !matches!(applied, Ok(Ok(()))) {
            if applied.is_err() || changed {
                // Part of it may be in memory and not on disk: drop the copy
                // so nothing unwritten is ever acknowledged; the next use
                // reloads what is stored.
                tracing::warn!(document = %self.doc_id, "a sync message failed part-way; reloading the document");
                self.forget();
            }
            return Err(Malformed);
        }
        if !changed {
            return Ok(Applied::Unchanged);
        }
        let claim = match &self.access {
            Access::Pending(claimant) => Some(claimant.clone()),
            _ => None,
        };
        Ok(Applied::Changed {
            claim,
            write: self.next_write(),
        })
    }

    /// The store recorded `owner` as the owner of this new document: their
    /// own devices waiting for it subscribe and get it.
    pub fn claimed(&mut self, owner: &str, stored_sync_state: &dyn Fn(&PeerInfo) -> sync::State) {
        for (key, waiter) in self.waiters.drain() {
            if waiter.user_id == owner {
                let subscriber = Subscriber {
                    conn_id: waiter.conn_id,
                    sync: stored_sync_state(&waiter),
                };
                self.subscribers.insert(key, subscriber);
            }
        }
        self.access = Access::Owned(owner.to_owned());
    }

    /// The store refused the claim (someone else's arrived first, or it was
    /// deleted meanwhile): nothing of it is kept.
    pub fn claim_refused(&mut self, peer: &PeerInfo) -> Vec<Effect> {
        self.forget();
        vec![Effect::Unavailable {
            to: Recipient::of(peer),
        }]
    }

    /// The answer to `sender`'s sync message, once what it changed is on
    /// disk: the sender's next sync message and, if the document `changed`,
    /// every other subscriber's. Then the document is unloaded if every
    /// device has it (the drafts a device uploads on coming online), unless
    /// it is busy.
    pub fn answer(&mut self, sender: &PeerKey, changed: bool, now: u64) -> Vec<Effect> {
        let effects = self.sync_subscribers(if changed { None } else { Some(sender) });
        self.drop_if_empty();
        if !self.loaded.as_ref().is_some_and(|loaded| loaded.busy) {
            self.unload_if_caught_up(now);
        }
        effects
    }

    /// A change the server makes itself (for the owner, who was checked);
    /// the hub stores the write returned and flushes, then sends
    /// [`DocState::sync_subscribers`].
    pub fn change(&mut self, change: impl FnOnce(&mut Transaction<'_>)) -> Option<ChunkWrite> {
        let loaded = self
            .loaded
            .as_deref_mut()
            .expect("an owned document is loaded");
        let mut tx = loaded.doc.transaction();
        change(&mut tx);
        tx.commit();
        self.next_write()
    }

    /// Whatever the sync protocol says each subscriber (or only `only`)
    /// needs next.
    pub fn sync_subscribers(&mut self, only: Option<&PeerKey>) -> Vec<Effect> {
        let Some(loaded) = &self.loaded else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        for (key, subscriber) in &mut self.subscribers {
            if only.is_some_and(|only| only != key) {
                continue;
            }
            if let Some(data) = next_sync_message(self.doc_id, &loaded.doc, subscriber) {
                let to = Recipient {
                    peer: key.clone(),
                    conn_id: subscriber.conn_id,
                };
                effects.push(Effect::Sync { to, data });
            }
        }
        effects
    }

    /// `message` (an ephemeral one from `sender`) for every other subscriber.
    pub fn relay(&self, sender: &PeerKey, message: &Message) -> Vec<Effect> {
        let mut effects = Vec::new();
        for (key, subscriber) in &self.subscribers {
            if key == sender {
                continue;
            }
            let mut relayed = message.clone();
            if let Message::Ephemeral { target_id, .. } = &mut relayed {
                target_id.clone_from(&key.peer_id);
            }
            let to = Recipient {
                peer: key.clone(),
                conn_id: subscriber.conn_id,
            };
            effects.push(Effect::Relay {
                to,
                message: relayed,
            });
        }
        effects
    }

    /// A membership now stored.
    pub fn add_member(&mut self, user_id: &str, role: Role) {
        self.members.insert(user_id.to_owned(), role);
    }

    /// A membership now ended: the document closes at once on every device
    /// of that user.
    pub fn remove_member(&mut self, user_id: &str) -> Vec<Effect> {
        self.members.remove(user_id);
        let theirs: Vec<PeerKey> = self
            .subscribers
            .keys()
            .filter(|key| key.user_id == user_id)
            .cloned()
            .collect();
        let mut effects = Vec::new();
        for key in theirs {
            let subscriber = self.subscribers.remove(&key).expect("listed above");
            effects.push(Effect::Unavailable {
                to: Recipient {
                    peer: key,
                    conn_id: subscriber.conn_id,
                },
            });
        }
        effects
    }

    /// The document is now deleted in the store: every peer on it is told
    /// it is unavailable.
    pub fn deleted(&mut self) -> Vec<Effect> {
        self.access = Access::Deleted;
        self.loaded = None;
        self.subscribers
            .drain()
            .map(|(peer, subscriber)| Effect::Unavailable {
                to: Recipient {
                    peer,
                    conn_id: subscriber.conn_id,
                },
            })
            .collect()
    }

    /// `peer`'s connection closed. `None` if it was not subscribed on that
    /// connection.
    pub fn peer_left(&mut self, peer: &PeerInfo) -> Option<Left> {
        let key = peer.key();
        if self
            .waiters
            .get(&key)
            .is_some_and(|waiter| waiter.conn_id == peer.conn_id)
        {
            self.waiters.remove(&key);
        }
        if self
            .subscribers
            .get(&key)
            .is_none_or(|subscriber| subscriber.conn_id != peer.conn_id)
        {
            return None;
        }
        let subscriber = self.subscribers.remove(&key).expect("checked above");
        let mut effects = Vec::new();
        if matches!(self.access, Access::Pending(_)) && self.subscribers.is_empty() {
            // The device creating it left before sending any change: those
            // waiting for it are told it is unavailable, and go on waiting,
            // as for a document nobody has begun, so they get it when that
            // device (or another of the user's) sends it after all.
            self.access = Access::Unknown;
            for waiter in self.waiters.values() {
                effects.push(Effect::Unavailable {
                    to: Recipient::of(waiter),
                });
            }
        }
        let keep_sync_state =
            (peer.storage_id.is_some() && self.is_owned()).then_some(subscriber.sync);
        Some(Left {
            effects,
            keep_sync_state,
        })
    }

    /// At `now`, for a document nobody has used since `last_used`: unloads
    /// its contents once unused for the policy's `unload_after` if every
    /// subscriber has all of it, and says whether it stays in memory at
    /// all (it goes once nobody is subscribed or waiting for the idle
    /// timeout).
    pub fn release(&mut self, last_used: u64, now: u64) -> bool {
        let idle = now.saturating_sub(last_used);
        if idle < self.policy.unload_after {
            return true;
        }
        self.unload_if_caught_up(now);
        idle < self.policy.idle_timeout || !self.subscribers.is_empty() || !self.waiters.is_empty()
    }

    /// Drops the in-memory copy after a failed write, so changes that never
    /// reached the disk cannot be acknowledged later; the next use reloads
    /// what is stored, and peers resync (they still hold their changes).
    pub fn forget(&mut self) {
        self.access = Access::Unloaded;
        self.members.clear();
        self.loaded = None;
        self.subscribers.clear();
        self.waiters.clear();
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
        if !self.is_owned() || !self.waiters.is_empty() {
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
}

/// The subscriber's next sync message, if the protocol has one. The sync
/// state holds what the peer said it has; if automerge panics on it, that
/// peer's sync starts afresh instead.
fn next_sync_message(
    doc_id: DocumentId,
    doc: &Automerge,
    subscriber: &mut Subscriber,
) -> Option<Vec<u8>> {
    let generated = catch_unwind(AssertUnwindSafe(|| {
        doc.generate_sync_message(&mut subscriber.sync)
    }));
    let generated = generated.unwrap_or_else(|_| {
        tracing::warn!(document = %doc_id, "could not answer a peer's sync state; starting afresh");
        subscriber.sync = sync::State::new();
        None
    });
    generated.map(|message| message.encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use crate::sync::doc_store::DocStore;
    use automerge::transaction::Transactable;
    use std::sync::Arc;

    fn doc() -> DocumentId {
        DocumentId::from_bytes([4; 16])
    }

    fn peer(user_id: &str, peer_id: &str, conn_id: u64) -> PeerInfo {
        PeerInfo {
            peer_id: peer_id.into(),
            conn_id,
            user_id: user_id.into(),
            device_id: format!("device-{peer_id}"),
            storage_id: None,
        }
    }

    fn fresh(_: &PeerInfo) -> sync::State {
        sync::State::new()
    }

    struct Device {
        info: PeerInfo,
        doc: Automerge,
        sync: sync::State,
    }

    impl Device {
        fn new(info: PeerInfo) -> Self {
            Self {
                info,
                doc: Automerge::new(),
                sync: sync::State::new(),
            }
        }

        fn edit(&mut self, title: &str) {
            let mut tx = self.doc.transaction();
            tx.put(automerge::ROOT, "title", title).unwrap();
            tx.commit();
        }
    }

    /// What the hub does with one sync message, by hand and at `now`: read
    /// the contents if needed, admit, apply, claim, write, answer.
    fn receive(
        state: &mut DocState,
        store: &DocStore,
        from: &PeerInfo,
        message: sync::Message,
        request: bool,
        now: u64,
    ) -> Vec<Effect> {
        if state.needs_contents() {
            let (doc, persisted) = store.load(&doc()).unwrap();
            state.contents_read(doc, persisted, now);
        }
        let changes = !message.changes.is_empty();
        let act = if request {
            Act::Request { changes }
        } else {
            Act::Sync { changes }
        };
        let Admission { mut effects, go_on } = state.admit(from, act);
        if !go_on {
            return effects;
        }
        let applied = state.apply_sync(from, message, &fresh).unwrap();
        let changed = matches!(applied, Applied::Changed { .. });
        if let Applied::Changed { claim, write } = applied {
            if let Some(owner) = claim {
                assert!(store.claim(&doc(), &owner).unwrap());
                state.claimed(&owner, &fresh);
            }
            let write = write.expect("a change to write");
            store.write(&write).unwrap();
            state.written(write);
        }
        effects.extend(state.answer(&from.key(), changed, now));
        effects
    }

    /// Syncs `device` with the document at `now` until neither has more to
    /// say; returns what was meant for anyone else.
    fn sync_until_quiet(
        state: &mut DocState,
        store: &DocStore,
        device: &mut Device,
        now: u64,
    ) -> Vec<Effect> {
        let mut others = Vec::new();
        while let Some(message) = device.doc.generate_sync_message(&mut device.sync) {
            for effect in receive(state, store, &device.info, message, false, now) {
                match effect {
                    Effect::Sync { to, data } if to == Recipient::of(&device.info) => {
                        let reply = sync::Message::decode(&data).unwrap();
                        device
                            .doc
                            .receive_sync_message(&mut device.sync, reply)
                            .unwrap();
                    }
                    Effect::Subscribe(_) => {}
                    other => others.push(other),
                }
            }
        }
        others
    }

    fn unknown_document() -> DocState {
        let mut state = DocState::new(doc(), UnloadPolicy::new(Duration::from_secs(60)));
        state.read(Access::Unknown, HashMap::new());
        state
    }

    #[test]
    fn the_unload_delay_is_the_idle_timeout_up_to_two_seconds() {
        let policy = |secs| UnloadPolicy::new(Duration::from_secs(secs)).unload_after();
        assert_eq!(policy(60), Duration::from_secs(2));
        assert_eq!(policy(1), Duration::from_secs(1));
    }

    #[test]
    fn a_document_every_device_has_is_unloaded_at_once_and_a_busy_one_once_unused() {
        let store = DocStore::new(Arc::new(MemoryStore::new()));
        let mut state = unknown_document();
        let mut phone = Device::new(peer("user", "phone", 1));

        // Written offline and uploaded on coming online: unloaded as soon as
        // it is stored and the phone has all of it.
        phone.edit("written offline");
        sync_until_quiet(&mut state, &store, &mut phone, 0);
        assert!(!state.is_loaded());

        // Typed into again soon after: read back, then kept between keystrokes.
        for (text, now) in [("typing", 1_000), ("typing on", 1_500)] {
            phone.edit(text);
            sync_until_quiet(&mut state, &store, &mut phone, now);
            assert!(state.is_loaded(), "{text}");
        }

        // Unloaded once nobody has used it for the unload delay (2 s).
        assert!(state.release(1_500, 3_499));
        assert!(state.is_loaded(), "used too recently");
        assert!(state.release(1_500, 3_500), "the phone is still on it");
        assert!(!state.is_loaded());

        // Read back long after it was unloaded, it is not busy.
        phone.edit("much later");
        sync_until_quiet(&mut state, &store, &mut phone, 10_000);
        assert!(!state.is_loaded());

        // Once the phone has left, it stays in memory for the idle timeout.
        assert!(state.peer_left(&phone.info).is_some());
        assert!(state.release(10_000, 69_999));
        assert!(!state.release(10_000, 70_000));
    }

    #[test]
    fn a_document_not_every_device_has_stays_loaded() {
        let store = DocStore::new(Arc::new(MemoryStore::new()));
        let mut state = unknown_document();
        let mut phone = Device::new(peer("user", "phone", 1));
        let mut laptop = Device::new(peer("user", "laptop", 2));
        sync_until_quiet(&mut state, &store, &mut laptop, 0);
        phone.edit("from the phone");
        let for_laptop = sync_until_quiet(&mut state, &store, &mut phone, 0);
        assert!(
            matches!(&for_laptop[..], [Effect::Sync { to, .. }] if *to == Recipient::of(&laptop.info)),
            "{for_laptop:?}"
        );
        assert!(state.is_loaded(), "the laptop has not got it yet");
        assert!(state.release(0, 5_000));
        assert!(state.is_loaded(), "still not");
    }

    #[test]
    fn a_device_waiting_for_a_document_gets_it_when_its_own_user_creates_it() {
        let store = DocStore::new(Arc::new(MemoryStore::new()));
        let mut state = unknown_document();
        let hello = || {
            Automerge::new()
                .generate_sync_message(&mut sync::State::new())
                .unwrap()
        };
        let laptop = peer("user", "laptop", 2);
        let stranger = peer("someone else", "laptop", 3);
        for asking in [&laptop, &stranger] {
            let effects = receive(&mut state, &store, asking, hello(), true, 0);
            assert!(
                matches!(&effects[..], [Effect::Subscribe(_), Effect::Unavailable { to }] if *to == Recipient::of(asking)),
                "{effects:?}"
            );
        }

        let mut phone = Device::new(peer("user", "phone", 1));
        phone.edit("new entry");
        let others = sync_until_quiet(&mut state, &store, &mut phone, 0);
        let reached: Vec<&Recipient> = others
            .iter()
            .map(|effect| match effect {
                Effect::Sync { to, .. } => to,
                other => panic!("expected only sync messages, got {other:?}"),
            })
            .collect();
        assert_eq!(reached, [&Recipient::of(&laptop)], "never the stranger");
    }

    #[test]
    fn while_another_device_of_the_user_creates_it_a_request_waits_quietly() {
        let store = DocStore::new(Arc::new(MemoryStore::new()));
        let mut state = unknown_document();
        let phone = peer("user", "phone", 1);
        let hello = Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        receive(&mut state, &store, &phone, hello.clone(), false, 0);
        let laptop = peer("user", "laptop", 2);
        let effects = receive(&mut state, &store, &laptop, hello, true, 0);
        assert!(
            matches!(&effects[..], [Effect::Subscribe(_)]),
            "{effects:?}"
        );

        // The creating device leaves before sending a change: the waiting
        // one is told after all.
        let left = state.peer_left(&phone).unwrap();
        assert!(
            matches!(&left.effects[..], [Effect::Unavailable { to }] if *to == Recipient::of(&laptop)),
            "{:?}",
            left.effects
        );
        assert_eq!(state.standing_of("user"), Standing::Unknown);
    }

    #[test]
    fn a_readers_change_is_refused_and_none_of_it_applied() {
        let store = DocStore::new(Arc::new(MemoryStore::new()));
        let mut state = unknown_document();
        let mut owner = Device::new(peer("owner", "phone", 1));
        owner.edit("the owner's");
        sync_until_quiet(&mut state, &store, &mut owner, 0);
        state.add_member("reader", Role::Reader);

        let mut reader = Device::new(peer("reader", "tablet", 2));
        sync_until_quiet(&mut state, &store, &mut reader, 0);
        assert_eq!(reader.doc.get_heads(), owner.doc.get_heads(), "it reads it");
        reader.edit("the reader's");
        let refused = sync_until_quiet(&mut state, &store, &mut reader, 0);
        assert!(
            matches!(&refused[..], [Effect::Error { to, .. }] if *to == Recipient::of(&reader.info)),
            "{refused:?}"
        );
        let (stored, _) = store.load(&doc()).unwrap();
        assert_eq!(stored.get_heads(), owner.doc.get_heads(), "nothing kept");

        // Removed: the document closes on the reader's devices at once.
        let closed = state.remove_member("reader");
        assert!(
            matches!(&closed[..], [Effect::Unavailable { to }] if *to == Recipient::of(&reader.info)),
            "{closed:?}"
        );
        assert_eq!(state.standing_of("reader"), Standing::Stranger);
    }

    #[test]
    fn a_panic_in_automerge_costs_only_that_peers_sync_state() {
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
        let answer = next_sync_message(doc_id, &doc, &mut subscriber);
        assert!(answer.is_none(), "nothing sent");
        assert!(subscriber.sync.their_have.is_none(), "started afresh");
        // The next answer is an ordinary one.
        let offer = next_sync_message(doc_id, &doc, &mut subscriber).unwrap();
        let offer = sync::Message::decode(&offer).unwrap();
        assert_eq!(offer.heads, doc.get_heads());
    }
}
