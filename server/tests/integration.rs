//! Integration tests: the real server on 127.0.0.1:0, exercised through its
//! HTTP API and the automerge-repo sync protocol, one test binary.

mod admin;
mod audio;
mod check_text;
mod convergence;
mod crash;
mod evidence;
mod hostile;
mod security;
mod sharing;
mod sharing_grants;
mod support;

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ReadDoc, ROOT};
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use serde_json::{json, Value};
use support::*;

fn doc_with_text(key: &str, text: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "type", "fieldbook/entry").unwrap();
    let field = tx.put_object(ROOT, key, ObjType::Text).unwrap();
    tx.splice_text(&field, 0, 0, text).unwrap();
    tx.commit();
    doc
}

fn text_of(doc: &Automerge, key: &str) -> Option<String> {
    let (_, id) = doc.get(ROOT, key).ok()??;
    doc.text(&id).ok()
}

fn root_entry_ids(doc: &Automerge) -> Vec<String> {
    match doc.get(ROOT, "entries").unwrap() {
        Some((_, entries)) => doc.keys(&entries).collect(),
        None => Vec::new(),
    }
}

async fn api_get(server: &TestServer, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn api_delete(server: &TestServer, path: &str, token: &str) -> reqwest::Response {
    client()
        .delete(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A request carrying only the session cookie `pair` (`name=value`).
async fn with_cookie(request: reqwest::RequestBuilder, pair: &str) -> reqwest::Response {
    request.header("cookie", pair).send().await.unwrap()
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// ---------------------------------------------------------------- accounts

#[tokio::test]
async fn register_login_me_and_devices() {
    let server = TestServer::start().await;
    let account = register(&server, "Sam@Example.org").await;
    let phone = login(&server, "sam@example.org").await;
    let laptop = login(&server, "sam@example.org").await;

    let me: Value = api_get(&server, "/api/me", &phone.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "sam@example.org");
    assert_eq!(me["userId"], account.user_id.as_str());
    assert_eq!(me["rootDocUrl"], account.root.to_url());

    let devices: Value = api_get(&server, "/api/devices", &laptop.token)
        .await
        .json()
        .await
        .unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let current: Vec<bool> = devices
        .iter()
        .map(|d| d["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current.iter().filter(|c| **c).count(), 1);
    let laptop_view = devices
        .iter()
        .find(|d| d["id"] == laptop.device_id.as_str())
        .unwrap();
    assert_eq!(laptop_view["current"], true);
    assert_eq!(laptop_view["name"], "Test phone");
    server.stop().await;
}

#[tokio::test]
async fn registration_errors_are_clear() {
    let server = TestServer::start().await;
    let post = |body: Value| {
        client()
            .post(server.url("/api/auth/register"))
            .json(&body)
            .send()
    };
    let bad_email = post(json!({"email": "not-an-email", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(bad_email.status(), 400);
    assert_eq!(error_code(bad_email).await, "invalid_email");

    let short = post(json!({"email": "a@example.org", "password": "short"}))
        .await
        .unwrap();
    assert_eq!(short.status(), 400);
    let body: Value = short.json().await.unwrap();
    assert_eq!(body["error"]["code"], "password_too_short");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("10 characters"));

    register(&server, "a@example.org").await;
    let duplicate = post(json!({"email": "A@example.org", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 409);
    assert_eq!(error_code(duplicate).await, "email_taken");

    let missing_field = post(json!({"email": "b@example.org"})).await.unwrap();
    assert_eq!(missing_field.status(), 400);
    assert_eq!(error_code(missing_field).await, "invalid_request");

    let not_json = client()
        .post(server.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(error_code(not_json).await, "invalid_json");

    let huge = post(json!({"email": "c@example.org", "password": "x".repeat(100_000)}))
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(error_code(huge).await, "too_large");
    server.stop().await;
}

#[tokio::test]
async fn wrong_password_is_refused_and_login_is_rate_limited() {
    let server = TestServer::start_with(|c| c.login_attempts_per_minute = 3).await;
    register(&server, "r@example.org").await;
    let attempt = |password: &'static str| {
        client()
            .post(server.url("/api/auth/login"))
            .json(&json!({"email": "r@example.org", "password": password}))
            .send()
    };
    for _ in 0..3 {
        let response = attempt("wrong password!").await.unwrap();
        assert_eq!(response.status(), 401);
    }
    let limited = attempt(PASSWORD).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    assert_eq!(error_code(limited).await, "too_many_requests");
    server.stop().await;
}

#[tokio::test]
async fn session_cookie_authenticates_and_logout_ends_it() {
    let server = TestServer::start().await;
    register(&server, "c@example.org").await;
    let response = client()
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "c@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let me = with_cookie(client().get(server.url("/api/me")), &pair).await;
    assert_eq!(me.status(), 200);
    let logout = with_cookie(client().post(server.url("/api/auth/logout")), &pair).await;
    assert_eq!(logout.status(), 204);
    let me = with_cookie(client().get(server.url("/api/me")), &pair).await;
    assert_eq!(me.status(), 401);
    assert_eq!(error_code(me).await, "unauthorized");

    let secure = client()
        .post(server.url("/api/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "c@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(secure.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_requests_and_upgrades_get_401() {
    let server = TestServer::start().await;
    let me = client().get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401);
    let bogus = api_get(&server, "/api/me", "not-a-token").await;
    assert_eq!(bogus.status(), 401);
    let upgrade = tokio_tungstenite::connect_async(server.ws_url()).await;
    match upgrade {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
    let metrics = metrics_text(&server).await;
    assert!(
        metrics.contains("fieldbook_auth_failures_total 3"),
        "{metrics}"
    );
    server.stop().await;
}

// ---------------------------------------------------------------- sync

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
            doc.get(ROOT, "entries").unwrap().is_some()
        })
        .await;
    assert_eq!(outcome, Outcome::Synced);
    let entry_id = random_doc_id();
    let mut entry = Replica::new(entry_id, doc_with_text("title", "Home visit reflections"));
    assert_eq!(
        entry.sync_until(&mut phone_peer, |_| true).await,
        Outcome::Synced
    );
    {
        let mut tx = root.doc.transaction();
        let (_, entries) = tx.get(ROOT, "entries").unwrap().unwrap();
        let item = tx
            .put_object(&entries, entry_id.to_string(), ObjType::Map)
            .unwrap();
        tx.put(&item, "addedAt", 1_i64).unwrap();
        tx.commit();
    }
    assert_eq!(
        root.sync_until(&mut phone_peer, |_| true).await,
        Outcome::Synced
    );

    // Laptop: sees the entry through root and reads it.
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut laptop_root = Replica::empty(account.root);
    let wanted = entry_id.to_string();
    laptop_root
        .sync_until(&mut laptop_peer, |doc| {
            root_entry_ids(doc).contains(&wanted)
        })
        .await;
    let mut laptop_entry = Replica::empty(entry_id);
    laptop_entry
        .sync_until(&mut laptop_peer, |doc| text_of(doc, "title").is_some())
        .await;
    assert_eq!(
        text_of(&laptop_entry.doc, "title").unwrap(),
        "Home visit reflections"
    );

    // A live edit on the laptop is pushed to the phone without it asking.
    {
        let mut tx = laptop_entry.doc.transaction();
        let (_, title) = tx.get(ROOT, "title").unwrap().unwrap();
        tx.splice_text(&title, 0, 0, "Tuesday: ").unwrap();
        tx.commit();
    }
    laptop_entry.sync_until(&mut laptop_peer, |_| true).await;
    entry
        .sync_until(&mut phone_peer, |doc| {
            text_of(doc, "title").as_deref() == Some("Tuesday: Home visit reflections")
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
    let entry_id = random_doc_id();
    let mut entry = Replica::new(entry_id, doc_with_text("title", "Confidential"));
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
    let mut forged = Replica::new(entry_id, doc_with_text("title", "Overwritten"));
    assert_eq!(
        forged.sync_until(&mut intruder, |_| false).await,
        Outcome::Unavailable
    );
    // ...and the owner's document is untouched.
    let mut check = Replica::empty(entry_id);
    let mut owner_laptop = Peer::join(&server, &owner_session.token, "owner-laptop").await;
    check
        .sync_until(&mut owner_laptop, |doc| text_of(doc, "title").is_some())
        .await;
    assert_eq!(text_of(&check.doc, "title").unwrap(), "Confidential");
    assert_eq!(check.doc.get_heads(), entry.doc.get_heads());
    server.stop().await;
}

#[tokio::test]
async fn unknown_documents_are_unavailable_until_someone_sends_changes() {
    let server = TestServer::start().await;
    let (_, session) = account_and_session(&server, "u@example.org").await;
    let mut peer = Peer::join(&server, &session.token, "p").await;
    let mut nothing = Replica::empty(random_doc_id());
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
    let entry_id = random_doc_id();

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
    let mut entry = Replica::new(entry_id, doc_with_text("title", "arrived"));
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
            text_of(d, "title").as_deref() == Some("arrived")
        })
        .await;

    // The stranger was told nothing more: its next message answers a fresh
    // question about another document.
    let probe = random_doc_id();
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
        let entry_id = random_doc_id();
        let mut entry = Replica::new(entry_id, doc_with_text("title", "in flight"));
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
            continue;
        }
        entry
            .doc
            .receive_sync_message(&mut entry.state, reply)
            .unwrap();
        let changes = entry.doc.generate_sync_message(&mut entry.state).unwrap();
        phone_peer
            .send(&phone_peer.sync_message(entry_id, changes.encode()))
            .await;
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

    let entry_id = random_doc_id();
    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut entry = Replica::new(entry_id, doc_with_text("title", "x"));
    entry.sync_until(&mut phone_peer, |_| true).await;
    let mut laptop_entry = Replica::empty(entry_id);
    laptop_entry
        .sync_until(&mut laptop_peer, |doc| text_of(doc, "title").is_some())
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

    let mut socket_peer = Peer {
        socket: open_socket(&server, &my_laptop.token).await,
        peer_id: "shared-name".into(),
        server_id: String::new(),
        server_storage_id: None,
    };
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
    let mut entry = Replica::new(random_doc_id(), doc_with_text("title", "still mine"));
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
    let entry_id = random_doc_id();
    let mut entry = Replica::new(entry_id, doc_with_text("title", "one"));
    {
        let mut peer = Peer::join(&server, &session.token, "phone").await;
        entry.sync_until(&mut peer, |_| true).await;
    }
    // Offline edit, then a new connection with the same peer ID: the client
    // resets its sync state as automerge-repo does on reconnect.
    {
        let mut tx = entry.doc.transaction();
        let (_, title) = tx.get(ROOT, "title").unwrap().unwrap();
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
        text_of(doc, "title").as_deref() == Some("one two")
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

// ---------------------------------------------------------------- revocation and deletion

#[tokio::test]
async fn revoking_a_device_closes_its_socket_and_its_token_stops_working() {
    let server = TestServer::start().await;
    let (_, phone) = account_and_session(&server, "rv@example.org").await;
    let laptop = login(&server, "rv@example.org").await;
    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;

    let revoke = api_delete(
        &server,
        &format!("/api/devices/{}", phone.device_id),
        &laptop.token,
    )
    .await;
    assert_eq!(revoke.status(), 204);
    assert!(
        phone_peer.recv().await.is_none(),
        "the phone's socket was closed"
    );
    assert_eq!(
        api_get(&server, "/api/me", &phone.token).await.status(),
        401
    );
    assert_eq!(
        api_get(&server, "/api/me", &laptop.token).await.status(),
        200
    );

    // A device of another user cannot be revoked, nor an unknown one.
    let (_, other) = account_and_session(&server, "other@example.org").await;
    let cross = api_delete(
        &server,
        &format!("/api/devices/{}", laptop.device_id),
        &other.token,
    )
    .await;
    assert_eq!(cross.status(), 404);
    assert_eq!(
        api_get(&server, "/api/me", &laptop.token).await.status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_document_tells_devices_and_a_stale_device_cannot_bring_it_back() {
    let server = TestServer::start().await;
    let (account, phone) = account_and_session(&server, "del@example.org").await;
    let laptop = login(&server, "del@example.org").await;
    let mut phone_peer = Peer::join(&server, &phone.token, "phone").await;

    let entry_id = random_doc_id();
    let mut root = Replica::empty(account.root);
    root.sync_until(&mut phone_peer, |d| {
        d.get(ROOT, "entries").unwrap().is_some()
    })
    .await;
    let mut entry = Replica::new(entry_id, doc_with_text("title", "to be deleted"));
    entry.sync_until(&mut phone_peer, |_| true).await;
    {
        let mut tx = root.doc.transaction();
        let (_, entries) = tx.get(ROOT, "entries").unwrap().unwrap();
        tx.put_object(&entries, entry_id.to_string(), ObjType::Map)
            .unwrap();
        tx.commit();
    }
    root.sync_until(&mut phone_peer, |_| true).await;

    let response = api_delete(
        &server,
        &format!("/api/documents/{}", entry_id.to_url()),
        &laptop.token,
    )
    .await;
    assert_eq!(response.status(), 204);

    // The phone, subscribed to both, hears the entry is gone and sees the
    // root list change.
    let mut told_unavailable = false;
    let wanted = entry_id.to_string();
    while !told_unavailable || root_entry_ids(&root.doc).contains(&wanted) {
        match phone_peer.recv().await {
            Some(Message::DocUnavailable { document_id, .. }) if document_id == entry_id => {
                told_unavailable = true
            }
            Some(Message::Sync {
                document_id, data, ..
            }) if document_id == account.root => {
                use automerge::sync::SyncDoc;
                let message = automerge::sync::Message::decode(&data).unwrap();
                root.doc
                    .receive_sync_message(&mut root.state, message)
                    .unwrap();
            }
            Some(_) => {}
            None => panic!("closed"),
        }
    }

    // A stale device pushing its old copy is refused, now and after restart.
    let mut stale = Replica::new(entry_id, entry.doc.clone());
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    assert_eq!(
        stale.sync_until(&mut laptop_peer, |_| false).await,
        Outcome::Unavailable
    );
    drop(laptop_peer);
    drop(phone_peer);
    let dir = server.stop().await.unwrap();
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let mut laptop_peer = Peer::join(&server, &laptop.token, "laptop").await;
    let mut stale = Replica::new(entry_id, entry.doc.clone());
    assert_eq!(
        stale.sync_until(&mut laptop_peer, |_| false).await,
        Outcome::Unavailable
    );

    // Deleting the root list itself, or someone else's document, is refused.
    let root_delete = api_delete(
        &server,
        &format!("/api/documents/{}", account.root),
        &laptop.token,
    )
    .await;
    assert_eq!(root_delete.status(), 409);
    let bad_id = api_delete(&server, "/api/documents/not-an-id", &laptop.token).await;
    assert_eq!(bad_id.status(), 400);
    assert_eq!(error_code(bad_id).await, "invalid_document_id");
    server.stop().await;
}

// ---------------------------------------------------------------- durability and memory

#[tokio::test]
async fn acknowledged_changes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let (account, session) = account_and_session(&server, "d@example.org").await;
    let entry_id = random_doc_id();
    let mut entry = Replica::new(entry_id, doc_with_text("learning", "What I learnt"));
    {
        let mut peer = Peer::join(&server, &session.token, "phone").await;
        entry.sync_until(&mut peer, |_| true).await;
    }
    server.stop().await;

    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let fresh = login(&server, "d@example.org").await;
    let mut peer = Peer::join(&server, &fresh.token, "new-laptop").await;
    let mut copy = Replica::empty(entry_id);
    copy.sync_until(&mut peer, |doc| text_of(doc, "learning").is_some())
        .await;
    assert_eq!(text_of(&copy.doc, "learning").unwrap(), "What I learnt");
    let mut root = Replica::empty(account.root);
    assert_eq!(
        root.sync_until(&mut peer, |d| d.get(ROOT, "entries").unwrap().is_some())
            .await,
        Outcome::Synced
    );
    server.stop().await;
}

#[tokio::test]
async fn acknowledged_changes_survive_the_server_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_binary(dir.path());
    let server = child_server(&mut child, dir.path()).await;
    let (_, session) = account_and_session(&server, "kill@example.org").await;
    let entry_id = random_doc_id();
    let mut entry = Replica::new(entry_id, doc_with_text("impact", "Acknowledged words"));
    let mut peer = Peer::join(&server, &session.token, "phone").await;
    entry.sync_until(&mut peer, |_| true).await;
    // The server acknowledged our heads: SIGKILL it, no chance to flush.
    child.kill().await.unwrap();

    let mut child = spawn_binary(dir.path());
    let server = child_server(&mut child, dir.path()).await;
    let mut peer = Peer::join(&server, &session.token, "phone").await;
    let mut copy = Replica::empty(entry_id);
    copy.sync_until(&mut peer, |doc| text_of(doc, "impact").is_some())
        .await;
    assert_eq!(text_of(&copy.doc, "impact").unwrap(), "Acknowledged words");
    child.kill().await.unwrap();
}

fn spawn_binary(data_dir: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Reads the binary's `listening on` line to learn its address.
async fn child_server(child: &mut tokio::process::Child, data_dir: &std::path::Path) -> TestServer {
    use tokio::io::AsyncBufReadExt;
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    TestServer::external(addr, data_dir)
}

#[tokio::test]
async fn idle_documents_are_evicted_from_memory() {
    let server = TestServer::start_with(|c| c.doc_idle_timeout = Duration::from_millis(200)).await;
    let (_, session) = account_and_session(&server, "ev@example.org").await;
    {
        let mut peer = Peer::join(&server, &session.token, "p").await;
        for n in 0..5 {
            let mut entry = Replica::new(random_doc_id(), doc_with_text("title", &format!("{n}")));
            entry.sync_until(&mut peer, |_| true).await;
        }
        // Connected, so all five are still in memory, but only as the
        // device's sync states: it has every change, so none is loaded.
        let metrics = metrics_text(&server).await;
        assert!(
            metrics.contains("fieldbook_documents_in_memory 5\n"),
            "{metrics}"
        );
        assert!(
            metrics.contains("fieldbook_documents_loaded 0\n"),
            "{metrics}"
        );
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = metrics_text(&server).await;
        if metrics.contains("fieldbook_documents_in_memory 0") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never evicted: {metrics}"
        );
        tokio::task::yield_now().await;
    }
    server.stop().await;
}

async fn metrics_text(server: &TestServer) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start().await;
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let (_, session) = account_and_session(&server, "m@example.org").await;
    let mut peer = Peer::join(&server, &session.token, "p").await;
    let mut entry = Replica::new(random_doc_id(), doc_with_text("title", "m"));
    entry.sync_until(&mut peer, |_| true).await;
    let metrics = metrics_text(&server).await;
    for name in [
        "fieldbook_connections 1",
        "fieldbook_messages_in_total",
        "fieldbook_bytes_out_total",
        "fieldbook_flush_seconds_count",
        "fieldbook_auth_failures_total",
        "fieldbook_sync_message_handling_seconds_count",
        "fieldbook_sync_message_in_bytes_bucket",
        "fieldbook_sync_message_out_bytes_bucket",
    ] {
        assert!(metrics.contains(name), "{name} missing from {metrics}");
    }
    let count: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fieldbook_flush_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 1, "a flush was measured");
    let handled: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fieldbook_sync_message_handling_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(handled >= 1, "the handling of a message was measured");
    server.stop().await;
}

// ---------------------------------------------------------------- bad input

/// Every kind of bad input closes only the offending connection, with an
/// `error` message; a healthy peer carries on and stored data is intact.
#[tokio::test]
async fn bad_input_closes_only_the_offending_connection() {
    let server = TestServer::start_with(|c| c.max_message_bytes = 64 * 1024).await;
    let (_, session) = account_and_session(&server, "bad@example.org").await;
    let mut healthy = Peer::join(&server, &session.token, "healthy").await;
    let entry_id = random_doc_id();
    let mut entry = Replica::new(entry_id, doc_with_text("title", "keep me"));
    entry.sync_until(&mut healthy, |_| true).await;

    let server_id = healthy.server_id.clone();
    let valid_sync = |sender: &str, doc: &str, data: Vec<u8>| {
        // Built by hand so the document ID can be invalid.
        minimal_cbor_map(&[
            ("type", Cbor::Text("sync".into())),
            ("senderId", Cbor::Text(sender.into())),
            ("targetId", Cbor::Text(server_id.clone())),
            ("documentId", Cbor::Text(doc.into())),
            ("data", Cbor::Bytes(data)),
        ])
    };
    let good_id = entry_id.to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed CBOR", vec![0xa5, 0x64, 0x74, 0x79], "malformed"),
        ("not a map", vec![0x83, 0x01, 0x02, 0x03], "malformed"),
        (
            "unknown message type",
            minimal_cbor_map(&[
                ("type", Cbor::Text("teleport".into())),
                ("senderId", Cbor::Text("bad".into())),
            ]),
            "malformed",
        ),
        (
            "wrong field type",
            minimal_cbor_map(&[
                ("type", Cbor::Text("sync".into())),
                ("senderId", Cbor::Text("bad".into())),
                ("targetId", Cbor::Text(server_id.clone())),
                ("documentId", Cbor::Text(good_id.clone())),
                ("data", Cbor::Text("not bytes".into())),
            ]),
            "malformed",
        ),
        (
            "mismatched senderId",
            valid_sync("someone-else", &good_id, vec![0x42, 0, 0, 0]),
            "senderId",
        ),
        (
            "invalid document ID",
            valid_sync("bad", "not-a-document", vec![0x42]),
            "malformed",
        ),
        (
            "garbage sync payload",
            valid_sync("bad", &good_id, vec![0xde, 0xad, 0xbe, 0xef]),
            "sync message",
        ),
        (
            "message over the size limit",
            valid_sync("bad", &good_id, vec![0u8; 100 * 1024]),
            "over the limit",
        ),
    ];
    for (what, bytes, expected) in cases {
        let mut bad = Peer::join(&server, &session.token, "bad").await;
        bad.send_raw(bytes).await;
        let error = bad.expect_error_and_close().await;
        assert!(error.contains(expected), "{what}: error was {error:?}");
    }

    // A text frame, and a first message that is not a join.
    let mut text = Peer::join(&server, &session.token, "bad").await;
    use futures::SinkExt;
    text.socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            "hello".into(),
        ))
        .await
        .unwrap();
    assert!(text.expect_error_and_close().await.contains("binary"));
    let mut no_join = Peer {
        socket: open_socket(&server, &session.token).await,
        peer_id: "x".into(),
        server_id: server_id.clone(),
        server_storage_id: None,
    };
    no_join
        .send(&no_join.sync_message(entry_id, vec![0x42]))
        .await;
    assert!(no_join.expect_error_and_close().await.contains("join"));
    let mut old_version = Peer {
        socket: open_socket(&server, &session.token).await,
        peer_id: "x".into(),
        server_id: server_id.clone(),
        server_storage_id: None,
    };
    old_version
        .send(&Message::Join {
            sender_id: "x".into(),
            peer_metadata: PeerMetadata::default(),
            supported_protocol_versions: vec!["0".into()],
        })
        .await;
    assert!(old_version
        .expect_error_and_close()
        .await
        .contains("version"));

    // The healthy peer still syncs, and the stored entry is intact.
    {
        let mut tx = entry.doc.transaction();
        let (_, title) = tx.get(ROOT, "title").unwrap().unwrap();
        tx.splice_text(&title, 7, 0, " safe").unwrap();
        tx.commit();
    }
    assert_eq!(
        entry.sync_until(&mut healthy, |_| true).await,
        Outcome::Synced
    );
    let mut check = Replica::empty(entry_id);
    let mut reader = Peer::join(&server, &session.token, "reader").await;
    check
        .sync_until(&mut reader, |d| {
            text_of(d, "title").as_deref() == Some("keep me safe")
        })
        .await;
    let metrics = metrics_text(&server).await;
    let errors: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fieldbook_protocol_errors_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(errors, 11);
    server.stop().await;
}

enum Cbor {
    Text(String),
    Bytes(Vec<u8>),
}

fn cbor_header(major: u8, len: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=255 => out.extend([major | 24, len as u8]),
        256..=65535 => {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

/// A CBOR map written by hand, so tests can send what the encoder never would.
fn minimal_cbor_map(entries: &[(&str, Cbor)]) -> Vec<u8> {
    let mut out = Vec::new();
    cbor_header(5, entries.len(), &mut out);
    for (key, value) in entries {
        cbor_header(3, key.len(), &mut out);
        out.extend(key.as_bytes());
        match value {
            Cbor::Text(text) => {
                cbor_header(3, text.len(), &mut out);
                out.extend(text.as_bytes());
            }
            Cbor::Bytes(bytes) => {
                cbor_header(2, bytes.len(), &mut out);
                out.extend(bytes);
            }
        }
    }
    out
}

#[test]
fn hand_built_cbor_matches_the_wire_encoder() {
    let message = Message::Leave {
        sender_id: "me".into(),
    };
    let ours = minimal_cbor_map(&[
        ("type", Cbor::Text("leave".into())),
        ("senderId", Cbor::Text("me".into())),
    ]);
    assert_eq!(wire::decode(&ours).unwrap(), message);
}
