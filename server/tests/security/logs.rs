//! Logs never hold note text, tokens or passwords, at any level an
//! operator can set: the real binary runs with `RUST_LOG=trace` (every
//! library's frame and payload dumps asked for) through a real sync, sign-in
//! and sign-out, and the whole log is searched for each secret, as text and
//! as hex.

use automerge::transaction::Transactable;
use automerge::ReadDoc;

use super::*;

const NOTE: &str = "Reflections after the Tuesday visit NOTE-7f3a";
const EDIT: &str = "EDIT-typed-on-the-laptop-c91e";
const WRONG_PASSWORD: &str = "not the password 4d2b";

#[tokio::test]
async fn nothing_secret_reaches_the_log_even_at_trace() {
    let logged = LoggedServer::start("trace").await;
    let server = &logged.server;
    let (_, phone) = account_and_session(server, "log@example.org").await;
    let laptop = login(server, "log@example.org").await;
    let refused = login_response(server, "log@example.org", WRONG_PASSWORD, &[]).await;
    assert_eq!(refused.status(), 401);

    // The phone uploads a note; the laptop reads it back (from disk, as the
    // server unloads what every device has) and edits it; the phone gets
    // the edit pushed.
    let entry = new_doc_id();
    let mut phone_peer = Peer::join(server, &phone.token, "phone").await;
    let mut on_phone = Replica::new(entry, with_text(keys::NOTES, NOTE));
    assert_eq!(
        on_phone.sync_until(&mut phone_peer, |_| true).await,
        Outcome::Synced
    );
    let mut laptop_peer = Peer::join(server, &laptop.token, "laptop").await;
    let mut on_laptop = Replica::empty(entry);
    on_laptop
        .sync_until(&mut laptop_peer, |doc| text_of(doc, keys::NOTES).is_some())
        .await;
    {
        let mut tx = on_laptop.doc.transaction();
        let (_, notes) = tx.get(automerge::ROOT, keys::NOTES).unwrap().unwrap();
        tx.splice_text(&notes, 0, 0, EDIT).unwrap();
        tx.commit();
    }
    on_laptop.sync_until(&mut laptop_peer, |_| true).await;
    on_phone
        .sync_until(&mut phone_peer, |doc| {
            text_of(doc, keys::NOTES).is_some_and(|text| text.starts_with(EDIT))
        })
        .await;

    // The tokens in every place a client puts them.
    for credential in Credential::both(&phone.token) {
        assert_eq!(me_status(server, &credential).await, 200);
    }
    let signed_out = Credential::Bearer(laptop.token.clone())
        .apply(client().post(server.url("/api/auth/logout")))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    drop((phone_peer, laptop_peer));

    let log = logged.stop().await;
    assert!(
        log.contains("sync peer joined") && log.contains("DEBUG"),
        "our own debug lines are logged at trace: {log}"
    );
    for (what, secret) in [
        ("note text", NOTE),
        ("edited note text", EDIT),
        ("password", PASSWORD),
        ("wrong password", WRONG_PASSWORD),
        ("phone's token", phone.token.as_str()),
        ("laptop's token", laptop.token.as_str()),
    ] {
        assert!(!log_holds(&log, secret), "the log holds the {what}");
    }
}

/// What an operator sees at `RUST_LOG=debug`: every HTTP request's lines
/// carry its request ID (returned as `x-request-id`) and, once signed in,
/// the user and device; every line of a sync connection carries its
/// connection, user, device and peer IDs. Never the note's text.
#[tokio::test]
async fn an_operator_can_follow_one_device_through_the_log() {
    let logged = LoggedServer::start("debug").await;
    let server = &logged.server;
    let (account, phone) = account_and_session(server, "follow@example.org").await;
    let me = Credential::Bearer(phone.token.clone())
        .apply(client().get(server.url("/api/me")))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let request_id = me.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!request_id.is_empty());

    let mut peer = Peer::join(server, &phone.token, "phone-7").await;
    let mut entry = Replica::new(new_doc_id(), with_text(keys::NOTES, NOTE));
    assert_eq!(entry.sync_until(&mut peer, |_| true).await, Outcome::Synced);
    drop(peer);

    let log = logged.stop().await;
    let user = format!("user={}", account.user_id);
    let device = format!("device={}", phone.device_id);
    let request_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(&format!("id={request_id}")))
        .collect();
    assert!(
        request_lines
            .iter()
            .any(|line| line.contains("path=/api/me")
                && line.contains(&user)
                && line.contains(&device)),
        "no line of request {request_id} names its user and device: {log}"
    );
    let joined = log
        .lines()
        .find(|line| line.contains("sync peer joined"))
        .unwrap_or_else(|| panic!("no join logged: {log}"));
    for wanted in ["sync{conn=", &user, &device, "peer=phone-7", "path=/sync"] {
        assert!(joined.contains(wanted), "{wanted} missing from {joined}");
    }
    assert!(!log_holds(&log, NOTE), "the log holds the note text");
    assert!(!log_holds(&log, &phone.token), "the log holds the token");
}

/// Sharing at `RUST_LOG=trace`: the invitation link's token, the names
/// chosen for the share and a reader's refused words never reach the log;
/// the invitation's ID (not a secret) may.
#[tokio::test]
async fn sharing_leaves_no_link_name_or_refused_words_in_the_log() {
    use crate::sharing::{accept, invite, new_entry, User};
    const OWNER_NAME: &str = "Sam OWNERNAME-5e1d";
    const MEMBER_NAME: &str = "Alex MEMBERNAME-a07c";
    const REFUSED: &str = "READER-WORDS-93bb";
    let logged = LoggedServer::start("trace").await;
    let server = &logged.server;
    let owner = User::new(server, "owner@example.org").await;
    let reader = User::new(server, "reader@example.org").await;
    let entry = new_entry(server, &owner, "owner-phone", NOTE).await;

    let response = crate::sharing::ask_invitation(
        server,
        owner.token(),
        entry.id,
        serde_json::json!({ "role": "reader", "displayName": OWNER_NAME }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let made: Value = response.json().await.unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    let accepted = accept(server, reader.token(), &token, Some(MEMBER_NAME)).await;
    assert_eq!(accepted.status(), 200);
    let again = accept(server, reader.token(), &token, Some(MEMBER_NAME)).await;
    assert_eq!(again.status(), 409);
    let unused = invite(server, &owner, entry.id, "writer").await;
    let unused_token = unused["token"].as_str().unwrap().to_owned();
    let members = api_get(
        server,
        &format!("/api/documents/{}/members", entry.id),
        owner.token(),
    )
    .await;
    assert!(members.text().await.unwrap().contains(MEMBER_NAME));

    // The reader's change is refused.
    let mut peer = Peer::join(server, reader.token(), "reader-phone").await;
    let mut copy = Replica::empty(entry.id);
    copy.sync_until(&mut peer, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    let mut state = super::roles::state_knowing(&copy.doc, &copy.doc);
    let message = super::roles::change_and_message(&mut copy.doc, &mut state, REFUSED);
    peer.send(&peer.sync_message(entry.id, message.encode()))
        .await;
    let answers = super::sync_access::answers_until_sentinel(&mut peer)
        .await
        .expect("still connected");
    assert!(
        answers
            .iter()
            .any(|m| matches!(m, fieldbook_shared::wire::Message::Error { .. })),
        "{answers:?}"
    );
    drop(peer);

    let log = logged.stop().await;
    assert!(
        log.contains("invitation accepted"),
        "the acceptance is logged: {log}"
    );
    for (what, secret) in [
        ("invitation token", token.as_str()),
        ("unused invitation token", unused_token.as_str()),
        ("owner's name for the share", OWNER_NAME),
        ("member's name for the share", MEMBER_NAME),
        ("reader's refused words", REFUSED),
        ("note text", NOTE),
    ] {
        assert!(!log_holds(&log, secret), "the log holds the {what}");
    }
}
