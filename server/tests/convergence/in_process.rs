//! The sync core alone: the hub over the in-memory store, driven through
//! the same message handler as a WebSocket connection, and 3–5 devices of
//! one user on `fieldbook-testkit`'s in-memory network. A seeded scheduler
//! delivers messages in any order across documents and devices, drops
//! connections with messages in flight (the devices reconnect and sync
//! again, as real clients do), and takes devices offline while they edit.
//! Time passes now and then, and the hub unloads and forgets idle
//! documents as it does when serving. Once the network is quiet, every device and the store hold the same
//! documents, equal to a local merge of every change anyone made.
//!
//! The same with two users, the second given writing access to entries of
//! the first as they are made (as accepting an invitation does), so both
//! users' devices edit them.
//!
//! Every run of a test tries many seeds; the failing one is printed, and
//! `FIELDBOOK_SEED=<seed>` replays it alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, Automerge};
use fieldbook_server::clock::ManualClock;
use fieldbook_server::metrics::Metrics;
use fieldbook_server::sharing::{Membership, Role};
use fieldbook_server::store::{MemoryStore, Store};
use fieldbook_server::sync::connection::{handle_message, Flow};
use fieldbook_server::sync::doc_store::DocStore;
use fieldbook_server::sync::hub::{Hub, Outbound, PeerInfo};
use fieldbook_shared::wire::{self, Message};
use fieldbook_shared::DocumentId;
use fieldbook_testkit::entry::{document, listed_entries, root};
use fieldbook_testkit::network::{ConnId, Faults, Network, Sent, Server};
use fieldbook_testkit::rng::{seeds, ReplayHint};
use fieldbook_testkit::{Device, Rng};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const SEED_VAR: &str = "FIELDBOOK_SEED";
const SERVER_PEER: &str = "in-process-server";
/// How long the hub keeps a document nobody is subscribed to.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The hub as the network's server: each connection a registered peer
/// whose outbound channel the network reads. Its time moves only when the
/// test moves it, so a seed replays the hub's unloading too.
struct HubServer {
    hub: Hub,
    clock: Arc<ManualClock>,
    /// The hub's store, to read what it wrote.
    store: Arc<dyn Store>,
    conns: HashMap<ConnId, (PeerInfo, UnboundedReceiver<Outbound>)>,
}

impl Server for HubServer {
    async fn connect(&mut self, device: &Device) -> (ConnId, String) {
        let (tx, rx) = unbounded_channel();
        let info = PeerInfo {
            peer_id: device.name.clone(),
            conn_id: self.hub.next_conn_id(),
            user_id: device.user.clone(),
            device_id: device.name.clone(),
            storage_id: device.storage_id.clone(),
        };
        self.hub
            .register_peer(info.clone(), tx)
            .await
            .expect("each device has a peer ID of its own");
        let conn = info.conn_id;
        self.conns.insert(conn, (info, rx));
        (conn, SERVER_PEER.to_owned())
    }

    async fn receive(&mut self, conn: ConnId, message: &Message) {
        let (info, _) = &self.conns[&conn];
        // As bytes, through the connection's own handler: the wire codec
        // and the sender and target checks are part of what runs.
        match handle_message(&self.hub, info, &wire::encode(message)).await {
            Ok(Flow::Continue) => {}
            Ok(Flow::Leave) => panic!("a device's {} was taken as leave", message.type_name()),
            Err(refusal) => panic!("a device's {} was refused: {refusal}", message.type_name()),
        }
    }

    async fn disconnect(&mut self, conn: ConnId) {
        if let Some((info, _)) = self.conns.remove(&conn) {
            self.hub.unregister_peer(&info).await;
        }
    }

    fn sent(&mut self, conn: ConnId) -> Sent {
        let mut sent = Sent::default();
        if let Some((_, rx)) = self.conns.get_mut(&conn) {
            while let Ok(outbound) = rx.try_recv() {
                match outbound {
                    Outbound::Send(message) => sent.messages.push(message),
                    Outbound::Close(_) => sent.closed = true,
                }
            }
        }
        sent
    }
}

/// What a run ends with, to compare two runs of one seed.
#[derive(Debug, PartialEq)]
struct Outcome {
    documents: BTreeMap<DocumentId, automerge::hydrate::Value>,
    stats: fieldbook_testkit::network::Stats,
    ephemeral_heard: usize,
    /// Entries the first user shared with the second.
    shared: usize,
}

#[tokio::test]
async fn devices_of_one_user_converge_whatever_the_network_does() {
    run_seeds(&[3, 4, 5]).await;
}

#[tokio::test]
async fn two_users_sharing_entries_converge_whatever_the_network_does() {
    run_seeds(&[2, 2]).await;
}

/// Many seeds of [`simulate`], with `devices[u]` devices for user `u`
/// (one of them at random if there is one user).
async fn run_seeds(devices: &[usize]) {
    let (mut documents, mut delivered, mut drops, mut shared) = (0, 0, 0, 0);
    for seed in seeds(SEED_VAR, 100) {
        let _hint = ReplayHint {
            var: SEED_VAR,
            seed,
        };
        let outcome = simulate(seed, 40, devices).await;
        documents += outcome.documents.len();
        delivered += outcome.stats.delivered;
        drops += outcome.stats.dropped_connections;
        shared += outcome.shared;
    }
    assert!(drops > 0, "no run dropped a connection: the faults are off");
    let two_users = devices.len() == 2;
    assert_eq!(
        two_users,
        shared > 0,
        "entries are shared when there are two users"
    );
    println!(
        "in-process convergence with {}: {documents} documents agreed, {delivered} messages \
         delivered, {drops} connections dropped, {shared} entries shared",
        if two_users { "two users" } else { "one user" }
    );
}

/// The same seed must give the same run, or a printed seed replays nothing.
#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    let first = simulate(0x5eed, 40, &[3, 4, 5]).await;
    assert!(
        first.stats.delivered > 50,
        "the run did something: {first:?}"
    );
    assert_eq!(first, simulate(0x5eed, 40, &[3, 4, 5]).await);
    assert_ne!(
        first.documents,
        simulate(0x5eed + 1, 40, &[3, 4, 5]).await.documents,
        "seeds matter"
    );
}

/// One run. `devices`: with one user, how many devices it may have (one
/// is picked); with two, how many each has.
async fn simulate(seed: u64, steps: usize, devices: &[usize]) -> Outcome {
    let mut rng = Rng::new(seed);
    let per_user: Vec<usize> = if devices.len() > 2 {
        vec![devices[rng.below(devices.len())]]
    } else {
        devices.to_vec()
    };
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let docs = DocStore::new(store.clone());
    let users: Vec<String> = (1..=per_user.len()).map(|n| format!("user-{n}")).collect();
    // The local merge of every change anyone makes, roots first.
    let mut merged: BTreeMap<DocumentId, Automerge> = BTreeMap::new();
    let mut roots = Vec::new();
    for user in &users {
        let root_id = DocumentId::from_bytes(rng.bytes());
        let server_root = document(&root(&[]), Some(ActorId::from(rng.bytes::<16>())));
        docs.create(&root_id, user, &server_root)
            .expect("the root is stored");
        merged.insert(root_id, server_root);
        roots.push(root_id);
    }
    let clock = Arc::new(ManualClock::default());
    let hub = Hub::new(
        store.clone(),
        Arc::new(Metrics::default()),
        SERVER_PEER.into(),
        IDLE_TIMEOUT,
    )
    .with_clock(clock.clone());
    let server = HubServer {
        hub,
        clock,
        store,
        conns: HashMap::new(),
    };
    let faults = Faults {
        drop_percent: 2,
        drops_left: 6,
    };
    let mut network = Network::new(server, faults);
    for (user_index, count) in per_user.iter().enumerate() {
        for index in 0..*count {
            // Some keep their documents (the server then keeps its sync
            // state with them between connections), some do not.
            let storage_id = (index % 2 == 0).then(|| format!("storage-{user_index}-{index}"));
            let actor = ActorId::from(rng.bytes::<16>());
            let name = format!("device-{user_index}-{index}");
            let device = Device::new(
                &users[user_index],
                &name,
                storage_id,
                actor,
                roots[user_index],
            );
            let device = network.add(device);
            network.set_online(device, true).await;
        }
    }
    let device_count = network.devices.len();
    // Entries of the first user the second may write to.
    let mut shared: BTreeSet<DocumentId> = BTreeSet::new();

    for _ in 0..steps {
        let device = rng.below(device_count);
        let root_id = network.devices[device].root;
        let touched = match rng.below(100) {
            0..=11 => network
                .create_entry(device, &mut rng)
                .map_or_else(Vec::new, |id| vec![id, root_id]),
            12..=59 => {
                let id = network.devices[device].edit_some_entry(&mut rng);
                if let Some(id) = id {
                    network.changed(device, id);
                }
                id.into_iter().collect()
            }
            60..=69 => {
                let known: Vec<DocumentId> =
                    network.devices[device].docs.0.keys().copied().collect();
                network.ephemeral(device, known[rng.below(known.len())]);
                Vec::new()
            }
            70..=79 => {
                let online = !network.is_online(device);
                network.set_online(device, online).await;
                Vec::new()
            }
            // Time passes: caught-up documents are unloaded, unused ones
            // forgotten; whatever comes next reads them back.
            80..=84 => {
                let server = &network.server;
                let seconds = 1 + rng.below(2 * IDLE_TIMEOUT.as_secs() as usize);
                server.clock.advance(Duration::from_secs(seconds as u64));
                server.hub.release_idle();
                Vec::new()
            }
            // The second user is given an entry of the first that the
            // server has, as accepting an invitation gives it.
            85..=94 if users.len() > 1 => {
                if let Some(id) = share_one(&mut network, &users, &roots, &merged, &shared).await {
                    shared.insert(id);
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        for id in touched {
            let mut copy = network.devices[device].docs.0[&id].doc.clone();
            merged
                .entry(id)
                .or_default()
                .merge(&mut copy)
                .expect("copies of one document merge");
        }
        let burst = rng.below(40);
        network.run(&mut rng, burst).await;
    }

    // Everyone comes back and the network runs dry.
    for device in 0..device_count {
        network.set_online(device, true).await;
    }
    network.run_until_quiet(&mut rng).await;

    let agreed = network.agreed_documents();
    let ids: Vec<DocumentId> = agreed.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        merged.keys().copied().collect::<Vec<_>>(),
        "the devices hold exactly the documents anyone made"
    );
    // Each device holds its user's root, every entry it lists, and, for
    // the second user, every entry shared with it.
    for device in &network.devices {
        let mut expected: BTreeSet<DocumentId> =
            listed_entries(&merged[&device.root]).into_iter().collect();
        expected.insert(device.root);
        if device.root != roots[0] {
            expected.extend(&shared);
        }
        let held: BTreeSet<DocumentId> = device.docs.0.keys().copied().collect();
        assert_eq!(held, expected, "{} holds the wrong documents", device.name);
    }
    let stored = DocStore::new(network.server.store.clone());
    let mut documents = BTreeMap::new();
    for (id, doc) in agreed {
        let expected = &merged[&id];
        assert_eq!(
            doc.get_heads(),
            expected.get_heads(),
            "{id} on the devices differs from the merge of every change"
        );
        assert_eq!(doc.hydrate(None), expected.hydrate(None));
        let (on_disk, _) = stored.load(&id).expect("the store reads back");
        assert_eq!(
            on_disk.get_heads(),
            doc.get_heads(),
            "{id} in the store differs from the devices"
        );
        documents.insert(id, doc.hydrate(None));
    }
    Outcome {
        documents,
        stats: network.stats.clone(),
        ephemeral_heard: network.devices.iter().map(Device::ephemeral_heard).sum(),
        shared: shared.len(),
    }
}

/// Makes the second user a writer of an entry of the first that the
/// server holds and that is not shared yet, and has the second user's
/// devices follow it; returns it.
async fn share_one(
    network: &mut Network<HubServer>,
    users: &[String],
    roots: &[DocumentId],
    merged: &BTreeMap<DocumentId, Automerge>,
    shared: &BTreeSet<DocumentId>,
) -> Option<DocumentId> {
    let hub = &network.server.hub;
    let mut candidate = None;
    for id in listed_entries(&merged[&roots[0]]) {
        if !shared.contains(&id)
            && hub.owner_of(&id).expect("the store reads").as_deref() == Some(users[0].as_str())
        {
            candidate = Some(id);
            break;
        }
    }
    let id = candidate?;
    let membership = Membership {
        document_id: id,
        user_id: users[1].clone(),
        role: Role::Writer,
        display_name: "Peer".into(),
        owner_display_name: "Owner".into(),
        since: "2026-01-01T00:00:00Z".into(),
    };
    hub.sharing()
        .put_membership(&membership)
        .expect("the membership is stored");
    assert!(hub.admit_member(&membership).await.expect("the hub admits"));
    for device in 0..network.devices.len() {
        if network.devices[device].root == roots[1] {
            network.follow(device, id);
        }
    }
    Some(id)
}
