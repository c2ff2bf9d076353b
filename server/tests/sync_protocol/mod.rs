//! Sync: devices of one user converging through the root document,
//! strangers refused, documents that arrive late, ephemeral messages, peer
//! IDs, reconnecting and keep-alive.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use fieldbook_shared::wire::{Message, PeerMetadata};

use crate::support::*;

#[tokio::test]
async fn two_devices_of_one_user_converge_through_the_root_document() {
    let server = TestServer::start().await;
    let (account, phone) = account_and_session(&server, "two@example.org").await;
    let laptop = login(&server, "two@example.org").await;

    // Phone: fetch root, create an entry, list it in root.
    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;
    let mut root = Replica::empty(account.root);
    let outcome = root
        .sync_until(&mut phone_peer, |doc| {
            doc.get(ROOT, keys::ENTRIES).unwrap().is_some()
        })
        .await;
    assert_eq!(outcome, Outcome::Synced);
    let entry_id = new_doc_id();
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "Home visit reflections"));
    assert_eq!(
        entry.sync_until(&mut phone_peer, |_| true).await,
        Outcome::Synced
    );
    {
        let mut tx = root.doc.transaction();
        let (_, entries) = tx.get(ROOT, keys::ENTRIES).unwrap().unwrap();
        let item = tx
            .put_object(&entries, entry_id.to_string(), ObjType::Map)
            .unwrap();
        tx.put(&item, keys::ADDED_AT, 1_i64).unwrap();
        tx.commit();
    }
    assert_eq!(
        root.sync_until(&mut phone_peer, |_| true).await,
        Outcome::Synced
    );

    // Laptop: sees the entry through root and reads it.
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut laptop_root = Replica::empty(account.root);
    laptop_root
        .sync_until(&mut laptop_peer, |doc| {
            listed_entries(doc).contains(&entry_id)
        })
        .await;
    let mut laptop_entry = Replica::empty(entry_id);
    laptop_entry
        .sync_until(&mut laptop_peer, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    assert_eq!(
        text_of(&laptop_entry.doc, keys::TITLE).unwrap(),
        "Home visit reflections"
    );

    // A live edit on the laptop is pushed to the phone without it asking.
    {
        let mut tx = laptop_entry.doc.transaction();
        let (_, title) = tx.get(ROOT, keys::TITLE).unwrap().unwrap();
        tx.splice_text(&title, 0, 0, "Tuesday: ").unwrap();
        tx.commit();
    }
    laptop_entry.sync_until(&mut laptop_peer, |_| true).await;
    entry
        .sync_until(&mut phone_peer, |doc| {
            text_of(doc, keys::TITLE).as_deref() == Some("Tuesday: Home visit reflections")
        })
        .await;
    server.stop().await;
}

#[tokio::test]
async fn another_user_gets_doc_unavailable_and_never_data() {
    let server = TestServer::start().await;
    let (owner, owner_session) = account_and_session(&server, "owner@example.org").await;
    let (_, intruder_session) = account_and_session(&server, "intruder@example.org").await;

    let mut owner_peer = Peer::join(&server, &owner_session.token, "owner-phone").await;
    let entry_id = new_doc_id();
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "Confidential"));
    entry.sync_until(&mut owner_peer, |_| true).await;

    let mut intruder = Peer::join(&server, &intruder_session.token, "intruder").await;
    // Asking for the entry, or the owner's root, yields doc-unavailable.
    for doc_id in [entry_id, owner.root] {
        let mut stolen = Replica::empty(doc_id);
        assert_eq!(
            stolen.sync_until(&mut intruder, |_| false).await,
            Outcome::Unavailable
        );
        assert!(
            stolen.doc.get_heads().is_empty(),
            "no data reached the intruder"
        );
    }
    // Pushing changes into the owner's document is refused too...
    let mut forged = Replica::new(entry_id, with_text(keys::TITLE, "Overwritten"));
    assert_eq!(
        forged.sync_until(&mut intruder, |_| false).await,
        Outcome::Unavailable
    );
    // ...and the owner's document is untouched.
    let mut check = Replica::empty(entry_id);
    let mut owner_laptop = Peer::join(&server, &owner_session.token, "owner-laptop").await;
    check
        .sync_until(&mut owner_laptop, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    assert_eq!(text_of(&check.doc, keys::TITLE).unwrap(), "Confidential");
    assert_eq!(check.doc.get_heads(), entry.doc.get_heads());
    server.stop().await;
}

#[tokio::test]
async fn unknown_documents_are_unavailable_until_someone_sends_changes() {
    let server = TestServer::start().await;
    let (_, session) = account_and_session(&server, "u@example.org").await;
    let mut peer = Peer::join(&server, &session.token, "p").await;
    let mut nothing = Replica::empty(new_doc_id());
    assert_eq!(
        nothing.sync_until(&mut peer, |_| false).await,
        Outcome::Unavailable
    );
    server.stop().await;
}

#[tokio::test]
async fn a_device_that_asked_too_early_gets_the_document_when_it_arrives() {
    let server = TestServer::start().await;
    let (_, phone) = account_and_session(&server, "early@example.org").await;
    let laptop = login(&server, "early@example.org").await;
    let (_, stranger) = account_and_session(&server, "nosy@example.org").await;
    let entry_id = new_doc_id();

    // The laptop and a stranger ask before the phone has uploaded it.
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut laptop_copy = Replica::empty(entry_id);
    assert_eq!(
        laptop_copy.sync_until(&mut laptop_peer, |_| false).await,
        Outcome::Unavailable
    );
    let mut stranger_peer = Peer::join(&server, &stranger.token, "stranger").await;
    let mut stranger_copy = Replica::empty(entry_id);
    assert_eq!(
        stranger_copy
            .sync_until(&mut stranger_peer, |_| false)
            .await,
        Outcome::Unavailable
    );

    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "arrived"));
    entry.sync_until(&mut phone_peer, |_| true).await;

    // The laptop is sent it without asking again: the very next message.
    match laptop_peer.recv().await {
        Some(Message::Sync {
            document_id, data, ..
        }) => {
            assert_eq!(document_id, entry_id);
            let message = automerge::sync::Message::decode(&data).unwrap();
            assert_eq!(message.heads, entry.doc.get_heads());
            use automerge::sync::SyncDoc;
            laptop_copy
                .doc
                .receive_sync_message(&mut laptop_copy.state, message)
                .unwrap();
        }
        other => panic!("expected the entry, got {other:?}"),
    }
    laptop_copy
        .sync_until(&mut laptop_peer, |d| {
            text_of(d, keys::TITLE).as_deref() == Some("arrived")
        })
        .await;

    // The stranger was told nothing more: its next message answers a fresh
    // question about another document.
    let probe = new_doc_id();
    let mut probe_state = automerge::sync::State::new();
    use automerge::sync::SyncDoc;
    let hello = Automerge::new()
        .generate_sync_message(&mut probe_state)
        .unwrap();
    stranger_peer
        .send(&stranger_peer.request_message(probe, hello.encode()))
        .await;
    match stranger_peer.recv().await {
        Some(Message::DocUnavailable { document_id, .. }) => assert_eq!(document_id, probe),
        other => panic!("the stranger received {other:?}"),
    }
    server.stop().await;
}

/// The phone's first message for a new entry announces it without changes;
/// a request from the laptop in that window waits for the data instead of
/// hearing "unavailable" (and hears it only if the phone leaves instead).
#[tokio::test]
async fn a_request_while_another_device_uploads_waits_for_the_data() {
    use automerge::sync::SyncDoc;
    let server = TestServer::start().await;
    let (_, phone) = account_and_session(&server, "wait@example.org").await;
    let laptop = login(&server, "wait@example.org").await;
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;

    for phone_leaves in [false, true] {
        let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;
        let entry_id = new_doc_id();
        let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "in flight"));
        let announce = entry.doc.generate_sync_message(&mut entry.state).unwrap();
        phone_peer
            .send(&phone_peer.sync_message(entry_id, announce.encode()))
            .await;
        let reply = match phone_peer.recv().await {
            Some(Message::Sync { data, .. }) => automerge::sync::Message::decode(&data).unwrap(),
            other => panic!("expected the server's reply, got {other:?}"),
        };

        let hello = Automerge::new()
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap();
        laptop_peer
            .send(&laptop_peer.request_message(entry_id, hello.encode()))
            .await;

        if phone_leaves {
            drop(phone_peer);
            match laptop_peer.recv().await {
                Some(Message::DocUnavailable { document_id, .. }) => {
                    assert_eq!(document_id, entry_id)
                }
                other => panic!("expected doc-unavailable, got {other:?}"),
            }
            // The phone comes back and sends it after all: the laptop, which
            // asked once, gets it without asking again.
            phone_peer = Peer::join(&server, &phone.token, "phone").await;
            entry.reset();
        }
        if phone_leaves {
            assert_eq!(
                entry.sync_until(&mut phone_peer, |_| true).await,
                Outcome::Synced
            );
        } else {
            entry
                .doc
                .receive_sync_message(&mut entry.state, reply)
                .unwrap();
            let changes = entry.doc.generate_sync_message(&mut entry.state).unwrap();
            phone_peer
                .send(&phone_peer.sync_message(entry_id, changes.encode()))
                .await;
        }
        match laptop_peer.recv().await {
            Some(Message::Sync {
                document_id, data, ..
            }) => {
                assert_eq!(document_id, entry_id);
                let message = automerge::sync::Message::decode(&data).unwrap();
                assert_eq!(message.heads, entry.doc.get_heads());
            }
            other => panic!("expected the entry, got {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn ephemeral_messages_reach_the_users_other_devices_once() {
    let server = TestServer::start().await;
    let (_, phone) = account_and_session(&server, "e@example.org").await;
    let laptop = login(&server, "e@example.org").await;
    let (_, stranger) = account_and_session(&server, "s@example.org").await;

    let entry_id = new_doc_id();
    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "x"));
    entry.sync_until(&mut phone_peer, |_| true).await;
    let mut laptop_entry = Replica::empty(entry_id);
    laptop_entry
        .sync_until(&mut laptop_peer, |doc| text_of(doc, keys::TITLE).is_some())
        .await;

    let server_id = phone_peer.server_id.clone();
    let ephemeral = |count: u64, data: &[u8]| Message::Ephemeral {
        sender_id: "phone".into(),
        target_id: server_id.clone(),
        document_id: entry_id,
        session_id: "session-1".into(),
        count,
        data: data.to_vec(),
    };
    phone_peer.send(&ephemeral(1, b"cursor at 3")).await;
    phone_peer.send(&ephemeral(1, b"cursor at 3")).await; // duplicate: dropped
    phone_peer.send(&ephemeral(2, b"cursor at 4")).await;
    let mut received = Vec::new();
    while received.len() < 2 {
        match laptop_peer.recv().await {
            Some(Message::Ephemeral {
                sender_id,
                target_id,
                data,
                count,
                ..
            }) => {
                assert_eq!(sender_id, "phone");
                assert_eq!(target_id, "laptop");
                received.push((count, data));
            }
            Some(_) => continue,
            None => panic!("laptop disconnected"),
        }
    }
    assert_eq!(
        received,
        vec![(1, b"cursor at 3".to_vec()), (2, b"cursor at 4".to_vec())]
    );

    // The stranger sending on the entry gets doc-unavailable, relays nothing.
    let mut stranger_peer = Peer::join(&server, &stranger.token, "stranger").await;
    stranger_peer
        .send(&Message::Ephemeral {
            sender_id: "stranger".into(),
            target_id: stranger_peer.server_id.clone(),
            document_id: entry_id,
            session_id: "s".into(),
            count: 1,
            data: b"hello".to_vec(),
        })
        .await;
    assert!(matches!(
        stranger_peer.recv().await,
        Some(Message::DocUnavailable { .. })
    ));
    // Proof the laptop got nothing from the stranger: the next thing it
    // receives is the phone's next message.
    phone_peer.send(&ephemeral(3, b"cursor at 5")).await;
    match laptop_peer.recv().await {
        Some(Message::Ephemeral {
            sender_id, count, ..
        }) => {
            assert_eq!((sender_id.as_str(), count), ("phone", 3))
        }
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_peer_id_in_use_cannot_be_taken_by_another_device() {
    // Another device of the same user: another user's device with the same
    // peer ID is a different peer (security::sync_access tests that).
    let server = TestServer::start().await;
    let (_, mine) = account_and_session(&server, "m@example.org").await;
    let my_laptop = login(&server, "m@example.org").await;
    let mut original = Peer::join(&server, &mine.token, "shared-name").await;

    let mut socket_peer = Peer::unjoined(
        open_socket(&server, &my_laptop.token).await,
        "shared-name",
        "",
    );
    socket_peer
        .send(&Message::Join {
            sender_id: "shared-name".into(),
            peer_metadata: PeerMetadata::default(),
            supported_protocol_versions: vec!["1".into()],
        })
        .await;
    let error = socket_peer.expect_error_and_close().await;
    assert!(error.contains("in use"), "{error}");

    // The original connection is unaffected.
    let mut entry = Replica::new(new_doc_id(), with_text(keys::TITLE, "still mine"));
    assert_eq!(
        entry.sync_until(&mut original, |_| true).await,
        Outcome::Synced
    );
    server.stop().await;
}

#[tokio::test]
async fn reconnecting_resets_sync_state_and_resumes() {
    let server = TestServer::start().await;
    let (_, session) = account_and_session(&server, "re@example.org").await;
    let entry_id = new_doc_id();
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "one"));
    {
        let mut peer = Peer::join(&server, &session.token, "phone").await;
        entry.sync_until(&mut peer, |_| true).await;
    }
    // Offline edit, then a new connection with the same peer ID: the client
    // resets its sync state as automerge-repo does on reconnect.
    {
        let mut tx = entry.doc.transaction();
        let (_, title) = tx.get(ROOT, keys::TITLE).unwrap().unwrap();
        tx.splice_text(&title, 3, 0, " two").unwrap();
        tx.commit();
    }
    entry.state = automerge::sync::State::new();
    let mut peer = Peer::join(&server, &session.token, "phone").await;
    assert_eq!(entry.sync_until(&mut peer, |_| true).await, Outcome::Synced);

    let laptop = login(&server, "re@example.org").await;
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut copy = Replica::empty(entry_id);
    copy.sync_until(&mut laptop_peer, |doc| {
        text_of(doc, keys::TITLE).as_deref() == Some("one two")
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn keep_alive_pings_are_sent() {
    let server =
        TestServer::start_with(|c| c.keepalive_interval = Duration::from_millis(200)).await;
    let (_, session) = account_and_session(&server, "k@example.org").await;
    let mut peer = Peer::join(&server, &session.token, "p").await;
    use futures::StreamExt;
    let frame = tokio::time::timeout(WAIT, peer.socket.next())
        .await
        .unwrap();
    assert!(
        matches!(
            frame,
            Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_)))
        ),
        "{frame:?}"
    );
    server.stop().await;
}
