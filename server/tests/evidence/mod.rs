//! Evidence files on the real server, through the HTTP API: declare,
//! resumable upload, download served only as an attachment, hostile input
//! (wrong type, too large, over quota, wrong offset, damaged bytes),
//! deletion with the entry, and `fieldbook user export` / `user delete`.

use fieldbook_server::store::{SledStore, Store};
use fieldbook_shared::DocumentId;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::*;

const PDF: &str = "application/pdf";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A signed-in user with one entry on the server.
async fn owner_with_entry(server: &TestServer, email: &str) -> (Account, Session, DocumentId) {
    let (account, session) = account_and_session(server, email).await;
    let mut peer = Peer::join(server, &session.token, email).await;
    let entry = new_doc_id();
    let mut replica = Replica::new(entry, with_text(keys::TITLE, "Safeguarding course"));
    assert_eq!(
        replica.sync_until(&mut peer, |_| true).await,
        Outcome::Synced
    );
    (account, session, entry)
}

fn declaration(id: &str, doc: DocumentId, name: &str, mime: &str, bytes: &[u8]) -> Value {
    json!({
        "evidenceId": id,
        "documentId": doc.to_string(),
        "name": name,
        "mimeType": mime,
        "size": bytes.len(),
        "sha256": sha256(bytes),
    })
}

async fn declare(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(server.url("/api/evidence"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn put_piece(
    server: &TestServer,
    token: &str,
    id: &str,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    client()
        .put(server.url(&format!("/api/evidence/{id}?offset={offset}")))
        .bearer_auth(token)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

async fn status_of(server: &TestServer, token: &str, id: &str) -> reqwest::Response {
    api_get(server, &format!("/api/evidence/{id}"), token).await
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, error_code(response).await)
}

/// A file of `size` bytes that is not all the same byte.
fn file(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn a_file_uploads_in_pieces_resumes_and_comes_back_as_a_download() {
    let server = TestServer::start().await;
    let (_, session, entry) = owner_with_entry(&server, "evidence@example.org").await;
    let token = &session.token;
    let bytes = file(2_500_000);
    let id = "ev_certificate_0001";
    let body = declaration(
        id,
        entry,
        "Certificate – Été 2026.pdf",
        "application/PDF",
        &bytes,
    );

    let declared = declare(&server, token, &body).await;
    assert_eq!(declared.status(), 201);
    let declared = json_of(declared).await;
    assert_eq!(declared["state"], "uploading");
    assert_eq!(declared["received"], 0);
    assert_eq!(declared["mimeType"], PDF, "stored under its canonical type");

    let first = put_piece(&server, token, id, 0, &bytes[..1 << 20]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(json_of(first).await["received"], 1 << 20);
    // Declaring again (a retry after a lost answer) is idempotent and says
    // where to resume.
    let again = declare(&server, token, &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(json_of(again).await["received"], 1 << 20);
    // A piece from the wrong place is refused with where to continue.
    let wrong = put_piece(&server, token, id, 0, &bytes[..10]).await;
    assert_eq!(wrong.status(), 409);
    let wrong = json_of(wrong).await;
    assert_eq!(wrong["error"]["code"], "wrong_offset");
    assert_eq!(wrong["received"], 1 << 20);

    let second = put_piece(&server, token, id, 1 << 20, &bytes[1 << 20..2 << 20]).await;
    assert_eq!(json_of(second).await["state"], "uploading");
    let last = put_piece(&server, token, id, 2 << 20, &bytes[2 << 20..]).await;
    assert_eq!(last.status(), 200);
    let last = json_of(last).await;
    assert_eq!(last["state"], "stored");
    assert_eq!(last["received"], bytes.len());
    // A repeat of the last piece changes nothing.
    let repeat = put_piece(&server, token, id, bytes.len(), &[]).await;
    assert_eq!(json_of(repeat).await["state"], "stored");

    let shown = json_of(status_of(&server, token, id).await).await;
    assert_eq!(shown["name"], "Certificate – Été 2026.pdf");
    assert_eq!(shown["documentId"], entry.to_string());
    assert_eq!(shown["size"], bytes.len());

    let download = api_get(&server, &format!("/api/evidence/{id}/file"), token).await;
    assert_eq!(download.status(), 200);
    let headers = download.headers().clone();
    assert_eq!(headers["content-type"], PDF);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; "), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Certificate%20%E2%80%93%20%C3%89t%C3%A9%202026.pdf"),
        "{disposition}"
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let deleted = api_delete(&server, &format!("/api/evidence/{id}"), token).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(status_of(&server, token, id).await.status(), 404);
    let gone = api_get(&server, &format!("/api/evidence/{id}/file"), token).await;
    assert_eq!(gone.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn hostile_uploads_are_refused_plainly_and_lose_nothing() {
    let server = TestServer::start_with(|c| {
        c.evidence_max_bytes = 1_000;
        c.evidence_quota_bytes = 2_500;
    })
    .await;
    let (_, session, entry) = owner_with_entry(&server, "hostile@example.org").await;
    let token = &session.token;

    // Types that could run as a page, or that we do not take.
    for mime in ["text/html", "image/svg+xml", "application/x-msdownload", ""] {
        let body = declaration("ev_hostile_type_01", entry, "page.html", mime, &file(10));
        let (status, code) = code_of(declare(&server, token, &body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (415, "unsupported_evidence_type"),
            "{mime}"
        );
    }
    let refused = declare(
        &server,
        token,
        &declaration(
            "ev_hostile_type_01",
            entry,
            "x.svg",
            "image/svg+xml",
            &file(10),
        ),
    )
    .await;
    let message = json_of(refused).await["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("PDF") && message.contains("PowerPoint"),
        "{message}"
    );

    // Too large, with both sizes in the message.
    let big = declare(
        &server,
        token,
        &declaration("ev_hostile_big_001", entry, "big.pdf", PDF, &file(1_001)),
    )
    .await;
    assert_eq!(big.status(), 413);
    let big = json_of(big).await;
    assert_eq!(big["error"]["code"], "evidence_too_large");
    let message = big["error"]["message"].as_str().unwrap();
    assert!(message.contains("1 KB"), "{message}");

    // Over the quota; deleting a file frees its share.
    for id in ["ev_hostile_quota_1", "ev_hostile_quota_2"] {
        let body = declaration(
            id,
            entry,
            "slides.pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            &file(1_000),
        );
        assert_eq!(declare(&server, token, &body).await.status(), 201);
    }
    let third = declaration(
        "ev_hostile_quota_3",
        entry,
        "photo.heic",
        "image/heic",
        &file(1_000),
    );
    let (status, code) = code_of(declare(&server, token, &third).await).await;
    assert_eq!((status, code.as_str()), (413, "evidence_quota"));
    let deleted = api_delete(&server, "/api/evidence/ev_hostile_quota_2", token).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(declare(&server, token, &third).await.status(), 201);

    // Another file under an ID already used.
    let other = declaration(
        "ev_hostile_quota_3",
        entry,
        "photo.heic",
        "image/heic",
        &file(999),
    );
    let (status, code) = code_of(declare(&server, token, &other).await).await;
    assert_eq!((status, code.as_str()), (409, "evidence_conflict"));

    // Names and IDs that cannot be kept, and someone else's (or no) entry.
    for name in ["", "   ", "../../etc/passwd", "a\u{0}b.pdf"] {
        let body = declaration("ev_hostile_name_01", entry, name, PDF, &file(10));
        let (status, code) = code_of(declare(&server, token, &body).await).await;
        assert_eq!((status, code.as_str()), (400, "invalid_name"), "{name:?}");
    }
    let body = declaration("../../etc/passwd!", entry, "a.pdf", PDF, &file(10));
    assert_eq!(declare(&server, token, &body).await.status(), 400);
    let body = declaration("ev_hostile_nodoc_1", new_doc_id(), "a.pdf", PDF, &file(10));
    assert_eq!(declare(&server, token, &body).await.status(), 404);
    let mut empty = declaration("ev_hostile_empty_1", entry, "a.pdf", PDF, &[]);
    empty["size"] = json!(0);
    let (status, code) = code_of(declare(&server, token, &empty).await).await;
    assert_eq!((status, code.as_str()), (400, "empty_file"));

    // Damaged bytes: refused, discarded, and the upload starts again at 0.
    let bytes = file(1_000);
    let id = "ev_hostile_quota_3";
    assert_eq!(
        put_piece(&server, token, id, 0, &bytes[..600])
            .await
            .status(),
        200
    );
    let mut damaged = bytes[600..].to_vec();
    damaged[0] ^= 0xff;
    let (status, code) = code_of(put_piece(&server, token, id, 600, &damaged).await).await;
    assert_eq!((status, code.as_str()), (422, "hash_mismatch"));
    assert_eq!(
        json_of(status_of(&server, token, id).await).await["received"],
        0
    );
    let (status, code) = code_of(put_piece(&server, token, id, 600, &bytes[600..]).await).await;
    assert_eq!((status, code.as_str()), (409, "wrong_offset"));
    // Past the declared size.
    let (status, code) = code_of(put_piece(&server, token, id, 0, &file(1_001)).await).await;
    assert_eq!((status, code.as_str()), (400, "too_much_data"));
    // More than 1 MiB in one piece, and no offset.
    let huge = put_piece(&server, token, id, 0, &vec![0u8; (1 << 20) + 1]).await;
    assert_eq!(huge.status(), 413);
    let no_offset = client()
        .put(server.url(&format!("/api/evidence/{id}")))
        .bearer_auth(token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(no_offset).await, (400, "invalid_offset".to_owned()));
    // After all that the right bytes still go in.
    let done = put_piece(&server, token, id, 0, &bytes).await;
    assert_eq!(json_of(done).await["state"], "stored");
    let download = api_get(&server, &format!("/api/evidence/{id}/file"), token).await;
    assert_eq!(download.headers()["content-type"], "image/heic");
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    server.stop().await;
}

#[tokio::test]
async fn deleting_an_entry_deletes_its_evidence_and_no_other() {
    let server = TestServer::start().await;
    let (_, session, entry) = owner_with_entry(&server, "entry-delete@example.org").await;
    let token = &session.token;
    let mut peer = Peer::join(&server, token, "second-entry").await;
    let other = new_doc_id();
    let mut replica = Replica::new(other, with_text(keys::TITLE, "Another"));
    assert_eq!(
        replica.sync_until(&mut peer, |_| true).await,
        Outcome::Synced
    );
    let bytes = file(300);
    for (id, doc) in [
        ("ev_entry_delete_01", entry),
        ("ev_entry_delete_02", entry),
        ("ev_entry_keep_0001", other),
    ] {
        let body = declaration(id, doc, "handout.jpg", "image/jpeg", &bytes);
        assert_eq!(declare(&server, token, &body).await.status(), 201);
        assert_eq!(put_piece(&server, token, id, 0, &bytes).await.status(), 200);
    }
    let deleted = api_delete(&server, &format!("/api/documents/{entry}"), token).await;
    assert_eq!(deleted.status(), 204);
    for id in ["ev_entry_delete_01", "ev_entry_delete_02"] {
        assert_eq!(status_of(&server, token, id).await.status(), 404, "{id}");
    }
    let kept = json_of(status_of(&server, token, "ev_entry_keep_0001").await).await;
    assert_eq!(kept["state"], "stored");
    let dir = server.stop().await.unwrap();
    // Nothing of the deleted entry's files is left on disk.
    let store = SledStore::open(dir.path()).unwrap();
    let data = store.scan_prefix(b"evidence-data/").unwrap();
    assert_eq!(data.len(), 1, "only the kept file's one chunk");
    assert!(String::from_utf8_lossy(&data[0].0).contains("ev_entry_keep_0001"));
}

#[tokio::test]
async fn user_export_lists_evidence_and_user_delete_purges_it() {
    let server = TestServer::start().await;
    let (account, session, entry) = owner_with_entry(&server, "rights@example.org").await;
    let token = &session.token;
    let bytes = file(5_000);
    let id = "ev_rights_certific";
    let body = declaration(id, entry, "Course certificate.pdf", PDF, &bytes);
    assert_eq!(declare(&server, token, &body).await.status(), 201);
    assert_eq!(put_piece(&server, token, id, 0, &bytes).await.status(), 200);
    let dir = server.data_dir.clone();

    let out = tempfile::tempdir().unwrap();
    let export = out.path().join("rights");
    let printed = crate::admin::fieldbook_ok(
        &[
            "user",
            "export",
            &account.email,
            "--out",
            export.to_str().unwrap(),
        ],
        &dir,
    )
    .await;
    assert!(printed.contains("1 evidence files"), "{printed}");
    let listed: Value =
        serde_json::from_slice(&std::fs::read(export.join("evidence.json")).unwrap()).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["evidenceId"], id);
    assert_eq!(listed[0]["name"], "Course certificate.pdf");
    assert_eq!(listed[0]["documentId"], entry.to_string());
    assert_eq!(listed[0]["sha256"], sha256(&bytes));
    let readme = std::fs::read_to_string(export.join("README.txt")).unwrap();
    assert!(readme.contains("evidence.json"));

    let printed =
        crate::admin::fieldbook_ok(&["user", "delete", &account.email, "--yes"], &dir).await;
    assert!(printed.contains("1 evidence files purged"), "{printed}");
    let dir = server.stop().await.unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.scan_prefix(b"evidence/").unwrap().is_empty());
    assert!(store.scan_prefix(b"evidence-data/").unwrap().is_empty());
}
