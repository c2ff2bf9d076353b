//! A seeded, structure-aware fuzzer for the wire decoder and the
//! per-connection message handler (`connection::handle_message`), on
//! stable Rust with no extra dependencies.
//!
//! Inputs start from a corpus of valid messages of every type (aimed at the
//! attacker's own document, at another user's document holding a secret, at
//! unknown documents; with real automerge sync payloads) and are then
//! mutated: bit flips, interesting bytes, inserted CBOR heads with huge
//! lengths, deep nesting, truncation, splicing, or, keeping the CBOR
//! intact, a mutated sync payload. Every input goes through `wire::decode`
//! and, as a message from the attacker's joined connection, through the
//! handler, on a hub over memory storage.
//!
//! What must hold, for every input:
//! - nothing panics (a panic fails the test with the seed and input count);
//! - a decoded message re-encodes and decodes to itself;
//! - an error's text never contains the victim's secret;
//! - the attacker is never sent a message about the victim's document
//!   other than doc-unavailable, and the victim's connection never hears
//!   a thing;
//! - afterwards the victim's document is exactly as it was.

use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use fieldbook_server::metrics::Metrics;
use fieldbook_server::store::MemoryStore;
use fieldbook_server::sync::connection::handle_message;
use fieldbook_server::sync::hub::{Hub, Outbound, PeerInfo};
use fieldbook_shared::entry::keys;
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use fieldbook_testkit::Rng;

const SERVER: &str = "fuzz-server";
const ATTACKER: &str = "mallory";
const VICTIM: &str = "victim-phone";
const SECRET: &str = "SECRET-child-protection-visit";

/// What a fuzzing run did.
#[derive(Debug, Default)]
pub struct Report {
    pub executions: u64,
    pub decoded: u64,
    pub accepted: u64,
    pub refused: u64,
    pub elapsed: Duration,
}

pub async fn run(seed: u64, executions: u64) -> Report {
    let mut rng = Rng::new(seed);
    let hub = Hub::new(
        Arc::new(MemoryStore::new()),
        Arc::new(Metrics::default()),
        SERVER.into(),
        Duration::from_secs(60),
    );
    let victim = peer(VICTIM, 1, "victim-user");
    let attacker = peer(ATTACKER, 2, "attacker-user");
    let (tx, mut victim_inbox) = unbounded_channel();
    hub.register_peer(victim.clone(), tx).await.unwrap();
    let (tx, mut attacker_inbox) = unbounded_channel();
    hub.register_peer(attacker.clone(), tx).await.unwrap();

    let secret_doc = DocumentId::from_bytes(rng.bytes());
    let mut secret = text_doc(SECRET);
    upload(&hub, &victim, &mut victim_inbox, secret_doc, &mut secret).await;
    let own_doc = DocumentId::from_bytes(rng.bytes());
    let mut own = text_doc("mine");
    upload(&hub, &attacker, &mut attacker_inbox, own_doc, &mut own).await;

    let docs = [
        secret_doc,
        own_doc,
        DocumentId::from_bytes(rng.bytes()),
        DocumentId::from_bytes(rng.bytes()),
    ];
    let payloads = payloads(&secret, &own);
    let corpus = corpus(&docs, &payloads);

    let started = Instant::now();
    let mut report = Report::default();
    for execution in 0..executions {
        let input = next_input(&mut rng, &corpus, &docs, &payloads);
        report.executions += 1;
        if let Ok(message) = wire::decode(&input) {
            report.decoded += 1;
            assert_eq!(
                wire::decode(&wire::encode(&message)).as_ref(),
                Ok(&message),
                "seed {seed}, execution {execution}: re-encoding changed the message"
            );
        }
        match handle_message(&hub, &attacker, &input).await {
            Ok(_) => report.accepted += 1,
            Err(refusal) => {
                report.refused += 1;
                assert!(
                    !refusal.to_string().contains(SECRET),
                    "seed {seed}, execution {execution}: an error carried the secret"
                );
            }
        }
        while let Ok(outbound) = attacker_inbox.try_recv() {
            check_not_leaked(&outbound, secret_doc, seed, execution);
        }
        if let Ok(outbound) = victim_inbox.try_recv() {
            panic!("seed {seed}, execution {execution}: the victim was sent {outbound:?}");
        }
    }
    report.elapsed = started.elapsed();

    // The victim's document is untouched and still served to its owner.
    let mut copy = Automerge::new();
    let fresh = peer("victim-laptop", 3, "victim-user");
    let (tx, mut inbox) = unbounded_channel();
    hub.register_peer(fresh.clone(), tx).await.unwrap();
    exchange(&hub, &fresh, &mut inbox, secret_doc, &mut copy).await;
    assert_eq!(copy.get_heads(), secret.get_heads(), "seed {seed}");
    report
}

fn peer(peer_id: &str, conn_id: u64, user: &str) -> PeerInfo {
    PeerInfo {
        peer_id: peer_id.into(),
        conn_id,
        user_id: user.into(),
        device_id: format!("{peer_id}-device"),
        storage_id: None,
    }
}

fn text_doc(text: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let notes = tx.put_object(ROOT, keys::NOTES, ObjType::Text).unwrap();
    tx.splice_text(&notes, 0, 0, text).unwrap();
    tx.commit();
    doc
}

/// Syncs `doc` to the hub as `peer` until the hub has all of it.
async fn upload(
    hub: &Hub,
    peer: &PeerInfo,
    inbox: &mut UnboundedReceiver<Outbound>,
    doc_id: DocumentId,
    doc: &mut Automerge,
) {
    let state = exchange(hub, peer, inbox, doc_id, doc).await;
    assert_eq!(state.shared_heads, doc.get_heads());
}

/// Syncs `doc` with the hub's copy as `peer` until neither has anything
/// to say. The hub answers before `receive_sync` returns, so an empty
/// inbox means it had nothing to say (waiting would hang).
async fn exchange(
    hub: &Hub,
    peer: &PeerInfo,
    inbox: &mut UnboundedReceiver<Outbound>,
    doc_id: DocumentId,
    doc: &mut Automerge,
) -> sync::State {
    let mut state = sync::State::new();
    while let Some(message) = doc.generate_sync_message(&mut state) {
        hub.receive_sync(peer, doc_id, &message.encode(), false)
            .await
            .unwrap();
        match inbox.try_recv() {
            Ok(Outbound::Send(Message::Sync { data, .. })) => doc
                .receive_sync_message(&mut state, sync::Message::decode(&data).unwrap())
                .unwrap(),
            Err(TryRecvError::Empty) => break,
            other => panic!("expected a sync reply, got {other:?}"),
        }
    }
    state
}

/// Real sync payloads: opening offers, and messages carrying all changes,
/// of the attacker's document, of an unrelated one, and of the victim's
/// (as if the attacker had a copy and tried to push or probe with it).
fn payloads(secret: &Automerge, own: &Automerge) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for doc in [secret, own, &text_doc("unrelated")] {
        let mut state = sync::State::new();
        let offer = doc.generate_sync_message(&mut state).unwrap();
        out.push(offer.clone().encode());
        // Answer as a peer with nothing would, to get one with the changes.
        let mut empty = Automerge::new();
        let mut theirs = sync::State::new();
        empty.receive_sync_message(&mut theirs, offer).unwrap();
        let ask = empty.generate_sync_message(&mut theirs).unwrap();
        doc.clone().receive_sync_message(&mut state, ask).unwrap();
        if let Some(changes) = doc.generate_sync_message(&mut state) {
            out.push(changes.encode());
        }
    }
    out.push(Vec::new());
    out
}

fn corpus(docs: &[DocumentId], payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for doc in docs {
        for payload in payloads {
            for sender in [ATTACKER, VICTIM] {
                out.push(wire::encode(&sync(sender, SERVER, *doc, payload.clone())));
                out.push(wire::encode(&Message::Request {
                    sender_id: sender.into(),
                    target_id: SERVER.into(),
                    document_id: *doc,
                    data: payload.clone(),
                }));
            }
            out.push(wire::encode(&sync(ATTACKER, VICTIM, *doc, payload.clone())));
        }
        out.push(wire::encode(&Message::Ephemeral {
            sender_id: ATTACKER.into(),
            target_id: SERVER.into(),
            document_id: *doc,
            session_id: "session".into(),
            count: 1,
            data: SECRET.as_bytes().to_vec(),
        }));
        out.push(wire::encode(&Message::DocUnavailable {
            sender_id: ATTACKER.into(),
            target_id: SERVER.into(),
            document_id: *doc,
        }));
    }
    out.push(wire::encode(&Message::Join {
        sender_id: ATTACKER.into(),
        peer_metadata: PeerMetadata {
            storage_id: Some("storage".into()),
            is_ephemeral: false,
        },
        supported_protocol_versions: vec!["1".into()],
    }));
    out.push(wire::encode(&Message::Peer {
        sender_id: ATTACKER.into(),
        target_id: SERVER.into(),
        peer_metadata: PeerMetadata::default(),
        selected_protocol_version: "1".into(),
    }));
    out.push(wire::encode(&Message::Error {
        sender_id: ATTACKER.into(),
        target_id: SERVER.into(),
        message: "oops".into(),
    }));
    out.push(wire::encode(&Message::Leave {
        sender_id: ATTACKER.into(),
    }));
    out.push(wire::encode(&Message::RemoteSubscriptionChange {
        sender_id: ATTACKER.into(),
        target_id: SERVER.into(),
    }));
    out.push(wire::encode(&Message::RemoteHeadsChanged {
        sender_id: ATTACKER.into(),
        target_id: SERVER.into(),
    }));
    out
}

fn sync(sender: &str, target: &str, doc: DocumentId, data: Vec<u8>) -> Message {
    Message::Sync {
        sender_id: sender.into(),
        target_id: target.into(),
        document_id: doc,
        data,
    }
}

/// CBOR heads that claim huge or indefinite lengths, break codes, tags,
/// `undefined`, and the like.
const INTERESTING: &[&[u8]] = &[
    &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
    &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0x5a, 0xff, 0xff, 0xff, 0xff],
    &[0x9f],
    &[0xbf],
    &[0x5f],
    &[0x7f],
    &[0xff],
    &[0xf7],
    &[0xf6],
    &[0xd8, 0x40],
    &[0xc6],
    &[0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
    &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0x1c],
    &[0xfc],
];

fn next_input(
    rng: &mut Rng,
    corpus: &[Vec<u8>],
    docs: &[DocumentId],
    payloads: &[Vec<u8>],
) -> Vec<u8> {
    match rng.below(10) {
        // Valid CBOR around a mutated sync payload: exercises automerge's
        // decoder and the hub's access control rather than ours.
        0..=2 => {
            let mut data = payloads[rng.below(payloads.len())].clone();
            mutate(rng, &mut data, payloads);
            let doc = docs[rng.below(docs.len())];
            let message = if rng.chance(50) {
                sync(ATTACKER, SERVER, doc, data)
            } else {
                Message::Request {
                    sender_id: ATTACKER.into(),
                    target_id: SERVER.into(),
                    document_id: doc,
                    data,
                }
            };
            wire::encode(&message)
        }
        // A valid message, mutated as bytes.
        3..=8 => {
            let mut input = corpus[rng.below(corpus.len())].clone();
            for _ in 0..1 + rng.below(4) {
                mutate(rng, &mut input, corpus);
            }
            input
        }
        // Noise.
        _ => {
            let len = rng.below(64);
            (0..len).map(|_| rng.next_u64() as u8).collect()
        }
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, others: &[Vec<u8>]) {
    let at = |rng: &mut Rng, input: &Vec<u8>| rng.below(input.len() + 1);
    match rng.below(11) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] = rng.next_u64() as u8;
        }
        2 => {
            let i = at(rng, input);
            let head = INTERESTING[rng.below(INTERESTING.len())];
            input.splice(i..i, head.iter().copied());
        }
        3 if !input.is_empty() => {
            // Overwrite rather than insert, so lengths elsewhere still hold.
            let i = rng.below(input.len());
            let head = INTERESTING[rng.below(INTERESTING.len())];
            for (offset, byte) in head.iter().enumerate() {
                if let Some(slot) = input.get_mut(i + offset) {
                    *slot = *byte;
                }
            }
        }
        4 => input.truncate(rng.below(input.len() + 1)),
        5 if !input.is_empty() => {
            let start = rng.below(input.len());
            let end = start + rng.below(input.len() - start + 1);
            input.drain(start..end);
        }
        6 if !input.is_empty() => {
            let start = rng.below(input.len());
            let end = start + rng.below((input.len() - start).min(64) + 1);
            let chunk = input[start..end].to_vec();
            let i = at(rng, input);
            input.splice(i..i, chunk);
        }
        7 => {
            let other = &others[rng.below(others.len())];
            if !other.is_empty() {
                let start = rng.below(other.len());
                let i = at(rng, input);
                input.truncate(i);
                input.extend_from_slice(&other[start..]);
            }
        }
        8 => {
            // Deep nesting: a run of one-item arrays or maps.
            let i = at(rng, input);
            let byte = if rng.chance(50) { 0x81 } else { 0xa1 };
            let depth = 1 + rng.below(100);
            input.splice(i..i, std::iter::repeat_n(byte, depth));
        }
        9 => {
            let i = at(rng, input);
            let noise: Vec<u8> = (0..1 + rng.below(8))
                .map(|_| rng.next_u64() as u8)
                .collect();
            input.splice(i..i, noise);
        }
        _ => {
            let i = at(rng, input);
            let value = rng.next_u64().to_be_bytes();
            input.splice(i..i, value[..1 + rng.below(8)].iter().copied());
        }
    }
}

fn check_not_leaked(outbound: &Outbound, secret_doc: DocumentId, seed: u64, execution: u64) {
    // Only doc-unavailable may name the victim's document. (The secret's
    // bytes themselves may legitimately come back: the attacker's corpus
    // holds a copy of the victim's changes, and may upload them as a
    // document of its own.)
    let leaked = matches!(
        outbound,
        Outbound::Send(
            Message::Sync { document_id, .. }
                | Message::Request { document_id, .. }
                | Message::Ephemeral { document_id, .. }
        ) if *document_id == secret_doc
    );
    assert!(
        !leaked,
        "seed {seed}, execution {execution}: the attacker was sent {outbound:?}"
    );
}
