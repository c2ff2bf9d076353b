//! The voice-note API on the real server: declare, resumable upload, hash
//! check, limits and quota, isolation between users, deletion, and the
//! transcript arriving in the note through sync, also after a restart.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};
use fieldbook_server::store::{SledStore, Store};
use fieldbook_shared::DocumentId;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::fixtures::{chromium_recording, model_path, SPEECH};
use fieldbook_shared::entry::{Note, NoteKind};
use fieldbook_testkit::entry as testkit_entry;

use crate::support::*;

/// Transcription on a shared 2-core machine can take a while.
const TRANSCRIBE_WAIT: Duration = Duration::from_secs(120);

fn sha256(bytes: &[u8]) -> String {
    hex_lower(&Sha256::digest(bytes))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An entry with one voice note, written as the PWA writes it (strings as text).
fn entry_with_voice_note(note_id: &str, audio_id: &str) -> Automerge {
    let mut entry = testkit_entry::entry("");
    entry.notes.push(Note {
        created_at: 1,
        kind: NoteKind::Voice,
        audio: Some(audio_id.to_owned()),
        ..testkit_entry::note(note_id, "Test phone", "")
    });
    testkit_entry::document(&entry, None)
}

fn note_field(doc: &Automerge, field: &str) -> Option<String> {
    let (_, notes) = doc.get(ROOT, keys::NOTES).ok()??;
    let (_, note) = doc.get(&notes, 0).ok()??;
    let (_, value) = doc.get(&note, field).ok()??;
    doc.text(&value).ok()
}

/// A user's entry with a voice note, on the server.
struct Setup {
    session: Session,
    peer: Peer,
    entry: Replica,
}

async fn setup(server: &TestServer, email: &str, audio_id: &str) -> Setup {
    let (_, session) = account_and_session(server, email).await;
    let mut peer = Peer::join(server, &session.token, email).await;
    let mut entry = Replica::new(new_doc_id(), entry_with_voice_note("note-1", audio_id));
    assert_eq!(entry.sync_until(&mut peer, |_| true).await, Outcome::Synced);
    Setup {
        session,
        peer,
        entry,
    }
}

async fn declare(server: &TestServer, token: &str, body: Value) -> reqwest::Response {
    client()
        .post(server.url("/api/audio"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn declaration(audio_id: &str, doc: DocumentId, bytes: &[u8]) -> Value {
    json!({
        "audioId": audio_id,
        "documentId": doc.to_string(),
        "noteId": "note-1",
        "mimeType": "audio/webm;codecs=opus",
        "size": bytes.len(),
        "sha256": sha256(bytes),
    })
}

async fn put_piece(
    server: &TestServer,
    token: &str,
    audio_id: &str,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    client()
        .put(server.url(&format!("/api/audio/{audio_id}?offset={offset}")))
        .bearer_auth(token)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Uploads `bytes` in pieces of `piece` bytes; returns the last status.
async fn upload(
    server: &TestServer,
    token: &str,
    audio_id: &str,
    bytes: &[u8],
    piece: usize,
) -> Value {
    let mut last = Value::Null;
    for (i, chunk) in bytes.chunks(piece).enumerate() {
        let response = put_piece(server, token, audio_id, i * piece, chunk).await;
        assert_eq!(response.status(), 200);
        last = json_of(response).await;
    }
    last
}

/// Polls the status until it is `state` (or fails on `failed`).
async fn wait_for_state(server: &TestServer, token: &str, audio_id: &str, state: &str) -> Value {
    let deadline = tokio::time::Instant::now() + TRANSCRIBE_WAIT;
    loop {
        let status = json_of(api_get(server, &format!("/api/audio/{audio_id}"), token).await).await;
        if status["state"] == state {
            return status;
        }
        assert_ne!(status["state"], "failed", "{status}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {status} instead of {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn with_test_model(config: &mut fieldbook_server::Config) {
    config.speech_model = Some(model_path());
    config.speech_threads = 1;
}

#[tokio::test]
async fn an_upload_is_idempotent_resumable_private_and_deletable() {
    let server = TestServer::start().await; // no speech model
    let audio_id = "rec_0123456789abcdef";
    let mut owner = setup(&server, "voice@example.org", audio_id).await;
    let token = owner.session.token.clone();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    let body = declaration(audio_id, owner.entry.id, &bytes);

    let created = declare(&server, &token, body.clone()).await;
    assert_eq!(created.status(), 201);
    let created = json_of(created).await;
    assert_eq!(created["state"], "uploading");
    assert_eq!(created["received"], 0);
    assert_eq!(created["size"], bytes.len());
    // The same declaration again (a retry) is fine; a different file under
    // the same ID is not.
    assert_eq!(declare(&server, &token, body.clone()).await.status(), 200);
    let mut other_file = body.clone();
    other_file["sha256"] = json!(sha256(b"something else"));
    let conflict = declare(&server, &token, other_file).await;
    assert_eq!(conflict.status(), 409);
    assert_eq!(json_of(conflict).await["error"]["code"], "audio_conflict");

    // Half, then the same half again (its answer was lost): told where to resume.
    let half = bytes.len() / 2;
    let first = json_of(put_piece(&server, &token, audio_id, 0, &bytes[..half]).await).await;
    assert_eq!(first["received"], half);
    let repeat = put_piece(&server, &token, audio_id, 0, &bytes[..half]).await;
    assert_eq!(repeat.status(), 409);
    let repeat = json_of(repeat).await;
    assert_eq!(repeat["error"]["code"], "wrong_offset");
    assert_eq!(repeat["received"], half);
    let done = json_of(put_piece(&server, &token, audio_id, half, &bytes[half..]).await).await;
    assert_eq!(done["received"], bytes.len());
    assert_eq!(done["state"], "no-model", "no model configured: audio kept");

    let file = api_get(&server, &format!("/api/audio/{audio_id}/file"), &token).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "audio/webm;codecs=opus");
    assert_eq!(file.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let retried = client()
        .post(server.url(&format!("/api/audio/{audio_id}/retry")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 200);
    assert_eq!(json_of(retried).await["state"], "no-model");

    // Another user: the recording does not exist for them, whatever they try.
    let (_, stranger) = account_and_session(&server, "stranger@example.org").await;
    for path in [
        format!("/api/audio/{audio_id}"),
        format!("/api/audio/{audio_id}/file"),
    ] {
        assert_eq!(
            api_get(&server, &path, &stranger.token).await.status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        put_piece(&server, &stranger.token, audio_id, 0, b"x")
            .await
            .status(),
        404
    );
    let stranger_delete = client()
        .delete(server.url(&format!("/api/audio/{audio_id}")))
        .bearer_auth(&stranger.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger_delete.status(), 404);
    let into_owners_entry = declare(&server, &stranger.token, body.clone()).await;
    assert_eq!(into_owners_entry.status(), 404, "not their document");
    assert_eq!(
        api_get(&server, &format!("/api/audio/{audio_id}"), &token)
            .await
            .status(),
        200,
        "the owner's recording is untouched"
    );

    let deleted = client()
        .delete(server.url(&format!("/api/audio/{audio_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = api_get(&server, &format!("/api/audio/{audio_id}/file"), &token).await;
    assert_eq!(gone.status(), 404);
    // The note stays.
    owner.entry.sync_until(&mut owner.peer, |_| true).await;
    assert_eq!(
        note_field(&owner.entry.doc, keys::AUDIO).as_deref(),
        Some(audio_id)
    );
    server.stop().await;
}

#[tokio::test]
async fn deleting_an_entry_deletes_its_recordings() {
    let server = TestServer::start().await;
    let audio_id = "rec_deleted_with_entry";
    let owner = setup(&server, "voice-entry-delete@example.org", audio_id).await;
    let token = owner.session.token.clone();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    let body = declaration(audio_id, owner.entry.id, &bytes);
    assert_eq!(declare(&server, &token, body).await.status(), 201);
    upload(&server, &token, audio_id, &bytes, bytes.len()).await;

    let path = format!("/api/documents/{}", owner.entry.id);
    assert_eq!(api_delete(&server, &path, &token).await.status(), 204);
    let status = api_get(&server, &format!("/api/audio/{audio_id}"), &token).await;
    assert_eq!(status.status(), 404, "the recording went with its entry");
    drop(owner);
    let dir = server.stop().await.unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let left: Vec<_> = store
        .scan_prefix(b"")
        .unwrap()
        .into_iter()
        .filter(|(key, _)| String::from_utf8_lossy(key).contains(audio_id))
        .collect();
    assert!(left.is_empty(), "no record or bytes of it are left on disk");
}

#[tokio::test]
async fn a_damaged_upload_is_discarded_and_started_again() {
    let server = TestServer::start().await;
    let audio_id = "rec_damaged_0000001";
    let owner = setup(&server, "damaged@example.org", audio_id).await;
    let token = owner.session.token.clone();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    assert_eq!(
        declare(
            &server,
            &token,
            declaration(audio_id, owner.entry.id, &bytes)
        )
        .await
        .status(),
        201
    );
    let mut damaged = bytes.clone();
    damaged[1000] ^= 0xff;
    put_piece(&server, &token, audio_id, 0, &damaged[..20_000]).await;
    let last = put_piece(&server, &token, audio_id, 20_000, &damaged[20_000..]).await;
    assert_eq!(last.status(), 422);
    assert_eq!(json_of(last).await["error"]["code"], "hash_mismatch");
    let status = json_of(api_get(&server, &format!("/api/audio/{audio_id}"), &token).await).await;
    assert_eq!(status["received"], 0);
    assert_eq!(status["state"], "uploading");
    // Sent again, correctly, it is accepted.
    let done = upload(&server, &token, audio_id, &bytes, 1 << 20).await;
    assert_eq!(done["state"], "no-model");
    server.stop().await;
}

#[tokio::test]
async fn size_limit_quota_types_and_documents_are_checked() {
    let server = TestServer::start_with(|c| {
        c.audio_max_bytes = 1_000;
        c.audio_quota_bytes = 2_500;
    })
    .await;
    let owner = setup(&server, "limits@example.org", "rec_limits_000001").await;
    let token = owner.session.token.clone();
    let doc = owner.entry.id;
    let file = |size: usize| vec![7u8; size];

    let big = declare(
        &server,
        &token,
        declaration("rec_limits_toobig1", doc, &file(1_001)),
    )
    .await;
    assert_eq!(big.status(), 413);
    let big = json_of(big).await;
    assert_eq!(big["error"]["code"], "audio_too_large");
    assert!(
        big["error"]["message"].as_str().unwrap().contains("1 KB"),
        "{big}"
    );

    for id in ["rec_limits_000001", "rec_limits_000002"] {
        assert_eq!(
            declare(&server, &token, declaration(id, doc, &file(1_000)))
                .await
                .status(),
            201
        );
    }
    let over = declare(
        &server,
        &token,
        declaration("rec_limits_000003", doc, &file(1_000)),
    )
    .await;
    assert_eq!(over.status(), 413);
    let over = json_of(over).await;
    assert_eq!(over["error"]["code"], "audio_quota");
    assert!(
        over["error"]["message"].as_str().unwrap().contains("2 KB"),
        "{over}"
    );
    // Deleting a recording frees its share.
    client()
        .delete(server.url("/api/audio/rec_limits_000002"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        declare(
            &server,
            &token,
            declaration("rec_limits_000003", doc, &file(1_000))
        )
        .await
        .status(),
        201
    );

    let mut wav = declaration("rec_limits_wavfile", doc, &file(10));
    wav["mimeType"] = json!("audio/wav");
    assert_eq!(declare(&server, &token, wav).await.status(), 415);
    let mut bad_id = declaration("short", doc, &file(10));
    bad_id["audioId"] = json!("../../etc");
    assert_eq!(declare(&server, &token, bad_id).await.status(), 400);
    let unknown_doc = declaration("rec_limits_nodocum", new_doc_id(), &file(10));
    assert_eq!(declare(&server, &token, unknown_doc).await.status(), 404);

    // A piece larger than 1 MiB is refused before it is stored.
    let large = declare(
        &server,
        &token,
        declaration("rec_limits_000001", doc, &file(1_000)),
    )
    .await;
    assert_eq!(large.status(), 200);
    let piece = put_piece(
        &server,
        &token,
        "rec_limits_000001",
        0,
        &vec![0u8; (1 << 20) + 1],
    )
    .await;
    assert_eq!(piece.status(), 413);
    // More than was declared is refused too.
    let overflow = put_piece(&server, &token, "rec_limits_000001", 0, &file(1_001)).await;
    assert_eq!(overflow.status(), 400);
    server.stop().await;
}

/// The whole path: upload the real Chromium recording, the server
/// transcribes it with the real model and writes the transcript into the
/// note; the device receives it by sync, merged with what it typed meanwhile.
#[tokio::test]
async fn the_transcript_arrives_in_the_note_merged_with_typing() {
    let _turn = SPEECH.lock().await;
    let server = TestServer::start_with(with_test_model).await;
    let audio_id = "rec_transcribe_0001";
    let mut owner = setup(&server, "transcript@example.org", audio_id).await;
    let token = owner.session.token.clone();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    declare(
        &server,
        &token,
        declaration(audio_id, owner.entry.id, &bytes),
    )
    .await;
    let uploaded = upload(&server, &token, audio_id, &bytes, 10_000).await;
    assert!(
        ["queued", "transcribing", "done"].contains(&uploaded["state"].as_str().unwrap()),
        "{uploaded}"
    );
    // Meanwhile the user types into the note, on the device, offline.
    {
        let mut tx = owner.entry.doc.transaction();
        let (_, notes) = tx.get(ROOT, keys::NOTES).unwrap().unwrap();
        let (_, note) = tx.get(&notes, 0).unwrap().unwrap();
        let (_, text) = tx.get(&note, keys::TEXT).unwrap().unwrap();
        tx.splice_text(&text, 0, 0, "Typed in the car").unwrap();
        tx.commit();
    }
    wait_for_state(&server, &token, audio_id, "done").await;
    // The phone comes back (its socket, unattended while the test polled,
    // has been closed by the keep-alive) and syncs.
    drop(owner.peer);
    let mut phone = Peer::join(&server, &token, "phone-again").await;
    owner.entry.state = automerge::sync::State::new();
    owner
        .entry
        .sync_until(&mut phone, |doc| {
            note_field(doc, keys::TRANSCRIPT).is_some()
        })
        .await;
    let transcript = note_field(&owner.entry.doc, keys::TRANSCRIPT)
        .unwrap()
        .to_lowercase();
    assert!(transcript.contains("dashwood"), "{transcript}");
    assert_eq!(
        note_field(&owner.entry.doc, keys::TEXT).as_deref(),
        Some("Typed in the car"),
        "the user's typing survives"
    );
    server.stop().await;
}

/// A job queued when the server stopped is done after the next start.
#[tokio::test]
async fn a_queued_job_resumes_after_a_restart() {
    let _turn = SPEECH.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let audio_id = "rec_restart_000001";
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let owner = setup(&server, "restart@example.org", audio_id).await;
    let token = owner.session.token.clone();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    declare(
        &server,
        &token,
        declaration(audio_id, owner.entry.id, &bytes),
    )
    .await;
    assert_eq!(
        upload(&server, &token, audio_id, &bytes, 1 << 20).await["state"],
        "no-model"
    );
    drop(owner.peer);
    server.stop().await;

    // As if the server had stopped with the job waiting in the queue.
    {
        use fieldbook_server::store::{SledStore, Store};
        let store = SledStore::open(dir.path()).unwrap();
        let records = store.scan_prefix(b"audio/").unwrap();
        assert_eq!(records.len(), 1);
        let (key, value) = &records[0];
        let mut record: Value = serde_json::from_slice(value).unwrap();
        assert_eq!(record["state"], "no-model");
        record["state"] = json!("queued");
        store
            .put(key, &serde_json::to_vec(&record).unwrap())
            .unwrap();
        store.flush().await.unwrap();
    }

    let server = TestServer::start_in(dir.path(), with_test_model).await;
    let session = login(&server, "restart@example.org").await;
    wait_for_state(&server, &session.token, audio_id, "done").await;
    let mut peer = Peer::join(&server, &session.token, "laptop").await;
    let mut entry = Replica::empty(owner.entry.id);
    entry
        .sync_until(&mut peer, |doc| note_field(doc, keys::TRANSCRIPT).is_some())
        .await;
    assert!(note_field(&entry.doc, keys::TRANSCRIPT)
        .unwrap()
        .to_lowercase()
        .contains("dashwood"));
    server.stop().await;
}

/// Deleting an account purges its recordings; exporting it lists them.
#[tokio::test]
async fn user_export_lists_recordings_and_user_deletion_purges_them() {
    use fieldbook_server::admin::{users, Context};
    use fieldbook_server::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let audio_id = "rec_userdelete_001";
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let owner = setup(&server, "leaving@example.org", audio_id).await;
    let bytes = std::fs::read(chromium_recording()).unwrap();
    let token = owner.session.token.clone();
    declare(
        &server,
        &token,
        declaration(audio_id, owner.entry.id, &bytes),
    )
    .await;
    upload(&server, &token, audio_id, &bytes, 1 << 20).await;
    drop(owner.peer);
    server.stop().await;

    let ctx = Context::open(dir.path()).unwrap();
    let export = users::export(&ctx, "leaving@example.org").unwrap();
    assert_eq!(export.audio.len(), 1);
    assert_eq!(export.audio[0].audio_id, audio_id);
    assert_eq!(export.audio[0].size, bytes.len() as u64);
    let deleted = users::delete(&ctx, "leaving@example.org").await.unwrap();
    assert_eq!(deleted.recordings, 1);
    for prefix in ["audio/", "audio-data/"] {
        assert!(
            ctx.store.scan_prefix(prefix.as_bytes()).unwrap().is_empty(),
            "{prefix} left behind"
        );
    }
}

/// A cut-off model file does not stop the server: it is refused at the
/// start, recordings are kept (`no-model`), and the first start with a
/// good model transcribes them.
#[tokio::test]
async fn a_truncated_model_is_refused_and_recordings_wait_for_a_good_one() {
    let _turn = SPEECH.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let model = std::fs::read(model_path()).unwrap();
    let truncated = dir.path().join("ggml-cut.bin");
    std::fs::write(&truncated, &model[..model.len() / 3]).unwrap();
    let data = dir.path().join("data");
    let audio_id = "rec_badmodel_00001";

    let server = TestServer::start_in(&data, |config| {
        config.speech_model = Some(truncated.clone());
    })
    .await;
    let ready = client().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "the server serves without a model");
    let owner = setup(&server, "badmodel@example.org", audio_id).await;
    let token = owner.session.token.clone();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    declare(
        &server,
        &token,
        declaration(audio_id, owner.entry.id, &bytes),
    )
    .await;
    assert_eq!(
        upload(&server, &token, audio_id, &bytes, 1 << 20).await["state"],
        "no-model"
    );
    drop(owner.peer);
    server.stop().await;

    let server = TestServer::start_in(&data, with_test_model).await;
    let session = login(&server, "badmodel@example.org").await;
    wait_for_state(&server, &session.token, audio_id, "done").await;
    server.stop().await;
}
