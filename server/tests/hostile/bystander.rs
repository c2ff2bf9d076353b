//! Another user, editing and syncing on the same server the whole time a
//! test attacks it. It is the proof that hostile input harms nobody else:
//! every round (an edit, synced until the server acknowledges it) must
//! finish in time, its connection must never be closed, and nothing but its
//! own document's sync may ever reach it.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::support::*;

pub const BYSTANDER_PEER: &str = "bystander-phone";
/// Words only the bystander's document holds; no attacker may ever see them.
pub const SECRET: &str = "SECRET-home-visit-notes";
/// The pause between rounds.
const PACE: std::time::Duration = std::time::Duration::from_millis(5);

pub struct Bystander {
    pub doc_id: DocumentId,
    token: String,
    rounds: watch::Receiver<u64>,
    stop: Arc<AtomicBool>,
    task: JoinHandle<Automerge>,
}

impl Bystander {
    /// Registers the bystander's account, uploads its document and starts
    /// its edit-and-sync loop.
    pub async fn start(server: &TestServer) -> Self {
        let (_, session) = account_and_session(server, "bystander@example.org").await;
        let mut peer = Peer::join(server, &session.token, BYSTANDER_PEER).await;
        let doc_id = new_doc_id();
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        let notes = tx.put_object(ROOT, keys::NOTES, ObjType::Text).unwrap();
        tx.splice_text(&notes, 0, 0, SECRET).unwrap();
        tx.commit();
        let (rounds_tx, rounds) = watch::channel(0);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let task = tokio::spawn(async move {
            let mut state = sync::State::new();
            let mut round = 0;
            while !stopping.load(SeqCst) {
                round += 1;
                let mut tx = doc.transaction();
                let notes = tx.get(ROOT, keys::NOTES).unwrap().unwrap().1;
                let end = tx.length(&notes);
                tx.splice_text(&notes, end, 0, &format!(" {round}"))
                    .unwrap();
                tx.commit();
                sync_until_acknowledged(&mut peer, doc_id, &mut doc, &mut state).await;
                rounds_tx.send_replace(round);
                // A busy user, not a flood: each round costs the server a
                // flush to disk, and the attacks need the CPU too.
                tokio::time::sleep(PACE).await;
            }
            doc
        });
        Self {
            doc_id,
            token: session.token,
            rounds,
            stop,
            task,
        }
    }

    /// Waits for a whole round that started after `what` was done to the
    /// server: the bystander is still syncing, unaffected.
    pub async fn still_syncing_after(&mut self, what: &str) {
        let now = *self.rounds.borrow_and_update();
        let finished = tokio::time::timeout(WAIT, self.rounds.wait_for(|r| *r >= now + 2)).await;
        assert!(
            matches!(finished, Ok(Ok(_))),
            "the bystander stopped syncing after {what}"
        );
    }

    /// Stops the loop; a second device of the bystander then fetches the
    /// document, which must hold every round, exactly as the bystander has
    /// it. Returns how many rounds were synced.
    pub async fn finish(self, server: &TestServer) -> u64 {
        self.stop.store(true, SeqCst);
        let doc = self.task.await.expect("the bystander never failed");
        let rounds = *self.rounds.borrow();
        let mut laptop = Peer::join(server, &self.token, "bystander-laptop").await;
        let mut copy = Replica::empty(self.doc_id);
        let heads = doc.get_heads();
        copy.sync_until(&mut laptop, |d| d.get_heads() == heads)
            .await;
        let text = |d: &Automerge| {
            let notes = d.get(ROOT, keys::NOTES).unwrap().unwrap().1;
            d.text(&notes).unwrap()
        };
        assert_eq!(text(&copy.doc), text(&doc));
        assert!(text(&doc).ends_with(&format!(" {rounds}")));
        rounds
    }
}

/// Sends `doc`'s changes and answers the server until it has all of them.
/// Anything but sync for this document, or the connection closing, fails.
async fn sync_until_acknowledged(
    peer: &mut Peer,
    doc_id: DocumentId,
    doc: &mut Automerge,
    state: &mut sync::State,
) {
    send_next(peer, doc_id, doc, state).await;
    while state.shared_heads != doc.get_heads() {
        match peer.recv().await {
            Some(Message::Sync {
                document_id, data, ..
            }) if document_id == doc_id => {
                let message = sync::Message::decode(&data).unwrap();
                doc.receive_sync_message(state, message).unwrap();
                send_next(peer, doc_id, doc, state).await;
            }
            None => panic!("the bystander's connection was closed"),
            Some(other) => panic!("the bystander was sent {other:?}"),
        }
    }
}

async fn send_next(peer: &mut Peer, doc_id: DocumentId, doc: &Automerge, state: &mut sync::State) {
    if let Some(message) = doc.generate_sync_message(state) {
        let message = peer.sync_message(doc_id, message.encode());
        peer.send(&message).await;
    }
}
