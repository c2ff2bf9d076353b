//! Over real sockets: a seeded, reproducible simulation of one user's devices.
//! Each step a random device edits a random entry (text fields, notes,
//! status), creates a new entry (listed in the root document), goes offline
//! or comes back, or reconnects and syncs everything through the server.
//! At the end every device syncs, and every device's copy of every document
//! must equal the server's and a local merge of every change ever made.
//!
//! One device acts at a time and syncs to a fixed point, and every change
//! has a fixed timestamp and actor, so the same seed gives the same run:
//! `FIELDBOOK_CONVERGENCE_SEED=<seed>` replays a failure;
//! `FIELDBOOK_CONVERGENCE_STEPS` makes the run longer (default 300).

use std::collections::BTreeMap;

use automerge::hydrate;
use automerge::sync::{self, SyncDoc};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ObjType, ReadDoc, ROOT};
use fieldbook_shared::entry::keys;
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;
use fieldbook_testkit::entry::{edit_entry, new_entry};
use fieldbook_testkit::replica::in_step;
use fieldbook_testkit::{seed_from_env, Rng};

use crate::support::*;

const DEVICES: usize = 4;
const DEFAULT_STEPS: usize = 300;

struct Device {
    name: String,
    token: String,
    actor: ActorId,
    online: bool,
    /// Its copy of each document it knows, the root included.
    docs: BTreeMap<DocumentId, Automerge>,
}

/// What a run ends with, to compare two runs of one seed.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// By document ID, but "root" for the root document, whose ID the
    /// server picks at random.
    documents: BTreeMap<String, hydrate::Value>,
    edits: usize,
    syncs: usize,
}

#[tokio::test]
async fn devices_with_random_edits_and_offline_periods_converge() {
    let seed = seed_from_env("FIELDBOOK_CONVERGENCE_SEED");
    let steps = std::env::var("FIELDBOOK_CONVERGENCE_STEPS")
        .ok()
        .map(|n| n.parse().expect("FIELDBOOK_CONVERGENCE_STEPS is a number"))
        .unwrap_or(DEFAULT_STEPS);
    let outcome = simulate(seed, steps).await;
    println!(
        "convergence: seed {seed}, {steps} steps, {DEVICES} devices, {} edits, {} reconnects, \
         {} documents identical on every device, the server and the local merge",
        outcome.edits,
        outcome.syncs,
        outcome.documents.len()
    );
}

/// The same seed must give the same run, or a printed seed replays nothing.
#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    let seed = 0x5eed;
    let first = simulate(seed, 60).await;
    let second = simulate(seed, 60).await;
    assert!(first.edits > 10, "the run did something: {first:?}");
    assert_eq!(first, second);
    let other = simulate(seed + 1, 60).await;
    assert_ne!(first.documents, other.documents, "seeds matter");
}

async fn simulate(seed: u64, steps: usize) -> Outcome {
    let mut rng = Rng::new(seed);
    let server = TestServer::start().await;
    let account = register(&server, "merge@example.org").await;
    let mut devices = Vec::new();
    for index in 0..DEVICES {
        let actor = ActorId::from(rng.bytes::<16>());
        devices.push(Device {
            name: format!("device-{index}"),
            token: login(&server, "merge@example.org").await.token,
            docs: BTreeMap::from([(account.root, Automerge::new().with_actor(actor.clone()))]),
            actor,
            online: true,
        });
    }
    // Every device starts with the root document the server made.
    for device in &mut devices {
        sync_device(&server, device, account.root).await;
    }
    // The local merge of every change any device makes.
    let mut merged: BTreeMap<DocumentId, Automerge> =
        BTreeMap::from([(account.root, devices[0].docs[&account.root].clone())]);
    let (mut edits, mut syncs) = (0, 0);

    for step in 0..steps {
        let device = &mut devices[rng.below(DEVICES)];
        match rng.below(100) {
            // A new entry, added to the root document's list.
            0..=7 => {
                let id = DocumentId::from_bytes(rng.bytes());
                let entry = new_entry(device.actor.clone());
                let root = device.docs.get_mut(&account.root).unwrap();
                let mut tx = root.transaction();
                let entries = tx.get(ROOT, keys::ENTRIES).unwrap().unwrap().1;
                let listed = tx
                    .put_object(&entries, id.to_string(), ObjType::Map)
                    .unwrap();
                tx.put(&listed, keys::ADDED_AT, step as i64).unwrap();
                tx.commit_with(CommitOptions::default().with_time(0));
                device.docs.insert(id, entry);
                for id in [id, account.root] {
                    let mut copy = device.docs[&id].clone();
                    merged.entry(id).or_default().merge(&mut copy).unwrap();
                }
                edits += 2;
            }
            // Edits to an entry the device has.
            8..=64 => {
                let entries: Vec<DocumentId> = device
                    .docs
                    .keys()
                    .copied()
                    .filter(|id| *id != account.root)
                    .collect();
                if entries.is_empty() {
                    continue;
                }
                let id = entries[rng.below(entries.len())];
                let doc = device.docs.get_mut(&id).unwrap();
                for _ in 0..1 + rng.below(4) {
                    if edit_entry(doc, &mut rng, &device.name).is_some() {
                        edits += 1;
                    }
                }
                merged.get_mut(&id).unwrap().merge(doc).unwrap();
            }
            // A setting changed on the root document (concurrent puts conflict).
            65..=69 => {
                let root = device.docs.get_mut(&account.root).unwrap();
                let mut tx = root.transaction();
                let settings = tx.get(ROOT, keys::SETTINGS).unwrap().unwrap().1;
                tx.put(&settings, "reminderDay", rng.below(28) as i64)
                    .unwrap();
                tx.commit_with(CommitOptions::default().with_time(0));
                merged.get_mut(&account.root).unwrap().merge(root).unwrap();
                edits += 1;
            }
            // Signal lost, or back.
            70..=84 => device.online = !device.online,
            _ => {}
        }
        // Online devices sync after each of their own steps.
        if device.online {
            sync_device(&server, device, account.root).await;
            syncs += 1;
        }
    }

    // Everyone comes online: one round gathers every change on the server,
    // the next hands them out.
    for _round in 0..2 {
        for device in &mut devices {
            device.online = true;
            sync_device(&server, device, account.root).await;
        }
    }
    let mut fresh = Device {
        name: "fresh".into(),
        token: login(&server, "merge@example.org").await.token,
        actor: ActorId::random(),
        online: true,
        docs: BTreeMap::from([(account.root, Automerge::new())]),
    };
    sync_device(&server, &mut fresh, account.root).await;

    let mut documents = BTreeMap::new();
    for (id, expected) in &merged {
        for device in devices.iter().chain([&fresh]) {
            let doc = device
                .docs
                .get(id)
                .unwrap_or_else(|| panic!("{} never got {id} (seed {seed})", device.name));
            assert_eq!(
                doc.get_heads(),
                expected.get_heads(),
                "{}'s copy of {id} differs from the merge of all changes (seed {seed})",
                device.name
            );
            assert_eq!(doc.hydrate(None), expected.hydrate(None), "seed {seed}");
        }
        let name = if *id == account.root {
            "root".to_owned()
        } else {
            id.to_string()
        };
        documents.insert(name, expected.hydrate(None));
    }
    assert_eq!(
        fresh.docs.len(),
        merged.len(),
        "no documents beyond the merge"
    );
    server.stop().await;
    Outcome {
        documents,
        edits,
        syncs,
    }
}

/// Connects (a reconnect, each time) and syncs every document the device
/// knows, entries before the root so the server has an entry before any
/// device can see it listed; then fetches entries it has just learnt of.
async fn sync_device(server: &TestServer, device: &mut Device, root: DocumentId) {
    let mut link = Peer::connect(&server.ws_url(), &device.token, &device.name, None)
        .await
        .expect("the server is up");
    let mut order: Vec<DocumentId> = device
        .docs
        .keys()
        .copied()
        .filter(|id| *id != root)
        .collect();
    order.push(root);
    for id in order {
        sync_doc(&mut link, id, device.docs.get_mut(&id).unwrap()).await;
    }
    let listed: Vec<DocumentId> = {
        let root = &device.docs[&root];
        let entries = root.get(ROOT, keys::ENTRIES).unwrap().unwrap().1;
        root.keys(&entries)
            .map(|key| DocumentId::parse(&key).unwrap())
            .collect()
    };
    for id in listed {
        if !device.docs.contains_key(&id) {
            let mut doc = Automerge::new().with_actor(device.actor.clone());
            sync_doc(&mut link, id, &mut doc).await;
            assert!(!doc.get_heads().is_empty(), "listed entry {id} has data");
            device.docs.insert(id, doc);
        }
    }
    link.close().await;
}

async fn sync_doc(link: &mut Peer, id: DocumentId, doc: &mut Automerge) {
    let mut state = sync::State::new();
    link.offer(id, doc, &mut state).await.unwrap();
    while !in_step(doc, &state) {
        match link.recv().await.expect("the server stays up") {
            Message::Sync {
                document_id, data, ..
            } if document_id == id => {
                doc.receive_sync_message(&mut state, sync::Message::decode(&data).unwrap())
                    .unwrap();
                link.offer(id, doc, &mut state).await.unwrap();
            }
            // Late answers about documents synced earlier on this connection.
            Message::Sync { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
