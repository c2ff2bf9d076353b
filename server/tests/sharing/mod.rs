//! Sharing a document between users (#15), through the HTTP contract and
//! ordinary sync: invitations made, listed, withdrawn and accepted, each
//! bad invitation told apart, members listed (by the name chosen for the
//! share, never an email) and removed or leaving, `GET /api/shared`, and
//! the `shared` list in the member's root document appearing and going
//! again on every device of theirs. Who may reach what is
//! security::roles's matrix.

use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;
use serde_json::{json, Value};

use super::support::*;

/// A signed-in user with one device.
pub(crate) struct User {
    pub account: Account,
    pub session: Session,
}

impl User {
    pub(crate) async fn new(server: &TestServer, email: &str) -> Self {
        let (account, session) = account_and_session(server, email).await;
        Self { account, session }
    }

    pub(crate) fn id(&self) -> &str {
        &self.account.user_id
    }

    pub(crate) fn token(&self) -> &str {
        &self.session.token
    }
}

/// A new entry of `user`'s, uploaded from a device named `peer_id`.
pub(crate) async fn new_entry(
    server: &TestServer,
    user: &User,
    peer_id: &str,
    title: &str,
) -> Replica {
    let mut peer = Peer::join(server, user.token(), peer_id).await;
    let mut entry = Replica::new(new_doc_id(), with_text(keys::TITLE, title));
    assert_eq!(entry.sync_until(&mut peer, |_| true).await, Outcome::Synced);
    entry
}

pub(crate) async fn send_json(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .request(method.parse().unwrap(), server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn delete(server: &TestServer, path: &str, token: &str) -> reqwest::Response {
    client()
        .delete(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asks for an invitation to `doc` with `role`: the whole response.
pub(crate) async fn ask_invitation(
    server: &TestServer,
    token: &str,
    doc: DocumentId,
    body: Value,
) -> reqwest::Response {
    send_json(
        server,
        "POST",
        &format!("/api/documents/{doc}/invitations"),
        token,
        &body,
    )
    .await
}

/// An invitation of `owner`'s to `doc`, made: its JSON.
pub(crate) async fn invite(
    server: &TestServer,
    owner: &User,
    doc: DocumentId,
    role: &str,
) -> Value {
    let response = ask_invitation(server, owner.token(), doc, json!({ "role": role })).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

pub(crate) async fn accept(
    server: &TestServer,
    token: &str,
    invitation_token: &str,
    display_name: Option<&str>,
) -> reqwest::Response {
    let body = match display_name {
        Some(name) => json!({ "token": invitation_token, "displayName": name }),
        None => json!({ "token": invitation_token }),
    };
    send_json(server, "POST", "/api/invitations/accept", token, &body).await
}

/// `owner` shares `doc` with `member` as `role`.
pub(crate) async fn share(
    server: &TestServer,
    owner: &User,
    doc: DocumentId,
    role: &str,
    member: &User,
    display_name: &str,
) {
    let invitation = invite(server, owner, doc, role).await;
    let token = invitation["token"].as_str().unwrap();
    let response = accept(server, member.token(), token, Some(display_name)).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

pub(crate) async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The `shared` entry for `doc` in a root document: (role, ownerDisplayName).
pub(crate) fn shared_entry(root: &Automerge, doc: DocumentId) -> Option<(String, String)> {
    let (_, shared) = root.get(ROOT, keys::SHARED).ok()??;
    let (_, entry) = root.get(&shared, doc.to_string().as_str()).ok()??;
    let field = |name: &str| -> Option<String> {
        match root.get(&entry, name).ok()?? {
            (automerge::Value::Scalar(scalar), _) => match scalar.as_ref() {
                automerge::ScalarValue::Str(text) => Some(text.to_string()),
                _ => None,
            },
            _ => None,
        }
    };
    Some((field("role")?, field("ownerDisplayName")?))
}

/// Reads `peer`'s messages, applying (and answering) syncs of `root`, until
/// `done(root, told)` holds, `told` being whether `doc-unavailable` for
/// `doc` was heard.
pub(crate) async fn follow_root(
    peer: &mut Peer,
    root: &mut Replica,
    doc: DocumentId,
    done: impl Fn(&Automerge, bool) -> bool,
) {
    let mut told = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done(&root.doc, told) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never came: told unavailable {told}"
        );
        match peer.recv().await {
            Some(Message::DocUnavailable { document_id, .. }) if document_id == doc => told = true,
            Some(Message::Sync {
                document_id, data, ..
            }) if document_id == root.id => {
                let message = sync::Message::decode(&data).unwrap();
                root.doc
                    .receive_sync_message(&mut root.state, message)
                    .unwrap();
                if let Some(reply) = root.doc.generate_sync_message(&mut root.state) {
                    let reply = peer.sync_message(root.id, reply.encode());
                    peer.send(&reply).await;
                }
            }
            Some(_) => {}
            None => panic!("connection closed"),
        }
    }
}

/// `user`'s root document, synced on `peer`.
async fn synced_root(peer: &mut Peer, user: &User) -> Replica {
    let mut root = Replica::empty(user.account.root);
    let outcome = root
        .sync_until(peer, |doc| doc.get(ROOT, keys::TYPE).unwrap().is_some())
        .await;
    assert_eq!(outcome, Outcome::Synced);
    root
}

fn edit_title(replica: &mut Replica, prefix: &str) {
    let mut tx = replica.doc.transaction();
    let (_, title) = tx.get(ROOT, keys::TITLE).unwrap().unwrap();
    tx.splice_text(&title, 0, 0, prefix).unwrap();
    tx.commit();
}

// ------------------------------------------------------------ the contract

#[tokio::test]
async fn an_invitation_is_made_listed_accepted_once_and_the_peer_writes_in() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let latecomer = User::new(&server, "kim@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Peer reflection").await;

    // The peer's phone is on its root document before accepting.
    let mut peer_phone = Peer::join(&server, peer.token(), "alex-phone").await;
    let mut peer_root = synced_root(&mut peer_phone, &peer).await;
    assert_eq!(shared_entry(&peer_root.doc, entry.id), None);

    let response = ask_invitation(
        &server,
        owner.token(),
        entry.id,
        json!({ "role": "writer", "displayName": "Sam (senior practitioner)" }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let made: Value = response.json().await.unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    let invitation_id = made["invitationId"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "at least 256 bits: {token}");
    assert_eq!(made["role"], "writer");
    assert_eq!(
        made["url"],
        format!("http://{}/#/invite/{token}", server.addr).as_str()
    );
    let expires = humantime::parse_rfc3339(made["expiresAt"].as_str().unwrap()).unwrap();
    let week = expires
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(
        week > Duration::from_secs(6 * 24 * 3600) && week <= Duration::from_secs(7 * 24 * 3600),
        "expires in a week: {week:?}"
    );

    // Listed for the owner, open, and never with its token.
    let listing = api_get(
        &server,
        &format!("/api/documents/{}/invitations", entry.id),
        owner.token(),
    )
    .await;
    let text = listing.text().await.unwrap();
    assert!(!text.contains(&token), "the token is shown once only");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["invitationId"], invitation_id.as_str());
    assert_eq!(listed[0]["state"], "open");
    assert_eq!(listed[0]["role"], "writer");

    let response = accept(&server, peer.token(), &token, Some("  Alex (peer)  ")).await;
    let accepted = json_of(response).await;
    assert_eq!(
        accepted,
        json!({ "documentId": entry.id.to_string(), "role": "writer" })
    );
    // Single use: nobody, not even the peer again, can use it twice.
    for who in [&latecomer, &peer] {
        let again = accept(&server, who.token(), &token, None).await;
        assert_eq!(again.status(), 409);
        assert_eq!(error_code(again).await, "invitation_used");
    }
    let listed = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/invitations", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    assert_eq!(listed[0]["state"], "used");
    // Withdrawing a used invitation changes nothing.
    let revoke = delete(
        &server,
        &format!("/api/invitations/{invitation_id}"),
        owner.token(),
    )
    .await;
    assert_eq!(revoke.status(), 204);
    assert_eq!(
        json_of(
            api_get(
                &server,
                &format!("/api/documents/{}/invitations", entry.id),
                owner.token()
            )
            .await
        )
        .await[0]["state"],
        "used"
    );

    // The peer's root document lists it, through ordinary sync.
    follow_root(&mut peer_phone, &mut peer_root, entry.id, |root, _| {
        shared_entry(root, entry.id).is_some()
    })
    .await;
    assert_eq!(
        shared_entry(&peer_root.doc, entry.id),
        Some(("writer".into(), "Sam (senior practitioner)".into()))
    );
    // And so does /api/shared; the owner's own list is empty.
    let shared = json_of(api_get(&server, "/api/shared", peer.token()).await).await;
    assert_eq!(shared.as_array().unwrap().len(), 1);
    assert_eq!(shared[0]["documentId"], entry.id.to_string().as_str());
    assert_eq!(shared[0]["role"], "writer");
    assert_eq!(shared[0]["ownerDisplayName"], "Sam (senior practitioner)");
    assert!(shared[0]["since"].as_str().is_some());
    let owners = json_of(api_get(&server, "/api/shared", owner.token()).await).await;
    assert_eq!(owners, json!([]));

    // Members, for the owner and for the member alike: the chosen name,
    // trimmed, and nothing else about them.
    for who in [&owner, &peer] {
        let response = api_get(
            &server,
            &format!("/api/documents/{}/members", entry.id),
            who.token(),
        )
        .await;
        let text = response.text().await.unwrap();
        for email in ["sam@example.org", "alex@example.org"] {
            assert!(
                !text.contains(email),
                "an email in the members list: {text}"
            );
        }
        let members: Value = serde_json::from_str(&text).unwrap();
        let members = members.as_array().unwrap();
        assert_eq!(members.len(), 1, "{members:?}");
        let member = members[0].as_object().unwrap();
        let mut fields: Vec<&str> = member.keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(fields, ["displayName", "role", "since", "userId"]);
        assert_eq!(member["userId"], peer.id());
        assert_eq!(member["displayName"], "Alex (peer)");
        assert_eq!(member["role"], "writer");
    }

    // The peer reads the entry and writes in it; the owner sees it.
    let mut peer_entry = Replica::empty(entry.id);
    peer_entry
        .sync_until(&mut peer_phone, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    assert_eq!(
        text_of(&peer_entry.doc, keys::TITLE).unwrap(),
        "Peer reflection"
    );
    edit_title(&mut peer_entry, "Our ");
    assert_eq!(
        peer_entry.sync_until(&mut peer_phone, |_| true).await,
        Outcome::Synced
    );
    let mut owner_laptop = Peer::join(&server, owner.token(), "sam-laptop").await;
    let mut owners_copy = Replica::empty(entry.id);
    owners_copy
        .sync_until(&mut owner_laptop, |doc| {
            text_of(doc, keys::TITLE).as_deref() == Some("Our Peer reflection")
        })
        .await;
    server.stop().await;
}

#[tokio::test]
async fn one_invitation_can_share_several_documents_of_the_owner() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let supervisor = User::new(&server, "jo@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    let comments = new_entry(&server, &owner, "sam-phone", "Comments").await;
    let other = new_entry(&server, &supervisor, "jo-phone", "Jo's own").await;

    // Another user's document cannot ride along.
    let refused = ask_invitation(
        &server,
        owner.token(),
        entry.id,
        json!({ "role": "reader", "include": [{ "documentId": other.id.to_string(), "role": "reader" }] }),
    )
    .await;
    assert_eq!(refused.status(), 404);

    let response = ask_invitation(
        &server,
        owner.token(),
        entry.id,
        json!({ "role": "reader", "include": [{ "documentId": comments.id.to_string(), "role": "writer" }] }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let made: Value = response.json().await.unwrap();
    let accepted = json_of(
        accept(
            &server,
            supervisor.token(),
            made["token"].as_str().unwrap(),
            Some("Supervisor"),
        )
        .await,
    )
    .await;
    assert_eq!(accepted["documentId"], entry.id.to_string().as_str());
    assert_eq!(accepted["role"], "reader");
    let shared = json_of(api_get(&server, "/api/shared", supervisor.token()).await).await;
    let mut roles: Vec<(String, String)> = shared
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["documentId"].as_str().unwrap().to_owned(),
                s["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    roles.sort();
    let mut wanted = vec![
        (entry.id.to_string(), "reader".to_owned()),
        (comments.id.to_string(), "writer".to_owned()),
    ];
    wanted.sort();
    assert_eq!(roles, wanted);
    // Not named by the owner, the owner is "Owner" and the member "Member"
    // unless they give a name.
    assert_eq!(shared[0]["ownerDisplayName"], "Owner");
    server.stop().await;
}

#[tokio::test]
async fn each_bad_invitation_gets_its_own_error_and_uses_nothing_up() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    let peers_own = new_entry(&server, &peer, "alex-phone", "Alex's").await;

    // Forged (and empty) tokens.
    for forged in ["not-a-token", "", "A".repeat(43).as_str()] {
        let response = accept(&server, peer.token(), forged, None).await;
        assert_eq!(response.status(), 400, "{forged:?}");
        assert_eq!(error_code(response).await, "invitation_invalid");
    }

    let invitation = invite(&server, &owner, entry.id, "writer").await;
    let token = invitation["token"].as_str().unwrap();
    // The owner's own link.
    let own = accept(&server, owner.token(), token, None).await;
    assert_eq!(own.status(), 409);
    let body: Value = own.json().await.unwrap();
    assert_eq!(body["error"]["code"], "own_invitation");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("your own"));
    // A name that is blank, too long, or has control characters.
    for name in ["   ", "x".repeat(81).as_str(), "Al\u{7}ex"] {
        let response = accept(&server, peer.token(), token, Some(name)).await;
        assert_eq!(response.status(), 400);
        assert_eq!(error_code(response).await, "invalid_display_name");
    }

    // Withdrawn before use. Only its maker can withdraw it.
    let withdrawn = invite(&server, &owner, entry.id, "reader").await;
    let id = withdrawn["invitationId"].as_str().unwrap();
    let by_peer = delete(&server, &format!("/api/invitations/{id}"), peer.token()).await;
    assert_eq!(by_peer.status(), 404);
    let unknown = delete(&server, "/api/invitations/0123456789abcdef", owner.token()).await;
    assert_eq!(unknown.status(), 404);
    let revoke = delete(&server, &format!("/api/invitations/{id}"), owner.token()).await;
    assert_eq!(revoke.status(), 204);
    let response = accept(
        &server,
        peer.token(),
        withdrawn["token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "invitation_revoked");
    let listed = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/invitations", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    let states: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "revoked"]);

    // Invitations for documents one does not own: another user's, one
    // nobody has, the root list, a deleted one; and roles that are not
    // writer or reader.
    let response = ask_invitation(
        &server,
        owner.token(),
        peers_own.id,
        json!({ "role": "reader" }),
    )
    .await;
    assert_eq!(response.status(), 404);
    let not_theirs = response.text().await.unwrap();
    let response = ask_invitation(
        &server,
        owner.token(),
        new_doc_id(),
        json!({ "role": "reader" }),
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.text().await.unwrap(),
        not_theirs,
        "another's document and no document look the same"
    );
    let response = ask_invitation(
        &server,
        owner.token(),
        owner.account.root,
        json!({ "role": "reader" }),
    )
    .await;
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "root_document");
    let response =
        ask_invitation(&server, owner.token(), entry.id, json!({ "role": "owner" })).await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "invalid_role");
    let response =
        ask_invitation(&server, owner.token(), entry.id, json!({ "role": "admin" })).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let response = client()
        .post(server.url("/api/documents/not-an-id/invitations"))
        .bearer_auth(owner.token())
        .json(&json!({ "role": "reader" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "invalid_document_id");

    // None of that used the first invitation up.
    let response = accept(&server, peer.token(), token, Some("Alex")).await;
    assert_eq!(response.status(), 200);

    // An invitation whose document was deleted before it was used.
    let doomed = new_entry(&server, &owner, "sam-phone", "Doomed").await;
    let invitation = invite(&server, &owner, doomed.id, "reader").await;
    let gone = delete(
        &server,
        &format!("/api/documents/{}", doomed.id),
        owner.token(),
    )
    .await;
    assert_eq!(gone.status(), 204);
    let response = accept(
        &server,
        peer.token(),
        invitation["token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "invitation_invalid");
    let response = ask_invitation(
        &server,
        owner.token(),
        doomed.id,
        json!({ "role": "reader" }),
    )
    .await;
    assert_eq!(response.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn an_invitation_past_its_expiry_is_refused_as_expired() {
    const EXPIRY: Duration = Duration::from_millis(200);
    let server = TestServer::start_with(|c| c.invitation_expiry = EXPIRY).await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    let invitation = invite(&server, &owner, entry.id, "writer").await;
    tokio::time::sleep(EXPIRY * 2).await;
    let response = accept(
        &server,
        peer.token(),
        invitation["token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invitation_expired");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let listed = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/invitations", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    assert_eq!(listed[0]["state"], "expired");
    assert_eq!(
        json_of(api_get(&server, "/api/shared", peer.token()).await).await,
        json!([])
    );
    server.stop().await;
}

// ------------------------------------------------------------ removal

#[tokio::test]
async fn removal_closes_the_document_on_every_device_of_the_member_and_unlists_it() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let reader = User::new(&server, "jo@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    share(&server, &owner, entry.id, "writer", &peer, "Alex").await;
    share(&server, &owner, entry.id, "reader", &reader, "Jo").await;

    // Both of the peer's devices hold the entry and their root list.
    let laptop = login(&server, "alex@example.org").await;
    let mut devices = Vec::new();
    for (token, name) in [
        (peer.token(), "alex-phone"),
        (laptop.token.as_str(), "alex-laptop"),
    ] {
        let mut device = Peer::join(&server, token, name).await;
        let root = synced_root(&mut device, &peer).await;
        assert!(shared_entry(&root.doc, entry.id).is_some());
        let mut copy = Replica::empty(entry.id);
        copy.sync_until(&mut device, |doc| text_of(doc, keys::TITLE).is_some())
            .await;
        devices.push((device, root, copy));
    }

    // Members may not remove each other, or the owner.
    for (who, target) in [
        (&reader, peer.id()),
        (&peer, reader.id()),
        (&peer, owner.id()),
    ] {
        let response = delete(
            &server,
            &format!("/api/documents/{}/members/{target}", entry.id),
            who.token(),
        )
        .await;
        assert_eq!(response.status(), 404);
    }

    let removed = delete(
        &server,
        &format!("/api/documents/{}/members/{}", entry.id, peer.id()),
        owner.token(),
    )
    .await;
    assert_eq!(removed.status(), 204);
    // Every device of the peer is told at once, and its list loses it.
    for (device, root, _) in &mut devices {
        follow_root(device, root, entry.id, |root, told| {
            told && shared_entry(root, entry.id).is_none()
        })
        .await;
    }
    assert_eq!(
        json_of(api_get(&server, "/api/shared", peer.token()).await).await,
        json!([])
    );
    let members = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/members", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert_eq!(members[0]["userId"], reader.id());
    let response = api_get(
        &server,
        &format!("/api/documents/{}/members", entry.id),
        peer.token(),
    )
    .await;
    assert_eq!(response.status(), 404, "no longer a member");
    // Removing again finds nobody.
    let again = delete(
        &server,
        &format!("/api/documents/{}/members/{}", entry.id, peer.id()),
        owner.token(),
    )
    .await;
    assert_eq!(again.status(), 404);

    // The reader leaves by removing themselves.
    let mut reader_device = Peer::join(&server, reader.token(), "jo-phone").await;
    let mut reader_root = synced_root(&mut reader_device, &reader).await;
    let mut reader_copy = Replica::empty(entry.id);
    reader_copy
        .sync_until(&mut reader_device, |doc| {
            text_of(doc, keys::TITLE).is_some()
        })
        .await;
    let left = delete(
        &server,
        &format!("/api/documents/{}/members/{}", entry.id, reader.id()),
        reader.token(),
    )
    .await;
    assert_eq!(left.status(), 204);
    follow_root(
        &mut reader_device,
        &mut reader_root,
        entry.id,
        |root, told| told && shared_entry(root, entry.id).is_none(),
    )
    .await;
    let members = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/members", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    assert_eq!(members, json!([]));
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_shared_document_closes_it_for_members_and_ends_its_invitations() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let latecomer = User::new(&server, "kim@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    share(&server, &owner, entry.id, "writer", &peer, "Alex").await;
    let open = invite(&server, &owner, entry.id, "reader").await;

    let mut device = Peer::join(&server, peer.token(), "alex-phone").await;
    let mut root = synced_root(&mut device, &peer).await;
    let mut copy = Replica::empty(entry.id);
    copy.sync_until(&mut device, |doc| text_of(doc, keys::TITLE).is_some())
        .await;

    let deleted = delete(
        &server,
        &format!("/api/documents/{}", entry.id),
        owner.token(),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    follow_root(&mut device, &mut root, entry.id, |root, told| {
        told && shared_entry(root, entry.id).is_none()
    })
    .await;
    assert_eq!(
        json_of(api_get(&server, "/api/shared", peer.token()).await).await,
        json!([])
    );
    let response = accept(
        &server,
        latecomer.token(),
        open["token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "invitation_invalid");
    // The member's copy cannot bring it back.
    let mut stale = Replica::new(entry.id, copy.doc.clone());
    edit_title(&mut stale, "Still here? ");
    let mut laptop = Peer::join(&server, peer.token(), "alex-laptop").await;
    assert_eq!(
        stale.sync_until(&mut laptop, |_| false).await,
        Outcome::Unavailable
    );
    server.stop().await;
}

#[tokio::test]
async fn memberships_survive_a_restart() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    share(&server, &owner, entry.id, "reader", &peer, "Alex").await;
    let dir = server.stop().await.unwrap();

    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let mut device = Peer::join(&server, peer.token(), "alex-phone").await;
    let mut copy = Replica::empty(entry.id);
    assert_eq!(
        copy.sync_until(&mut device, |doc| text_of(doc, keys::TITLE).is_some())
            .await,
        Outcome::Synced
    );
    let shared = json_of(api_get(&server, "/api/shared", peer.token()).await).await;
    assert_eq!(shared[0]["role"], "reader");
    server.stop().await;
}

#[tokio::test]
async fn a_second_invitation_changes_the_role_and_the_list_heals_itself() {
    let server = TestServer::start().await;
    let owner = User::new(&server, "sam@example.org").await;
    let peer = User::new(&server, "alex@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    let other = new_entry(&server, &owner, "sam-phone", "Other").await;
    share(&server, &owner, entry.id, "reader", &peer, "Alex").await;

    // The peer's root list loses the entry behind the server's back (as a
    // crash between storing a membership and writing the list would).
    let mut device = Peer::join(&server, peer.token(), "alex-phone").await;
    let mut root = synced_root(&mut device, &peer).await;
    assert_eq!(
        shared_entry(&root.doc, entry.id).map(|(role, _)| role),
        Some("reader".to_owned())
    );
    {
        let mut tx = root.doc.transaction();
        let (_, shared) = tx.get(ROOT, keys::SHARED).unwrap().unwrap();
        tx.delete(&shared, entry.id.to_string().as_str()).unwrap();
        tx.commit();
    }
    assert_eq!(
        root.sync_until(&mut device, |_| true).await,
        Outcome::Synced
    );
    assert_eq!(shared_entry(&root.doc, entry.id), None);

    // The next share of another document brings the lost entry back.
    share(&server, &owner, other.id, "reader", &peer, "Alex").await;
    follow_root(&mut device, &mut root, entry.id, |root, _| {
        shared_entry(root, entry.id).is_some() && shared_entry(root, other.id).is_some()
    })
    .await;
    // A new invitation as writer changes the role.
    share(&server, &owner, entry.id, "writer", &peer, "Alex").await;
    follow_root(&mut device, &mut root, entry.id, |root, _| {
        shared_entry(root, entry.id).is_some_and(|(role, _)| role == "writer")
    })
    .await;
    let shared = json_of(api_get(&server, "/api/shared", peer.token()).await).await;
    assert_eq!(shared.as_array().unwrap().len(), 2);
    let members = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/members", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    assert_eq!(
        members.as_array().unwrap().len(),
        1,
        "one membership, replaced"
    );
    assert_eq!(members[0]["role"], "writer");
    // Now a writer, the peer's change is kept.
    let mut copy = Replica::empty(entry.id);
    copy.sync_until(&mut device, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    edit_title(&mut copy, "Ours: ");
    assert_eq!(
        copy.sync_until(&mut device, |_| true).await,
        Outcome::Synced
    );
    server.stop().await;
}

#[tokio::test]
async fn guessing_invitation_tokens_is_slowed_down_as_guessing_passwords_is() {
    let server = TestServer::start_with(|c| c.login_attempts_per_minute = 3).await;
    let owner = User::new(&server, "sam@example.org").await;
    let guesser = User::new(&server, "guess@example.org").await;
    let entry = new_entry(&server, &owner, "sam-phone", "Entry").await;
    let invitation = invite(&server, &owner, entry.id, "writer").await;
    for _ in 0..3 {
        let response = accept(&server, guesser.token(), "a-guessed-token", None).await;
        assert_eq!(response.status(), 400);
    }
    // Even the right token waits now: a guess that hit would not be told apart.
    let response = accept(
        &server,
        guesser.token(),
        invitation["token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(error_code(response).await, "too_many_requests");
    // It was not used up: the owner sees it open.
    let listed = json_of(
        api_get(
            &server,
            &format!("/api/documents/{}/invitations", entry.id),
            owner.token(),
        )
        .await,
    )
    .await;
    assert_eq!(listed[0]["state"], "open");
    server.stop().await;
}
