//! The hostile corpus over real sync sockets: one attacker, one connection
//! per case, against the real server while a bystander of another account
//! keeps syncing (see `bystander`). Each case must get an `error` message
//! and a closed connection, or `doc-unavailable`, or be harmlessly accepted,
//! as it says; nothing about the bystander's document may ever reach the
//! attacker, and after each group the bystander must still be syncing.

use std::time::Instant;

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ReadDoc};
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Frame;

use super::bystander::{Bystander, BYSTANDER_PEER, SECRET};
use super::cbor::{head, map, text, V};
use crate::support::*;

const ATTACKER: &str = "mallory";
/// Small, so oversized messages are cheap to send.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// What a case must get.
enum Expect {
    /// An `error` message containing this text, then the connection closes.
    Error(&'static str),
    /// `doc-unavailable` for this document; the connection stays usable.
    Unavailable(DocumentId),
    /// No error: the connection stays usable.
    Accepted,
    /// Either of the two above: for mutated payloads whose fate depends on
    /// which bytes changed. Still fails on a hang, a leak or a bad close.
    ErrorOrAccepted,
    /// The connection closes (the WebSocket layer refuses the frame).
    Closed,
}

struct Case {
    name: String,
    /// Whether the attacker joins before sending `frames`.
    joined: bool,
    frames: Vec<Vec<u8>>,
    expect: Expect,
}

fn case(name: impl Into<String>, frame: Vec<u8>, expect: Expect) -> Case {
    Case {
        name: name.into(),
        joined: true,
        frames: vec![frame],
        expect,
    }
}

/// What the attacker knows: its own document (uploaded), the bystander's
/// document ID (assume it leaked), the server's peer ID, real payloads.
struct Scene {
    server_id: String,
    own: DocumentId,
    victim: DocumentId,
    /// A real sync message carrying all of a document's changes.
    changes: Vec<u8>,
    /// A real opening sync message (heads and a bloom filter, no changes).
    offer: Vec<u8>,
}

impl Scene {
    fn sync(&self, doc: DocumentId, data: Vec<u8>) -> Vec<u8> {
        wire::encode(&Message::Sync {
            sender_id: ATTACKER.into(),
            target_id: self.server_id.clone(),
            document_id: doc,
            data,
        })
    }

    fn request(&self, doc: DocumentId, data: Vec<u8>) -> Vec<u8> {
        wire::encode(&Message::Request {
            sender_id: ATTACKER.into(),
            target_id: self.server_id.clone(),
            document_id: doc,
            data,
        })
    }

    /// The fields of a valid sync message as CBOR values, to break one at a time.
    fn sync_fields(&self) -> Vec<(&'static str, V)> {
        vec![
            ("type", text("sync")),
            ("senderId", text(ATTACKER)),
            ("targetId", text(&self.server_id)),
            ("documentId", text(&self.own.to_string())),
            ("data", V::Bytes(self.offer.clone())),
        ]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sync_messages_close_only_the_attackers_connection() {
    let started = Instant::now();
    let server = TestServer::start_with(|c| c.max_message_bytes = MAX_MESSAGE_BYTES).await;
    let mut bystander = Bystander::start(&server).await;
    let (_, session) = account_and_session(&server, "mallory@example.org").await;
    let token = session.token;

    let mut attacker = Peer::join(&server, &token, ATTACKER).await;
    let own = new_doc_id();
    let mut mine = Replica::new(own, entry("mine"));
    assert_eq!(
        mine.sync_until(&mut attacker, |_| true).await,
        Outcome::Synced
    );
    let server_id = attacker.server_id.clone();
    drop(attacker);
    let scene = Scene {
        server_id,
        own,
        victim: bystander.doc_id,
        changes: changes_payload(&entry("a copy of someone's notes")),
        offer: entry("offer")
            .generate_sync_message(&mut sync::State::new())
            .unwrap()
            .encode(),
    };

    let groups: Vec<(&str, Vec<Case>)> = vec![
        ("truncated CBOR", truncated(&scene)),
        ("malformed CBOR", malformed(&scene)),
        ("type confusion", type_confusion(&scene)),
        ("huge declared lengths", huge_lengths(&scene)),
        ("deep nesting", deep_nesting(&scene)),
        ("garbage sync payloads", garbage_payloads(&scene)),
        ("wrong senderId or targetId", wrong_ids(&scene)),
        ("another user's document", victims_document(&scene)),
        ("hostile joins", hostile_joins(&scene)),
        ("oversized messages", oversized(&scene)),
    ];
    let mut tried = 0;
    for (group, cases) in groups {
        assert!(!cases.is_empty(), "{group}");
        for case in cases {
            run_case(&server, &token, &scene, case).await;
            tried += 1;
        }
        bystander.still_syncing_after(group).await;
    }

    join_floods(&server, &token, &scene).await;
    bystander.still_syncing_after("join floods").await;

    // Joining with the bystander's peer ID is another user's business: it
    // is accepted, and the bystander neither notices nor leaks anything.
    let mut squatter = Peer::join(&server, &token, BYSTANDER_PEER).await;
    bystander
        .still_syncing_after("another user joining with its peer ID")
        .await;
    let ask = squatter.request_message(scene.victim, scene.offer.clone());
    squatter.send(&ask).await;
    match recv_checked(&mut squatter, &scene, "squatting").await {
        Some(Message::DocUnavailable { document_id, .. }) if document_id == scene.victim => {}
        other => panic!("squatting: expected doc-unavailable, got {other:?}"),
    }
    drop(squatter);

    // The server still serves the attacker's own document, with every
    // change it had (mutated payloads that stayed valid may have added some).
    let mut honest = Peer::join(&server, &token, "mallory-laptop").await;
    let mut copy = Replica::empty(own);
    let original = mine.doc.get_heads();
    assert_eq!(
        copy.sync_until(&mut honest, |d| original
            .iter()
            .all(|head| d.get_change_by_hash(head).is_some()))
            .await,
        Outcome::Synced
    );
    let rounds = bystander.finish(&server).await;
    println!(
        "hostile sync corpus: {tried} cases, each closed with an error, refused or harmless, \
         and join floods (1000 joins on one connection, 200 connections in a row with one \
         peer ID, 200 at once) and another user's device with its peer ID; the bystander synced {rounds} rounds meanwhile and lost \
         nothing ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    server.stop().await;
}

fn entry(text: &str) -> Automerge {
    with_text(keys::NOTES, text)
}

/// A sync message carrying every change of `doc`, as a peer with nothing
/// would receive it.
fn changes_payload(doc: &Automerge) -> Vec<u8> {
    let mut ours = sync::State::new();
    let mut theirs = sync::State::new();
    let mut empty = Automerge::new();
    let offer = doc.generate_sync_message(&mut ours).unwrap();
    empty.receive_sync_message(&mut theirs, offer).unwrap();
    let ask = empty.generate_sync_message(&mut theirs).unwrap();
    doc.clone().receive_sync_message(&mut ours, ask).unwrap();
    doc.generate_sync_message(&mut ours).unwrap().encode()
}

/// One case on a fresh connection, then its expectation checked.
async fn run_case(server: &TestServer, token: &str, scene: &Scene, case: Case) {
    let mut peer = if case.joined {
        Peer::join(server, token, ATTACKER).await
    } else {
        Peer::unjoined(open_socket(server, token).await, ATTACKER, &scene.server_id)
    };
    for frame in case.frames {
        // The server may close after any frame; later sends may then fail.
        if peer.socket.send(Frame::Binary(frame.into())).await.is_err() {
            break;
        }
    }
    let name = &case.name;
    match case.expect {
        Expect::Error(expected) => {
            let error = expect_error(&mut peer, scene, name).await;
            assert!(error.contains(expected), "{name}: error was {error:?}");
        }
        Expect::Unavailable(doc) => {
            match recv_checked(&mut peer, scene, name).await {
                Some(Message::DocUnavailable { document_id, .. }) if document_id == doc => {}
                other => panic!("{name}: expected doc-unavailable, got {other:?}"),
            }
            still_usable(&mut peer, scene, name).await;
        }
        Expect::Accepted => {
            if let Some(error) = next_error(&mut peer, scene, name).await {
                panic!("{name}: refused with {error:?}")
            }
        }
        Expect::ErrorOrAccepted => {
            next_error(&mut peer, scene, name).await;
        }
        Expect::Closed => {
            assert!(
                recv_checked(&mut peer, scene, name).await.is_none(),
                "{name}: the connection stayed open"
            );
        }
    }
}

/// The `error` message the server sends before it closes the connection.
async fn expect_error(peer: &mut Peer, scene: &Scene, name: &str) -> String {
    loop {
        match recv_checked(peer, scene, name).await {
            Some(Message::Error { message, .. }) => {
                assert!(
                    recv_checked(peer, scene, name).await.is_none(),
                    "{name}: the connection closes after an error"
                );
                return message;
            }
            // Answers to what the case sent before the bad part.
            Some(Message::Peer { .. } | Message::Sync { .. } | Message::DocUnavailable { .. }) => {
                continue
            }
            Some(other) => panic!("{name}: unexpected {other:?}"),
            None => panic!("{name}: closed without an error message"),
        }
    }
}

/// Probes the connection with a request for a fresh document: `None` if
/// it answers doc-unavailable (still usable), or the error the server sent
/// before closing. An error must be followed by the close.
async fn next_error(peer: &mut Peer, scene: &Scene, name: &str) -> Option<String> {
    let probe = new_doc_id();
    // Ignore a failed send: the server may have closed already, and the
    // error is then waiting to be read.
    let request = wire::encode(&peer.request_message(probe, scene.offer.clone()));
    let _ = peer.socket.send(Frame::Binary(request.into())).await;
    loop {
        match recv_checked(peer, scene, name).await {
            Some(Message::Error { message, .. }) => {
                assert!(
                    recv_checked(peer, scene, name).await.is_none(),
                    "{name}: the connection closes after an error"
                );
                return Some(message);
            }
            Some(Message::DocUnavailable { document_id, .. }) if document_id == probe => {
                return None
            }
            // Answers to what the case sent.
            Some(Message::Sync { .. } | Message::DocUnavailable { .. }) => continue,
            Some(other) => panic!("{name}: unexpected {other:?}"),
            None => panic!("{name}: closed without an error message"),
        }
    }
}

async fn still_usable(peer: &mut Peer, scene: &Scene, name: &str) {
    if let Some(error) = next_error(peer, scene, name).await {
        panic!("{name}: the connection was refused afterwards: {error:?}")
    }
}

/// The next message, checked for leaks: nothing naming the bystander's
/// document but doc-unavailable, nothing holding its text.
async fn recv_checked(peer: &mut Peer, scene: &Scene, name: &str) -> Option<Message> {
    let message = peer.recv().await?;
    let leaked = match &message {
        Message::Sync {
            document_id, data, ..
        }
        | Message::Request {
            document_id, data, ..
        }
        | Message::Ephemeral {
            document_id, data, ..
        } => *document_id == scene.victim || contains(data, SECRET.as_bytes()),
        Message::Error { message, .. } => message.contains(SECRET),
        _ => false,
    };
    assert!(!leaked, "{name}: the attacker was sent {message:?}");
    Some(message)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ------------------------------------------------------------------ cases

/// Every prefix would be a connection each; the fuzzer tries them all, so
/// here every byte of the head and then every seventh.
fn truncated(scene: &Scene) -> Vec<Case> {
    let whole = scene.sync(scene.own, scene.offer.clone());
    (0..whole.len())
        .filter(|end| *end < 16 || end % 7 == 0)
        .map(|end| {
            case(
                format!("sync cut to {end} of {} bytes", whole.len()),
                whole[..end].to_vec(),
                Expect::Error("malformed message"),
            )
        })
        .collect()
}

fn malformed(scene: &Scene) -> Vec<Case> {
    let mut whole = scene.sync(scene.own, scene.offer.clone());
    let mut cases = vec![
        case(
            "reserved length",
            vec![0xbc],
            Expect::Error("reserved length"),
        ),
        case("lone break", vec![0xff], Expect::Error("unexpected break")),
        case(
            "reserved simple value",
            map(&[("type", V::Raw(vec![0xfc]))]).encode(),
            Expect::Error("reserved simple value"),
        ),
        case(
            "text that is not UTF-8",
            map(&[("type", V::Raw(vec![0x62, 0xc3, 0x28]))]).encode(),
            Expect::Error("not UTF-8"),
        ),
        case(
            "indefinite text with a byte-string chunk",
            map(&[("type", V::Raw(vec![0x7f, 0x41, b's', 0xff]))]).encode(),
            Expect::Error("bad string chunk"),
        ),
        case(
            "indefinite length on an integer",
            map(&[("x", V::Raw(vec![0x1f]))]).encode(),
            Expect::Error("indefinite length"),
        ),
        case(
            "unknown message type",
            map(&[("type", text("teleport")), ("senderId", text(ATTACKER))]).encode(),
            Expect::Error("unknown message type"),
        ),
        case(
            "a message without a type",
            map(&[("senderId", text(ATTACKER))]).encode(),
            Expect::Error("missing field type"),
        ),
    ];
    whole.push(0x00);
    cases.push(case("trailing bytes", whole, Expect::Error("extra bytes")));
    for noise_seed in 1..=20u64 {
        let mut x = noise_seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let noise: Vec<u8> = (0..(noise_seed * 7) as usize)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        cases.push(case(
            format!("noise {noise_seed}"),
            noise,
            Expect::Error("malformed message"),
        ));
    }
    cases
}

fn type_confusion(scene: &Scene) -> Vec<Case> {
    let wrong_values = [
        ("an integer", V::Uint(7)),
        ("a negative integer", V::Neg(7)),
        ("a byte string", V::Bytes(b"sync".to_vec())),
        ("a string", text("sync")),
        ("an array", V::Array(vec![text("sync")])),
        ("a map", map(&[("sync", V::Uint(1))])),
        ("a boolean", V::Bool(true)),
        ("a float", V::Float(1.5)),
    ];
    let fields = scene.sync_fields();
    let mut cases = Vec::new();
    for (index, (field, right)) in fields.iter().enumerate() {
        for (kind, wrong) in &wrong_values {
            if std::mem::discriminant(wrong) == std::mem::discriminant(right) {
                continue;
            }
            let mut entries = fields.clone();
            entries[index].1 = wrong.clone();
            cases.push(case(
                format!("{field} as {kind}"),
                map(&entries).encode(),
                Expect::Error("malformed message"),
            ));
        }
        for absent in [V::Null, V::Undefined] {
            let mut entries = fields.clone();
            entries[index].1 = absent;
            cases.push(case(
                format!("{field} null or undefined"),
                map(&entries).encode(),
                Expect::Error("missing field"),
            ));
        }
    }
    // Texts where a document ID goes, and a string where bytes go.
    // Our own document's ID with its last character changed: the checksum fails.
    let own = scene.own.to_string();
    let last = if own.ends_with('2') { "3" } else { "2" };
    let bad_checksum = format!("{}{last}", &own[..own.len() - 1]);
    for doc in [
        "",
        "automerge:",
        "not-a-document",
        &"1".repeat(10_000),
        &bad_checksum,
    ] {
        let mut entries = fields.clone();
        entries[3].1 = text(doc);
        cases.push(case(
            format!("documentId {:.20}", doc),
            map(&entries).encode(),
            Expect::Error("invalid documentId"),
        ));
    }
    for (kind, value) in &wrong_values[..3] {
        cases.push(case(
            format!("the whole message as {kind}"),
            value.encode(),
            Expect::Error("must be a CBOR map"),
        ));
    }
    let ephemeral = |count: V| {
        map(&[
            ("type", text("ephemeral")),
            ("senderId", text(ATTACKER)),
            ("targetId", text(&scene.server_id)),
            ("documentId", text(&scene.own.to_string())),
            ("sessionId", text("s")),
            ("count", count),
            ("data", V::Bytes(vec![1])),
        ])
        .encode()
    };
    for (kind, count) in [
        ("negative", V::Neg(0)),
        ("fractional", V::Float(0.5)),
        ("NaN", V::Float(f64::NAN)),
        ("infinite", V::Float(f64::INFINITY)),
        ("a string", text("1")),
    ] {
        cases.push(case(
            format!("ephemeral count {kind}"),
            ephemeral(count),
            Expect::Error("count must be"),
        ));
    }
    cases
}

fn huge_lengths(scene: &Scene) -> Vec<Case> {
    let mut fields = scene.sync_fields();
    let with_unknown = |raw: Vec<u8>| {
        let mut entries = scene.sync_fields();
        entries.push(("unknown", V::Raw(raw)));
        map(&entries).encode()
    };
    let huge = |major: u8, n: u64| {
        let mut raw = Vec::new();
        head(major, n, &mut raw);
        raw
    };
    let mut cases = Vec::new();
    for (major, kind) in [(2, "bytes"), (3, "text"), (4, "array"), (5, "map")] {
        for n in [u64::MAX, 1 << 32, u64::from(u32::MAX), 1 << 31] {
            cases.push(case(
                format!("unknown key's {kind} claiming {n} items"),
                with_unknown(huge(major, n)),
                Expect::Error("truncated"),
            ));
        }
    }
    fields[4].1 = V::Raw(huge(2, u64::MAX));
    cases.push(case(
        "data claiming 2^64 - 1 bytes",
        map(&fields).encode(),
        Expect::Error("truncated"),
    ));
    // The message's own map claiming four billion entries, five present.
    let mut whole = scene.sync(scene.own, scene.offer.clone());
    whole[0] = 0xba;
    whole.splice(1..1, [0xff, 0xff, 0xff]);
    whole.insert(4, 0xff);
    cases.push(case(
        "message map claiming 2^32 - 1 entries",
        whole,
        Expect::Error("truncated"),
    ));
    // An indefinite string whose chunk claims more than there is.
    cases.push(case(
        "indefinite text with a huge chunk",
        with_unknown(vec![
            0x7f, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]),
        Expect::Error("truncated"),
    ));
    // Supported versions: one version exists, a list of a million is refused.
    let mut versions = Vec::new();
    head(4, 200_000, &mut versions);
    versions.extend(std::iter::repeat_n(0x60, 200_000));
    cases.push(Case {
        name: "join listing 200,000 protocol versions".into(),
        joined: false,
        frames: vec![map(&[
            ("type", text("join")),
            ("senderId", text(ATTACKER)),
            ("supportedProtocolVersions", V::Raw(versions)),
        ])
        .encode()],
        expect: Expect::Error("a list of at most 16 strings"),
    });
    cases
}

fn deep_nesting(scene: &Scene) -> Vec<Case> {
    let nested = |open: &[u8], depth: usize, close: &[u8]| {
        let mut raw = open.repeat(depth);
        raw.push(0x00);
        raw.extend(close.repeat(depth));
        let mut entries = scene.sync_fields();
        entries.push(("unknown", V::Raw(raw)));
        map(&entries).encode()
    };
    let mut cases = Vec::new();
    for depth in [33, 1_000, 100_000] {
        cases.push(case(
            format!("{depth} nested arrays"),
            nested(&[0x81], depth, &[]),
            Expect::Error("nested too deeply"),
        ));
        cases.push(case(
            format!("{depth} nested maps"),
            nested(&[0xa1, 0x00], depth, &[]),
            Expect::Error("nested too deeply"),
        ));
        cases.push(case(
            format!("{depth} nested indefinite arrays"),
            nested(&[0x9f], depth, &[0xff]),
            Expect::Error("nested too deeply"),
        ));
    }
    // Nesting within the limit is read past.
    cases.push(case(
        "31 nested arrays",
        nested(&[0x81], 31, &[]),
        Expect::Accepted,
    ));
    // Tags are looked through in a loop: a hundred thousand cost nothing.
    let probe = new_doc_id();
    let mut tagged = vec![0xc6; 100_000];
    tagged.extend(scene.request(probe, scene.offer.clone()));
    cases.push(case(
        "a request under 100,000 tags",
        tagged,
        Expect::Unavailable(probe),
    ));
    cases
}

fn garbage_payloads(scene: &Scene) -> Vec<Case> {
    let mut cases = Vec::new();
    let fresh = new_doc_id();
    for (doc_name, doc) in [
        ("own", scene.own),
        ("unknown", fresh),
        ("the bystander's", scene.victim),
    ] {
        for (what, data) in [
            ("noise", vec![0xde, 0xad, 0xbe, 0xef]),
            ("a wrong message type byte", vec![0x41]),
            // Type 0x42, then heads counts of 2^63 and more (LEB128).
            (
                "a heads count of 2^63",
                [&[0x42][..], &[0xff; 9], &[0x7f]].concat(),
            ),
            (
                "a heads count of 2^32",
                vec![0x42, 0x80, 0x80, 0x80, 0x80, 0x10],
            ),
            // No heads, needs or haves, then one change of 2^60 bytes, or
            // 2^60 changes.
            (
                "a change of 2^60 bytes",
                [&[0x42, 0, 0, 0, 1][..], &[0x80; 8], &[0x10]].concat(),
            ),
            (
                "2^60 changes",
                [&[0x42, 0, 0, 0][..], &[0x80; 8], &[0x10]].concat(),
            ),
            // A `have` whose bloom filter claims one entry and no bits
            // (automerge divides by zero), or 2^32 - 1 probes (automerge
            // allocates 16 GiB per change it checks).
            (
                "a bloom filter without bits",
                vec![0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0],
            ),
            (
                "a bloom filter of 2^32 - 1 probes",
                vec![
                    0x42, 0, 0, 1, 0, 9, 1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0,
                ],
            ),
        ] {
            cases.push(case(
                format!("{what} as sync data for the {doc_name} document"),
                scene.sync(doc, data),
                Expect::Error("sync message could not be read"),
            ));
        }
        // Every prefix of a real payload, and payloads with one byte
        // changed: refused or harmless, whichever the bytes make them.
        let payload = &scene.changes;
        for end in (0..payload.len()).step_by(17) {
            cases.push(case(
                format!("changes cut to {end} bytes, for the {doc_name} document"),
                scene.sync(doc, payload[..end].to_vec()),
                Expect::ErrorOrAccepted,
            ));
        }
        for at in (0..payload.len()).step_by(19) {
            let mut data = payload.clone();
            data[at] ^= 0x5a;
            cases.push(case(
                format!("changes with byte {at} changed, for the {doc_name} document"),
                scene.sync(doc, data),
                Expect::ErrorOrAccepted,
            ));
        }
    }
    cases
}

fn wrong_ids(scene: &Scene) -> Vec<Case> {
    let with = |sender: &str, target: &str| {
        wire::encode(&Message::Sync {
            sender_id: sender.into(),
            target_id: target.into(),
            document_id: scene.own,
            data: scene.offer.clone(),
        })
    };
    let mut cases = Vec::new();
    for sender in [BYSTANDER_PEER, &scene.server_id, "", "MALLORY", "mallory "] {
        cases.push(case(
            format!("senderId {sender:?}"),
            with(sender, &scene.server_id),
            Expect::Error("senderId does not match"),
        ));
    }
    for target in [BYSTANDER_PEER, ATTACKER, "", "fieldbook-server"] {
        cases.push(case(
            format!("targetId {target:?}"),
            with(ATTACKER, target),
            Expect::Error("targetId must be"),
        ));
        cases.push(case(
            format!("ephemeral to targetId {target:?}"),
            wire::encode(&Message::Ephemeral {
                sender_id: ATTACKER.into(),
                target_id: target.into(),
                document_id: scene.victim,
                session_id: "s".into(),
                count: 1,
                data: b"hello".to_vec(),
            }),
            Expect::Error("targetId must be"),
        ));
    }
    for (what, message) in [
        (
            "a second join",
            Message::Join {
                sender_id: ATTACKER.into(),
                peer_metadata: PeerMetadata::default(),
                supported_protocol_versions: vec!["1".into()],
            },
        ),
        (
            "a peer message",
            Message::Peer {
                sender_id: ATTACKER.into(),
                target_id: BYSTANDER_PEER.into(),
                peer_metadata: PeerMetadata::default(),
                selected_protocol_version: "1".into(),
            },
        ),
        (
            "an error message",
            Message::Error {
                sender_id: ATTACKER.into(),
                target_id: scene.server_id.clone(),
                message: "x".into(),
            },
        ),
    ] {
        cases.push(case(
            what,
            wire::encode(&message),
            Expect::Error("unexpected"),
        ));
    }
    cases
}

fn victims_document(scene: &Scene) -> Vec<Case> {
    let victim = scene.victim;
    let mut cases = vec![
        case(
            "request for the bystander's document",
            scene.request(victim, scene.offer.clone()),
            Expect::Unavailable(victim),
        ),
        case(
            "sync with changes into the bystander's document",
            scene.sync(victim, scene.changes.clone()),
            Expect::Unavailable(victim),
        ),
        case(
            "sync offer for the bystander's document",
            scene.sync(victim, scene.offer.clone()),
            Expect::Unavailable(victim),
        ),
        case(
            "ephemeral on the bystander's document",
            wire::encode(&Message::Ephemeral {
                sender_id: ATTACKER.into(),
                target_id: scene.server_id.clone(),
                document_id: victim,
                session_id: "s".into(),
                count: 1,
                data: b"are you there".to_vec(),
            }),
            Expect::Unavailable(victim),
        ),
    ];
    // Gossip and goodbyes that need no answer are accepted and ignored.
    for message in [
        Message::DocUnavailable {
            sender_id: ATTACKER.into(),
            target_id: scene.server_id.clone(),
            document_id: victim,
        },
        Message::RemoteSubscriptionChange {
            sender_id: ATTACKER.into(),
            target_id: scene.server_id.clone(),
        },
        Message::RemoteHeadsChanged {
            sender_id: ATTACKER.into(),
            target_id: scene.server_id.clone(),
        },
    ] {
        cases.push(case(
            format!("{} about the bystander's document", message.type_name()),
            wire::encode(&message),
            Expect::Accepted,
        ));
    }
    cases
}

fn hostile_joins(scene: &Scene) -> Vec<Case> {
    let join = |peer_id: &str, versions: &[&str]| {
        wire::encode(&Message::Join {
            sender_id: peer_id.into(),
            peer_metadata: PeerMetadata {
                storage_id: Some("s".into()),
                is_ephemeral: false,
            },
            supported_protocol_versions: versions.iter().map(|v| (*v).into()).collect(),
        })
    };
    let not_joined = |name: &str, frames: Vec<Vec<u8>>, expect| Case {
        name: name.into(),
        joined: false,
        frames,
        expect,
    };
    let mut cases = vec![
        not_joined(
            "a sync before joining",
            vec![scene.sync(scene.own, scene.offer.clone())],
            Expect::Error("first message must be a join"),
        ),
        not_joined("an empty frame", vec![vec![]], Expect::Error("malformed")),
        not_joined(
            "joining as the server's own peer ID",
            vec![join(&scene.server_id, &["1"])],
            Expect::Error("the server's own"),
        ),
        not_joined(
            "joining with version 0 only",
            vec![join("mallory", &["0"])],
            Expect::Error("unsupported protocol version"),
        ),
        not_joined(
            "joining with no versions",
            vec![join("mallory", &[])],
            Expect::Error("unsupported protocol version"),
        ),
    ];
    for bad in ["", "\n", "mal\u{0}lory", &"m".repeat(129), "\u{7f}"] {
        cases.push(not_joined(
            &format!("joining as {bad:.10?}"),
            vec![join(bad, &["1"])],
            Expect::Error("invalid peer ID"),
        ));
    }
    cases
}

fn oversized(scene: &Scene) -> Vec<Case> {
    vec![
        case(
            "a message just over the limit",
            scene.sync(scene.own, vec![0; MAX_MESSAGE_BYTES]),
            Expect::Error("over the limit"),
        ),
        Case {
            name: "a join over the limit".into(),
            joined: false,
            frames: vec![wire::encode(&Message::Join {
                sender_id: ATTACKER.into(),
                peer_metadata: PeerMetadata {
                    storage_id: Some("s".repeat(MAX_MESSAGE_BYTES)),
                    is_ephemeral: false,
                },
                supported_protocol_versions: vec!["1".into()],
            })],
            expect: Expect::Error("over the limit"),
        },
        // Beyond twice the limit the WebSocket layer drops the connection
        // before the message is read in full.
        case(
            "a frame of four times the limit",
            vec![0; 4 * MAX_MESSAGE_BYTES],
            Expect::Closed,
        ),
    ]
}

/// Floods of joins: many on one connection, many connections one after
/// another with the same peer ID (each replaces the last), many at once.
async fn join_floods(server: &TestServer, token: &str, scene: &Scene) {
    let join = wire::encode(&Message::Join {
        sender_id: ATTACKER.into(),
        peer_metadata: PeerMetadata::default(),
        supported_protocol_versions: vec!["1".into()],
    });

    // A thousand joins on one connection: the first is answered, the
    // second refused and the connection closed.
    let mut socket = open_socket(server, token).await;
    for _ in 0..1000 {
        if socket
            .send(Frame::Binary(join.clone().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut flood = Peer::unjoined(socket, ATTACKER, &scene.server_id);
    let error = expect_error(&mut flood, scene, "a thousand joins").await;
    assert!(error.contains("unexpected join"), "{error:?}");

    // 200 connections in a row with one peer ID: each new one replaces
    // (and closes) the one before; the last works.
    let mut previous: Option<Peer> = None;
    for _ in 0..200 {
        let next = Peer::join(server, token, ATTACKER).await;
        if let Some(mut old) = previous.take() {
            assert!(old.recv().await.is_none(), "the replaced connection closes");
        }
        previous = Some(next);
    }
    still_usable(previous.as_mut().unwrap(), scene, "the last of 200 joins").await;
    drop(previous);

    // 200 at once, each with its own peer ID, then all gone.
    let names: Vec<String> = (0..200).map(|i| format!("mallory-{i}")).collect();
    let joins = names.iter().map(|name| Peer::join(server, token, name));
    let mut crowd = futures::future::join_all(joins).await;
    still_usable(&mut crowd[199], scene, "one of 200 open connections").await;
    for peer in &mut crowd {
        let _ = peer.socket.close(None).await;
        while let Some(Ok(_)) = peer.socket.next().await {}
    }
}
