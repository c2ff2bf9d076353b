//! The sync authorization matrix: every message type of the automerge-repo
//! protocol, sent by another user's device about the owner's documents,
//! gets nothing: `doc-unavailable` or silence or a closed connection, never
//! data, never a change to the owner's document, never a message to the
//! owner's devices. Sessions that are missing, bogus, revoked or expired
//! never get a socket at all (endpoints.rs checks `/sync` for each), and a
//! device revoked while connected is cut off at once.

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;
use fieldbook_shared::wire::{Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message as Frame;

use super::*;

/// The protocol's message types. The match has no wildcard, so a new
/// message type in the shared crate does not compile until it is here.
fn kind(message: &Message) -> &'static str {
    match message {
        Message::Join { .. } => "join",
        Message::Peer { .. } => "peer",
        Message::Error { .. } => "error",
        Message::Leave { .. } => "leave",
        Message::Request { .. } => "request",
        Message::Sync { .. } => "sync",
        Message::DocUnavailable { .. } => "doc-unavailable",
        Message::Ephemeral { .. } => "ephemeral",
        Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
        Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
    }
}

/// What the server must answer to an intruder's message.
#[derive(Debug, PartialEq)]
enum Expect {
    Unavailable,
    Silence,
    ErrorAndClose,
    Close,
}

fn first_sync_data(doc: &Automerge) -> Vec<u8> {
    doc.generate_sync_message(&mut sync::State::new())
        .expect("a first sync message")
        .encode()
}

/// Every message type an intruder could send about `doc`, as peer
/// `sender`, with what it must get back.
fn attacks(sender: &str, server_id: &str, doc: DocumentId) -> Vec<(Message, Expect)> {
    let (s, t) = (sender.to_owned(), server_id.to_owned());
    let forged = with_text(keys::TITLE, "Overwritten");
    let attacks = vec![
        (
            Message::Request {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                data: first_sync_data(&Automerge::new()),
            },
            Expect::Unavailable,
        ),
        (
            Message::Sync {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                data: first_sync_data(&Automerge::new()),
            },
            Expect::Unavailable,
        ),
        (
            Message::Sync {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                data: first_sync_data(&forged),
            },
            Expect::Unavailable,
        ),
        (
            Message::Ephemeral {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
                session_id: "intruder-session".into(),
                count: 1,
                data: b"\xa1dtextdspy!".to_vec(),
            },
            Expect::Unavailable,
        ),
        (
            Message::DocUnavailable {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc,
            },
            Expect::Silence,
        ),
        (
            Message::RemoteSubscriptionChange {
                sender_id: s.clone(),
                target_id: t.clone(),
            },
            Expect::Silence,
        ),
        (
            Message::RemoteHeadsChanged {
                sender_id: s.clone(),
                target_id: t.clone(),
            },
            Expect::Silence,
        ),
        // The handshake again, or server-only messages: refused outright.
        (
            Message::Join {
                sender_id: s.clone(),
                peer_metadata: PeerMetadata {
                    storage_id: None,
                    is_ephemeral: true,
                },
                supported_protocol_versions: vec!["1".into()],
            },
            Expect::ErrorAndClose,
        ),
        (
            Message::Peer {
                sender_id: s.clone(),
                target_id: t.clone(),
                peer_metadata: PeerMetadata {
                    storage_id: None,
                    is_ephemeral: true,
                },
                selected_protocol_version: "1".into(),
            },
            Expect::ErrorAndClose,
        ),
        (
            Message::Error {
                sender_id: s.clone(),
                target_id: t,
                message: "give me everything".into(),
            },
            Expect::ErrorAndClose,
        ),
        (Message::Leave { sender_id: s }, Expect::Close),
    ];
    let covered: BTreeSet<&str> = attacks.iter().map(|(m, _)| kind(m)).collect();
    assert_eq!(
        covered.len(),
        10,
        "every message type is tried: {covered:?}"
    );
    attacks
}

use std::collections::BTreeSet;

/// Everything the server sends until it answers a request for a document
/// nobody has (answers come in order, so this is everything before it), or
/// None if the connection closed.
pub(super) async fn answers_until_sentinel(peer: &mut Peer) -> Option<Vec<Message>> {
    let sentinel = new_doc_id();
    let request = peer.request_message(sentinel, first_sync_data(&Automerge::new()));
    if peer
        .socket
        .send(Frame::Binary(wire_bytes(&request).into()))
        .await
        .is_err()
    {
        return None;
    }
    let mut seen = Vec::new();
    loop {
        match peer.recv().await? {
            Message::DocUnavailable { document_id, .. } if document_id == sentinel => {
                return Some(seen)
            }
            other => seen.push(other),
        }
    }
}

fn wire_bytes(message: &Message) -> Vec<u8> {
    fieldbook_shared::wire::encode(message)
}

fn assert_no_data_about(messages: &[Message], docs: &[DocumentId], context: &str) {
    for message in messages {
        match message {
            Message::Sync { document_id, .. } | Message::Ephemeral { document_id, .. } => {
                assert!(
                    !docs.contains(document_id),
                    "{context}: data leaked: {message:?}"
                )
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn every_message_type_from_another_user_gets_nothing_of_the_owners() {
    let server = TestServer::start().await;
    let (owner, owner_session) = account_and_session(&server, "owner@example.org").await;
    let (_, intruder_session) = account_and_session(&server, "intruder@example.org").await;

    // The owner's entry, with the owner's phone subscribed to it (so a
    // relayed message or change would reach it).
    let mut owner_peer = Peer::join(&server, &owner_session.token, "owner-phone").await;
    let entry = new_doc_id();
    let mut replica = Replica::new(entry, with_text(keys::TITLE, "Confidential"));
    assert_eq!(
        replica.sync_until(&mut owner_peer, |_| true).await,
        Outcome::Synced
    );
    let heads = replica.doc.get_heads();
    let owners = [entry, owner.root];

    let mut tried = 0;
    for doc in owners {
        let mut intruder = Peer::join(&server, &intruder_session.token, "intruder").await;
        for (attack, expect) in attacks("intruder", &intruder.server_id.clone(), doc) {
            let what = format!("{} about {doc}", kind(&attack));
            tried += 1;
            intruder.send(&attack).await;
            match expect {
                Expect::Unavailable | Expect::Silence => {
                    let answers = answers_until_sentinel(&mut intruder)
                        .await
                        .unwrap_or_else(|| panic!("{what}: connection closed"));
                    assert_no_data_about(&answers, &owners, &what);
                    let wanted: Vec<Message> = match expect {
                        Expect::Unavailable => vec![Message::DocUnavailable {
                            sender_id: intruder.server_id.clone(),
                            target_id: "intruder".into(),
                            document_id: doc,
                        }],
                        _ => Vec::new(),
                    };
                    assert_eq!(answers, wanted, "{what}");
                }
                Expect::ErrorAndClose => {
                    intruder.expect_error_and_close().await;
                    intruder = Peer::join(&server, &intruder_session.token, "intruder").await;
                }
                Expect::Close => {
                    assert!(intruder.recv().await.is_none(), "{what}: closed");
                    intruder = Peer::join(&server, &intruder_session.token, "intruder").await;
                }
            }
        }
        // Posing as the owner's peer, or writing to it directly, is refused.
        let server_id = intruder.server_id.clone();
        for (sender, target) in [
            ("owner-phone", server_id.as_str()),
            ("intruder", "owner-phone"),
        ] {
            let message = attacks(sender, target, doc).remove(3).0;
            assert_eq!(kind(&message), "ephemeral");
            tried += 1;
            intruder.send(&message).await;
            intruder.expect_error_and_close().await;
            intruder = Peer::join(&server, &intruder_session.token, "intruder").await;
        }
    }
    assert!(tried >= 2 * 11, "{tried} attacks");
    println!(
        "sync matrix: {tried} messages of all 10 types from another user about the owner's \
         entry and root: no data, no change, nothing relayed"
    );

    // The owner's phone heard nothing from any of it...
    let heard = answers_until_sentinel(&mut owner_peer)
        .await
        .expect("still connected");
    assert!(heard.is_empty(), "the owner's device was sent {heard:?}");
    // ...and the entry is as the owner left it.
    let mut laptop = Peer::join(&server, &owner_session.token, "owner-laptop").await;
    let mut check = Replica::empty(entry);
    check
        .sync_until(&mut laptop, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    assert_eq!(check.doc.get_heads(), heads);
    assert_eq!(text_of(&check.doc, keys::TITLE).unwrap(), "Confidential");
    server.stop().await;
}

#[tokio::test]
async fn a_device_revoked_while_connected_can_send_nothing_more() {
    let server = TestServer::start().await;
    let (_, phone) = account_and_session(&server, "rv@example.org").await;
    let laptop = login(&server, "rv@example.org").await;
    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;
    let revoke = client()
        .delete(server.url(&format!("/api/devices/{}", phone.device_id)))
        .bearer_auth(&laptop.token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert!(
        phone_peer.recv().await.is_none(),
        "socket closed on revocation"
    );
    // Whatever it still tries to send goes nowhere, and it cannot come back.
    let doc = new_doc_id();
    let server_id = phone_peer.server_id.clone();
    for (attack, _) in attacks("phone", &server_id, doc) {
        let _ = phone_peer
            .socket
            .send(Frame::Binary(wire_bytes(&attack).into()))
            .await;
    }
    assert!(answers_until_sentinel(&mut phone_peer).await.is_none());
    assert_eq!(
        upgrade_status(&server, &Credential::Bearer(phone.token.clone()), &[]).await,
        401
    );
    // Nothing it sent created the document.
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut check = Replica::empty(doc);
    assert_eq!(
        check.sync_until(&mut laptop_peer, |_| false).await,
        Outcome::Unavailable
    );
    server.stop().await;
}

/// Peer IDs are the client's choice, so another user may give the same
/// one, by chance or on purpose: it must never lock the owner's device out,
/// displace it, or hear anything of the owner's.
#[tokio::test]
async fn a_peer_id_held_by_another_user_locks_nobody_out() {
    let server = TestServer::start().await;
    let (_, owner) = account_and_session(&server, "victim@example.org").await;
    let (_, squatter) = account_and_session(&server, "squatter@example.org").await;
    const ID: &str = "the-victims-phone";

    let mut phone = Peer::join(&server, &owner.token, ID).await;
    let entry = new_doc_id();
    let mut replica = Replica::new(entry, with_text(keys::TITLE, "Confidential"));
    assert_eq!(
        replica.sync_until(&mut phone, |_| true).await,
        Outcome::Synced
    );

    // While the owner's phone is connected, another user joins with its ID:
    // accepted, and neither connection is closed or sent the other's data.
    let mut squat = Peer::join(&server, &squatter.token, ID).await;
    let heard = answers_until_sentinel(&mut phone)
        .await
        .expect("the owner's phone is still connected");
    assert!(heard.is_empty(), "the owner's phone was sent {heard:?}");

    // The phone goes offline; the squatter keeps the ID. The phone comes
    // back with it and syncs as before.
    drop(phone);
    let mut phone = Peer::join(&server, &owner.token, ID).await;
    let mut back = Replica::empty(entry);
    back.sync_until(&mut phone, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    assert_eq!(back.doc.get_heads(), replica.doc.get_heads());

    // A live edit on the owner's other device reaches the phone, and only it.
    let mut laptop = Peer::join(&server, &owner.token, "the-victims-laptop").await;
    let mut edited = Replica::empty(entry);
    edited
        .sync_until(&mut laptop, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    {
        use automerge::transaction::Transactable;
        let mut tx = edited.doc.transaction();
        let (_, title) = automerge::ReadDoc::get(&tx, automerge::ROOT, keys::TITLE)
            .unwrap()
            .unwrap();
        tx.splice_text(&title, 0, 0, "Edited: ").unwrap();
        tx.commit();
    }
    edited.sync_until(&mut laptop, |_| true).await;
    back.sync_until(&mut phone, |doc| {
        text_of(doc, keys::TITLE).as_deref() == Some("Edited: Confidential")
    })
    .await;
    let heard = answers_until_sentinel(&mut squat)
        .await
        .expect("the squatter is not closed either");
    assert_no_data_about(&heard, &[entry], "the squatter");
    assert!(heard.is_empty(), "the squatter was sent {heard:?}");

    // Another device of the same user is still refused the ID in use.
    let laptop_session = login(&server, "victim@example.org").await;
    let mut twin = join_unanswered(&server, &laptop_session.token, ID, &phone.server_id).await;
    let error = twin.expect_error_and_close().await;
    assert!(
        error.contains("in use by another of your devices"),
        "{error}"
    );
    server.stop().await;
}

/// Opens a socket and sends a `join` as `peer_id`, without waiting for the
/// answer (which may be a refusal).
async fn join_unanswered(server: &TestServer, token: &str, peer_id: &str, server_id: &str) -> Peer {
    let mut socket = open_socket(server, token).await;
    let join = Message::Join {
        sender_id: peer_id.into(),
        peer_metadata: PeerMetadata::default(),
        supported_protocol_versions: vec!["1".into()],
    };
    socket
        .send(Frame::Binary(wire_bytes(&join).into()))
        .await
        .unwrap();
    Peer::unjoined(socket, peer_id, server_id)
}

/// The server's peer ID is learnt from its `peer` message; a client that
/// joins with it is refused, as any impersonation is.
#[tokio::test]
async fn joining_with_the_servers_own_peer_id_is_refused() {
    let server = TestServer::start().await;
    let (_, session) = account_and_session(&server, "mimic@example.org").await;
    let first = Peer::join(&server, &session.token, "honest").await;
    let mut mimic =
        join_unanswered(&server, &session.token, &first.server_id, &first.server_id).await;
    let error = mimic.expect_error_and_close().await;
    assert!(error.contains("the server's own"), "{error}");
    server.stop().await;
}
