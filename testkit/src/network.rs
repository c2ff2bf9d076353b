//! Devices and an in-process server joined by an in-memory network with no
//! sockets and no clocks: a seeded scheduler picks, one step at a time,
//! which message is delivered next, drops connections with messages in
//! flight, and reconnects devices, until the network is quiet.
//!
//! Order is kept per document and connection (one sync conversation is a
//! sequence), and nothing else: messages of different documents, devices
//! and directions are delivered in any order. A dropped message ends its
//! connection, as a lost WebSocket does, and the device recovers the way a
//! real client does: it reconnects and syncs every document again.

use std::collections::VecDeque;

use automerge::Automerge;
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;

use crate::device::Device;
use crate::replica::Outgoing;
use crate::rng::Rng;

/// A connection, as the server numbers it.
pub type ConnId = u64;

/// What the server has sent on one connection since last asked.
#[derive(Debug, Default)]
pub struct Sent {
    pub messages: Vec<Message>,
    /// The server closed the connection after these.
    pub closed: bool,
}

/// The server end of the network: the code under test, in process.
// Driven from one thread and never spawned, so no `Send` bound is needed.
#[allow(async_fn_in_trait)]
pub trait Server {
    /// `device` has opened a connection and joined; returns the connection
    /// and the server's peer ID.
    async fn connect(&mut self, device: &Device) -> (ConnId, String);
    /// Hands the server one message from connection `conn`.
    async fn receive(&mut self, conn: ConnId, message: &Message);
    /// The connection is gone (a drop, or the device going offline).
    async fn disconnect(&mut self, conn: ConnId);
    /// What the server has sent on `conn` since last asked, in order.
    fn sent(&mut self, conn: ConnId) -> Sent;
}

/// How unreliable the network is.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Chance, in percent, that a delivery is lost instead (and with it
    /// the connection).
    pub drop_percent: u64,
    /// Drops left in this run, so that every run reaches quiet.
    pub drops_left: usize,
}

impl Faults {
    pub const NONE: Faults = Faults {
        drop_percent: 0,
        drops_left: 0,
    };
}

/// What a run did, to report it and to compare two runs of one seed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub delivered: usize,
    pub dropped_connections: usize,
    pub lost_messages: usize,
    pub connects: usize,
}

struct Link {
    conn: ConnId,
    server_id: String,
    /// Device to server.
    up: VecDeque<Message>,
    /// Server to device.
    down: VecDeque<Message>,
}

#[derive(Clone, Copy)]
enum Step {
    Up(usize),
    Down(usize),
    Connect(usize),
}

pub struct Network<S> {
    pub server: S,
    /// `FIELDBOOK_SIM_TRACE` set: every step is printed, to follow a
    /// replayed seed.
    trace: bool,
    pub devices: Vec<Device>,
    links: Vec<Option<Link>>,
    /// Whether each device wants to be connected (signal, app open).
    online: Vec<bool>,
    pub faults: Faults,
    pub stats: Stats,
}

/// Steps after which a network still busy is a livelock, not a slow run.
const MAX_STEPS: usize = 200_000;

impl<S: Server> Network<S> {
    pub fn new(server: S, faults: Faults) -> Self {
        Self {
            server,
            trace: std::env::var_os("FIELDBOOK_SIM_TRACE").is_some(),
            devices: Vec::new(),
            links: Vec::new(),
            online: Vec::new(),
            faults,
            stats: Stats::default(),
        }
    }

    /// Adds a device, offline until [`Network::set_online`]; returns its index.
    pub fn add(&mut self, device: Device) -> usize {
        self.devices.push(device);
        self.links.push(None);
        self.online.push(false);
        self.devices.len() - 1
    }

    /// A device goes offline (its connection and whatever was in flight on
    /// it are gone) or comes back (it connects at a step of the scheduler's
    /// choosing).
    pub async fn set_online(&mut self, device: usize, online: bool) {
        self.online[device] = online;
        if !online {
            self.cut(device).await;
        }
    }

    pub fn is_online(&self, device: usize) -> bool {
        self.online[device]
    }

    /// Sends what `doc` of `device` has to say after a local change, if the
    /// device is connected (otherwise it says it on connecting).
    pub fn changed(&mut self, device: usize, doc: DocumentId) {
        if self.links[device].is_some() {
            if let Some(outgoing) = self.devices[device].changes(doc) {
                self.queue_up(device, outgoing);
            }
        }
    }

    /// A new entry on `device`, if its root has come: the entry is sent
    /// before the root that lists it, as the PWA does (the network may
    /// still reorder them).
    pub fn create_entry(&mut self, device: usize, rng: &mut Rng) -> Option<DocumentId> {
        let id = self.devices[device].create_entry(rng)?;
        let root = self.devices[device].root;
        self.changed(device, id);
        self.changed(device, root);
        Some(id)
    }

    /// `device` starts following document `id` (shared with its user).
    pub fn follow(&mut self, device: usize, id: DocumentId) {
        let request = self.devices[device].follow(id);
        if let (Some(request), true) = (request, self.links[device].is_some()) {
            self.queue_up(device, request);
        }
    }

    /// An ephemeral message from `device` about `doc`, if it is connected.
    pub fn ephemeral(&mut self, device: usize, doc: DocumentId) {
        if let Some(link) = &mut self.links[device] {
            let message = self.devices[device].ephemeral(doc, &link.server_id);
            link.up.push_back(message);
        }
    }

    /// Runs up to `steps` steps; false if the network went quiet first.
    pub async fn run(&mut self, rng: &mut Rng, steps: usize) -> bool {
        for _ in 0..steps {
            if !self.step(rng).await {
                return false;
            }
        }
        true
    }

    /// Runs until nothing is in flight and every device that wants to be
    /// online is connected. Panics on a livelock.
    pub async fn run_until_quiet(&mut self, rng: &mut Rng) {
        assert!(
            !self.run(rng, MAX_STEPS).await,
            "the network is still busy after {MAX_STEPS} steps"
        );
    }

    /// One step of the scheduler; false if there was nothing to do.
    pub async fn step(&mut self, rng: &mut Rng) -> bool {
        let mut steps = Vec::new();
        for (device, link) in self.links.iter().enumerate() {
            match link {
                Some(link) => {
                    if !link.up.is_empty() {
                        steps.push(Step::Up(device));
                    }
                    if !link.down.is_empty() {
                        steps.push(Step::Down(device));
                    }
                }
                None if self.online[device] => steps.push(Step::Connect(device)),
                None => {}
            }
        }
        if steps.is_empty() {
            return false;
        }
        match steps[rng.below(steps.len())] {
            Step::Connect(device) => self.connect(device).await,
            Step::Up(device) | Step::Down(device) if self.drops(rng) => {
                self.note(device, "connection dropped", None);
                self.stats.dropped_connections += 1;
                self.cut(device).await;
            }
            Step::Up(device) => {
                let link = self.links[device].as_mut().expect("listed as linked");
                let message = take_one(&mut link.up, rng);
                let conn = link.conn;
                self.note(device, "->", Some(&message));
                self.stats.delivered += 1;
                self.server.receive(conn, &message).await;
                self.collect_sent().await;
            }
            Step::Down(device) => {
                let link = self.links[device].as_mut().expect("listed as linked");
                let message = take_one(&mut link.down, rng);
                self.note(device, "<-", Some(&message));
                self.stats.delivered += 1;
                for outgoing in self.devices[device].receive(&message) {
                    self.queue_up(device, outgoing);
                }
            }
        }
        true
    }

    fn note(&self, device: usize, what: &str, message: Option<&Message>) {
        if self.trace {
            let name = &self.devices[device].name;
            match message {
                Some(message) => eprintln!(
                    "{name} {what} {} {:?}",
                    message.type_name(),
                    document_of(message)
                ),
                None => eprintln!("{name} {what}"),
            }
        }
    }

    fn drops(&mut self, rng: &mut Rng) -> bool {
        let faults = &mut self.faults;
        if faults.drops_left > 0 && rng.chance(faults.drop_percent) {
            faults.drops_left -= 1;
            return true;
        }
        false
    }

    async fn connect(&mut self, device: usize) {
        self.note(device, "connects", None);
        let (conn, server_id) = self.server.connect(&self.devices[device]).await;
        self.stats.connects += 1;
        self.links[device] = Some(Link {
            conn,
            server_id,
            up: VecDeque::new(),
            down: VecDeque::new(),
        });
        for outgoing in self.devices[device].connected() {
            self.queue_up(device, outgoing);
        }
    }

    /// Ends `device`'s connection, losing whatever is in flight on it.
    async fn cut(&mut self, device: usize) {
        if let Some(link) = self.links[device].take() {
            self.note(device, "disconnected", None);
            self.stats.lost_messages += link.up.len() + link.down.len();
            self.server.disconnect(link.conn).await;
        }
    }

    /// Moves what the server has sent, on every connection, into flight.
    async fn collect_sent(&mut self) {
        for device in 0..self.links.len() {
            let Some(link) = &mut self.links[device] else {
                continue;
            };
            let sent = self.server.sent(link.conn);
            link.down.extend(sent.messages);
            if sent.closed {
                self.cut(device).await;
            }
        }
    }

    fn queue_up(&mut self, device: usize, outgoing: Outgoing) {
        let link = self.links[device]
            .as_mut()
            .expect("only a connected device sends");
        let message = outgoing.message(&self.devices[device].name, &link.server_id);
        link.up.push_back(message);
    }

    /// One copy of every document any device has, each checked to be the
    /// same (heads and content) on every device that holds it and in step
    /// with the server there. Which devices should hold what is the test's
    /// to check. Call once the network is quiet.
    pub fn agreed_documents(&self) -> Vec<(DocumentId, Automerge)> {
        let mut agreed: Vec<(DocumentId, Automerge)> = Vec::new();
        let mut first_holder: Vec<&str> = Vec::new();
        for device in &self.devices {
            for (id, replica) in &device.docs.0 {
                assert!(
                    replica.in_step(),
                    "{} is not in step with the server on {id}",
                    device.name
                );
                match agreed.iter().position(|(known, _)| known == id) {
                    Some(at) => {
                        let expected = &agreed[at].1;
                        assert_eq!(
                            replica.doc.get_heads(),
                            expected.get_heads(),
                            "{} and {} differ on {id}",
                            device.name,
                            first_holder[at]
                        );
                        assert_eq!(replica.doc.hydrate(None), expected.hydrate(None));
                    }
                    None => {
                        agreed.push((*id, replica.doc.clone()));
                        first_holder.push(&device.name);
                    }
                }
            }
        }
        agreed.sort_by_key(|(id, _)| *id);
        agreed
    }
}

/// Takes the first message of a random document in `queue` (one
/// document's messages stay in order; different documents' do not).
fn take_one(queue: &mut VecDeque<Message>, rng: &mut Rng) -> Message {
    // Sorted, so the choice does not hang on the order in which the server
    // happened to send to one connection about different documents.
    let mut docs: Vec<Option<DocumentId>> = queue.iter().map(document_of).collect();
    docs.sort();
    docs.dedup();
    let doc = docs[rng.below(docs.len())];
    let at = queue
        .iter()
        .position(|message| document_of(message) == doc)
        .expect("listed above");
    queue.remove(at).expect("in range")
}

fn document_of(message: &Message) -> Option<DocumentId> {
    match message {
        Message::Sync { document_id, .. }
        | Message::Request { document_id, .. }
        | Message::DocUnavailable { document_id, .. }
        | Message::Ephemeral { document_id, .. } => Some(*document_id),
        _ => None,
    }
}
