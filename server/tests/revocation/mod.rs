//! Revocation and deletion: a revoked device loses its socket and token; a
//! deleted document is gone for good.

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use fieldbook_shared::wire::Message;

use crate::support::*;

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

    let entry_id = new_doc_id();
    let mut root = Replica::empty(account.root);
    root.sync_until(&mut phone_peer, |d| {
        d.get(ROOT, keys::ENTRIES).unwrap().is_some()
    })
    .await;
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "to be deleted"));
    entry.sync_until(&mut phone_peer, |_| true).await;
    {
        let mut tx = root.doc.transaction();
        let (_, entries) = tx.get(ROOT, keys::ENTRIES).unwrap().unwrap();
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
    while !told_unavailable || listed_entries(&root.doc).contains(&entry_id) {
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
