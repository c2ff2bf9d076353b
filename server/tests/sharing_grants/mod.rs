//! An owner grants an existing member of one of their documents a role on
//! another of their documents (`POST /api/documents/{id}/members`): how a
//! supervisor who reads a registration year's portfolio gets the entries
//! made later in that year, without a new invitation.

use serde_json::{json, Value};

use super::support::*;

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> reqwest::Response {
    client()
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A document `session`'s user owns, stored on the server.
async fn owned_document(
    server: &TestServer,
    token: &str,
    peer_id: &str,
) -> fieldbook_shared::DocumentId {
    let mut peer = Peer::join(server, token, peer_id).await;
    let id = new_doc_id();
    let mut replica = Replica::new(id, with_text(keys::TITLE, "an entry"));
    assert_eq!(
        replica.sync_until(&mut peer, |_| true).await,
        Outcome::Synced
    );
    id
}

#[tokio::test]
async fn sharing_grants_extend_a_members_share_to_another_owned_document() {
    let server = TestServer::start().await;
    let (_owner, owner_session) = account_and_session(&server, "grant-owner@example.org").await;
    let (reader, reader_session) = account_and_session(&server, "grant-reader@example.org").await;
    let (stranger, stranger_session) =
        account_and_session(&server, "grant-stranger@example.org").await;
    let portfolio = owned_document(&server, &owner_session.token, "owner-1").await;
    let later = owned_document(&server, &owner_session.token, "owner-2").await;
    let strangers_own = owned_document(&server, &stranger_session.token, "stranger-1").await;

    let invitation: Value = post(
        &server,
        &format!("/api/documents/{}/invitations", portfolio),
        &owner_session.token,
        json!({ "role": "writer", "displayName": "Team manager" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let accepted = post(
        &server,
        "/api/invitations/accept",
        &reader_session.token,
        json!({ "token": invitation["token"], "displayName": "Sam's supervisor" }),
    )
    .await;
    assert_eq!(accepted.status(), 200);

    let grant =
        |user: &str| json!({ "userId": user, "role": "reader", "via": portfolio.to_string() });
    let path = format!("/api/documents/{}/members", later);

    // Only a member of `via` can be granted, only by the owner of both.
    let response = post(
        &server,
        &path,
        &owner_session.token,
        grant(&stranger.user_id),
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "not_found");
    let response = post(
        &server,
        &path,
        &reader_session.token,
        grant(&reader.user_id),
    )
    .await;
    assert_eq!(response.status(), 404);
    let theirs = format!("/api/documents/{}/members", strangers_own);
    let response = post(
        &server,
        &theirs,
        &owner_session.token,
        grant(&reader.user_id),
    )
    .await;
    assert_eq!(response.status(), 404);
    let owner_role =
        json!({ "userId": reader.user_id, "role": "owner", "via": portfolio.to_string() });
    let response = post(&server, &path, &owner_session.token, owner_role).await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "invalid_role");

    // The grant: the name the member chose is kept, the role is the one given.
    let response = post(&server, &path, &owner_session.token, grant(&reader.user_id)).await;
    assert_eq!(response.status(), 201);
    let member: Value = response.json().await.unwrap();
    assert_eq!(member["userId"], reader.user_id.as_str());
    assert_eq!(member["displayName"], "Sam's supervisor");
    assert_eq!(member["role"], "reader");
    assert!(member["since"].is_string());

    // Granting again changes nothing.
    let response = post(&server, &path, &owner_session.token, grant(&reader.user_id)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["role"], "reader");

    let members: Value = api_get(&server, &path, &owner_session.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members.as_array().unwrap().len(), 1);
    let shared: Value = api_get(&server, "/api/shared", &reader_session.token)
        .await
        .json()
        .await
        .unwrap();
    let later_share = shared
        .as_array()
        .unwrap()
        .iter()
        .find(|share| share["documentId"] == later.to_string().as_str())
        .expect("the granted document is shared with the member");
    assert_eq!(later_share["role"], "reader");
    assert_eq!(later_share["ownerDisplayName"], "Team manager");

    // The member now receives the document and its updates, as a reader.
    let mut reader_peer = Peer::join(&server, &reader_session.token, "reader-1").await;
    let mut copy = Replica::empty(later);
    assert_eq!(
        copy.sync_until(&mut reader_peer, |doc| text_of(doc, keys::TITLE).is_some())
            .await,
        Outcome::Synced
    );
    assert_eq!(text_of(&copy.doc, keys::TITLE).as_deref(), Some("an entry"));
}
