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
//! Every run of the test tries many seeds; the failing one is printed, and
//! `FIELDBOOK_SEED=<seed>` replays it alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, Automerge};
use fieldbook_server::clock::ManualClock;
use fieldbook_server::metrics::Metrics;
use fieldbook_server::store::{MemoryStore, Store};
use fieldbook_server::sync::connection::{handle_message, Flow};
use fieldbook_server::sync::doc_store::DocStore;
use fieldbook_server::sync::hub::{Hub, Outbound, PeerInfo};
use fieldbook_shared::wire::{self, Message};
use fieldbook_shared::DocumentId;
use fieldbook_testkit::entry::{document, root};
use fieldbook_testkit::network::{ConnId, Faults, Network, Sent, Server};
use fieldbook_testkit::rng::{seeds, ReplayHint};
use fieldbook_testkit::{Device, Rng};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const SEED_VAR: &str = "FIELDBOOK_SEED";
const SERVER_PEER: &str = "in-process-server";
const USER: &str = "user-1";
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
}

#[tokio::test]
async fn devices_of_one_user_converge_whatever_the_network_does() {
    let (mut documents, mut delivered, mut drops) = (0, 0, 0);
    for seed in seeds(SEED_VAR, 100) {
        let _hint = ReplayHint {
            var: SEED_VAR,
            seed,
        };
        let outcome = simulate(seed, 40).await;
        documents += outcome.documents.len();
        delivered += outcome.stats.delivered;
        drops += outcome.stats.dropped_connections;
    }
    assert!(drops > 0, "no run dropped a connection: the faults are off");
    println!(
        "in-process convergence: {documents} documents agreed, {delivered} messages delivered, \
         {drops} connections dropped"
    );
}

/// The same seed must give the same run, or a printed seed replays nothing.
#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    let first = simulate(0x5eed, 40).await;
    assert!(
        first.stats.delivered > 50,
        "the run did something: {first:?}"
    );
    assert_eq!(first, simulate(0x5eed, 40).await);
    assert_ne!(
        first.documents,
        simulate(0x5eed + 1, 40).await.documents,
        "seeds matter"
    );
}

async fn simulate(seed: u64, steps: usize) -> Outcome {
    let mut rng = Rng::new(seed);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let docs = DocStore::new(store.clone());
    let root_id = DocumentId::from_bytes(rng.bytes());
    let server_root = document(&root(&[]), Some(ActorId::from(rng.bytes::<16>())));
    docs.create(&root_id, USER, &server_root)
        .expect("the root is stored");
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
    let device_count = 3 + rng.below(3);
    for index in 0..device_count {
        // Some keep their documents (the server then keeps its sync state
        // with them between connections), some do not.
        let storage_id = (index % 2 == 0).then(|| format!("storage-{index}"));
        let actor = ActorId::from(rng.bytes::<16>());
        let name = format!("device-{index}");
        let device = Device::new(USER, &name, storage_id, actor, root_id);
        let device = network.add(device);
        network.set_online(device, true).await;
    }
    // The local merge of every change any device makes.
    let mut merged: BTreeMap<DocumentId, Automerge> = BTreeMap::from([(root_id, server_root)]);

    for _ in 0..steps {
        let device = rng.below(device_count);
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
    }
}
