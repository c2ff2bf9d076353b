//! Crash safety: SIGKILL the real `fieldbook` binary again and again while
//! devices sync as fast as they can, restart it on the same data directory,
//! and check that every change it acknowledged is still there, and that all
//! devices converge at the end.
//!
//! "Acknowledged" means what it means to automerge-repo: the server sent a
//! sync message whose heads include the change (that is how a device learns
//! the server has it). The server flushes a change to disk before it sends
//! anyone a message whose heads include it, so every head it ever announced
//! must survive a SIGKILL. The devices record every head the server
//! announces; after each restart a separate device fetches each document and
//! checks they are all there.
//!
//! `FIELDBOOK_CRASH_SEED` replays a run's edits and kill points (the timing
//! of a kill within the traffic still varies); `FIELDBOOK_CRASH_KILLS` sets
//! how many kills (default 24).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash, ReadDoc};
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;
use tokio::sync::{watch, Notify};

use fieldbook_testkit::entry::{edit_entry, has_all};
use fieldbook_testkit::replica::in_step;
use fieldbook_testkit::{seed_from_env, Rng};

use super::support::*;

const DEVICES: usize = 3;
const ENTRIES: usize = 4;
const DEFAULT_KILLS: usize = 24;

/// What the devices and the test share.
struct Shared {
    /// The server's address while it is up; `None` while it is down.
    addr: watch::Sender<Option<SocketAddr>>,
    /// Every head the server announced, per document: all acknowledged.
    acked: Mutex<HashMap<DocumentId, HashSet<ChangeHash>>>,
    /// Sync messages the devices have had from the server, to time kills
    /// during traffic rather than while devices reconnect.
    heard: AtomicU64,
    progress: Notify,
    reconnects: AtomicU64,
    edits: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn record(&self, doc_id: DocumentId, heads: &[ChangeHash]) {
        lock(&self.acked)
            .entry(doc_id)
            .or_default()
            .extend(heads.iter().copied());
        self.heard.fetch_add(1, SeqCst);
        self.progress.notify_waiters();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_repeated_sigkills_during_heavy_sync() {
    let seed = seed_from_env("FIELDBOOK_CRASH_SEED");
    let kills: usize = std::env::var("FIELDBOOK_CRASH_KILLS")
        .ok()
        .map(|n| n.parse().expect("FIELDBOOK_CRASH_KILLS is a number"))
        .unwrap_or(DEFAULT_KILLS);
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_binary(dir.path());
    let mut server = child_server(&mut child, dir.path()).await;

    register(&server, "crash@example.org").await;
    let tokens: Vec<String> = {
        let mut tokens = Vec::new();
        for _ in 0..=DEVICES {
            tokens.push(login(&server, "crash@example.org").await.token);
        }
        tokens
    };
    let verifier_token = tokens[DEVICES].clone();

    // Every device starts from the same entries, uploaded before any kill.
    let base = upload_base(&server, &verifier_token, &mut rng, ENTRIES).await;

    let shared = Arc::new(Shared {
        addr: watch::channel(Some(server.addr)).0,
        acked: Mutex::default(),
        heard: AtomicU64::new(0),
        progress: Notify::new(),
        reconnects: AtomicU64::new(0),
        edits: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let devices: Vec<_> = (0..DEVICES)
        .map(|index| {
            tokio::spawn(device(
                index,
                tokens[index].clone(),
                base.clone(),
                shared.clone(),
                rng.next_u64(),
            ))
        })
        .collect();

    let mut heads_checked = 0;
    for kill in 0..kills {
        // A random amount of traffic, then a random instant within it.
        let target = shared.heard.load(SeqCst) + 1 + rng.below(60) as u64;
        loop {
            let progressed = shared.progress.notified();
            if shared.heard.load(SeqCst) >= target {
                break;
            }
            tokio::time::timeout(WAIT, progressed)
                .await
                .expect("devices keep syncing");
        }
        tokio::time::sleep(Duration::from_micros(rng.below(20_000) as u64)).await;
        let acknowledged = lock(&shared.acked).clone();
        child.kill().await.unwrap();
        shared.addr.send_replace(None);

        // The binary prints its address only once the store has opened.
        child = spawn_binary(dir.path());
        server = child_server(&mut child, dir.path()).await;
        let ready = client().get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "ready after kill {kill}");
        shared.addr.send_replace(Some(server.addr));
        heads_checked += check_acknowledged(&server, &verifier_token, &acknowledged, kill).await;
    }

    shared.stop.store(true, SeqCst);
    // Wakes devices waiting for an address.
    shared.addr.send_replace(Some(server.addr));
    let mut replicas: Vec<Vec<Replica>> = Vec::new();
    let mut made = Vec::new();
    for device in devices {
        let (docs, changes) = tokio::time::timeout(WAIT, device).await.unwrap().unwrap();
        replicas.push(docs);
        made.extend(changes);
    }

    // Every device syncs everything with the server twice over: the first
    // round gathers every change on the server, the second hands them out.
    for _round in 0..2 {
        for (index, docs) in replicas.iter_mut().enumerate() {
            let mut link = Peer::connect(
                &server.ws_url(),
                &tokens[index],
                &format!("crash-device-{index}"),
                Some(format!("crash-storage-{index}")),
            )
            .await
            .expect("the server is up");
            for replica in docs.iter_mut() {
                replica.state = sync::State::new();
                sync_to_fixed_point(&mut link, replica).await;
            }
            link.close().await;
        }
    }
    let acknowledged = lock(&shared.acked).clone();
    heads_checked += check_acknowledged(&server, &verifier_token, &acknowledged, kills).await;
    let mut changes = 0;
    for doc in 0..ENTRIES {
        let first = &replicas[0][doc].doc;
        for (index, docs) in replicas.iter().enumerate().skip(1) {
            assert_eq!(
                docs[doc].doc.get_heads(),
                first.get_heads(),
                "device {index} differs from device 0 on entry {doc}"
            );
            assert_eq!(docs[doc].doc.hydrate(None), first.hydrate(None));
        }
        changes += first.get_changes(&[]).len();
    }
    // Changes the server never acknowledged were still on their device,
    // so they must have arrived everywhere too.
    let missing = made
        .iter()
        .filter(|change| {
            !replicas[0]
                .iter()
                .any(|e| e.doc.get_change_by_hash(change).is_some())
        })
        .count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} edits never arrived",
        made.len()
    );
    child.kill().await.unwrap();
    println!(
        "crash test: {kills} SIGKILLs survived in {:.1} s; {} edits by {DEVICES} devices \
         ({} reconnects); {heads_checked} acknowledged heads checked after restarts, \
         none lost; all {changes} changes on every device at the end",
        started.elapsed().as_secs_f64(),
        shared.edits.load(SeqCst),
        shared.reconnects.load(SeqCst),
    );
}

/// One device: edits a random entry, syncs it until the server acknowledges
/// it, answers whatever the server pushes, and reconnects whenever the
/// server goes away. Returns its documents once told to stop.
async fn device(
    index: usize,
    token: String,
    base: Vec<(DocumentId, Vec<u8>)>,
    shared: Arc<Shared>,
    seed: u64,
) -> (Vec<Replica>, Vec<ChangeHash>) {
    let mut rng = Rng::new(seed);
    let peer_id = format!("crash-device-{index}");
    let mut docs = load_base(&base, &mut rng);
    let mut made = Vec::new();
    let mut addresses = shared.addr.subscribe();
    'connection: while !shared.stop.load(SeqCst) {
        let addr = *addresses.borrow_and_update();
        let link = match addr {
            Some(addr) => {
                Peer::connect(
                    &format!("ws://{addr}/sync"),
                    &token,
                    &peer_id,
                    Some(format!("crash-storage-{index}")),
                )
                .await
            }
            None => None,
        };
        let Some(mut link) = link else {
            // Down, or killed since we read its address: wait for the next.
            let _ = addresses.changed().await;
            continue;
        };
        shared.reconnects.fetch_add(1, SeqCst);
        // A new connection starts a new sync conversation, as in automerge-repo.
        for replica in &mut docs {
            replica.state = sync::State::new();
        }
        while !shared.stop.load(SeqCst) {
            let i = rng.below(docs.len());
            for _ in 0..1 + rng.below(3) {
                if let Some(change) = edit_entry(&mut docs[i].doc, &mut rng, &peer_id) {
                    made.push(change);
                    shared.edits.fetch_add(1, SeqCst);
                }
            }
            let Replica { id, doc, state } = &mut docs[i];
            if link.offer(*id, doc, state).await.is_err() {
                continue 'connection;
            }
            while docs[i].state.shared_heads != docs[i].doc.get_heads() {
                match link.recv().await {
                    None => continue 'connection,
                    Some(Message::Sync {
                        document_id, data, ..
                    }) => {
                        let message = sync::Message::decode(&data).unwrap();
                        shared.record(document_id, &message.heads);
                        let replica = docs
                            .iter_mut()
                            .find(|r| r.id == document_id)
                            .expect("only our entries");
                        replica
                            .doc
                            .receive_sync_message(&mut replica.state, message)
                            .unwrap();
                        let Replica { id, doc, state } = replica;
                        if link.offer(*id, doc, state).await.is_err() {
                            continue 'connection;
                        }
                    }
                    Some(other) => panic!("device {index} got {other:?}"),
                }
            }
        }
        link.close().await;
    }
    (docs, made)
}

/// Syncs one document with the server until neither side has anything the
/// other lacks (nobody else is editing).
async fn sync_to_fixed_point(link: &mut Peer, replica: &mut Replica) {
    link.offer(replica.id, &replica.doc, &mut replica.state)
        .await
        .expect("the server is up");
    while !in_step(&replica.doc, &replica.state) {
        match link.recv().await.expect("the server is up") {
            Message::Sync {
                document_id, data, ..
            } if document_id == replica.id => {
                let message = sync::Message::decode(&data).unwrap();
                replica
                    .doc
                    .receive_sync_message(&mut replica.state, message)
                    .unwrap();
                link.offer(replica.id, &replica.doc, &mut replica.state)
                    .await
                    .expect("the server is up");
            }
            Message::Sync { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Fetches every document from the restarted server and checks that every
/// head acknowledged before the kill is in it. Returns how many were checked.
async fn check_acknowledged(
    server: &TestServer,
    token: &str,
    acknowledged: &HashMap<DocumentId, HashSet<ChangeHash>>,
    kill: usize,
) -> usize {
    let mut link = Peer::connect(&server.ws_url(), token, "crash-verifier", None)
        .await
        .expect("the restarted server accepts connections");
    let mut checked = 0;
    for (doc_id, heads) in acknowledged {
        let mut doc = Automerge::new();
        let mut state = sync::State::new();
        link.offer(*doc_id, &doc, &mut state).await.unwrap();
        // Devices keep editing meanwhile, so wait only until we hold
        // everything the server had when it last wrote to us.
        loop {
            match link.recv().await.expect("the server is up") {
                Message::Sync {
                    document_id, data, ..
                } if document_id == *doc_id => {
                    let message = sync::Message::decode(&data).unwrap();
                    doc.receive_sync_message(&mut state, message).unwrap();
                    link.offer(*doc_id, &doc, &mut state).await.unwrap();
                    if state
                        .their_heads
                        .as_deref()
                        .is_some_and(|theirs| has_all(&doc, theirs))
                    {
                        break;
                    }
                }
                Message::Sync { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let heads: Vec<ChangeHash> = heads.iter().copied().collect();
        let lost = heads
            .iter()
            .filter(|head| doc.get_change_by_hash(head).is_none())
            .count();
        assert_eq!(
            lost,
            0,
            "after kill {kill}: {lost} of {} acknowledged heads of {doc_id} are gone",
            heads.len()
        );
        checked += heads.len();
    }
    link.close().await;
    checked
}
