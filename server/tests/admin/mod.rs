//! Operations against the real server and the real `fieldbook` binary:
//! a backup taken while devices sync flat out, restored into an empty
//! directory, holds every change acknowledged before the backup began; the
//! `user` subcommands list, disable, enable, export and delete accounts,
//! through the running server's admin socket or, with the server stopped,
//! on the data directory directly; the data format version is stamped at
//! first start and a newer one is refused.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash, ReadDoc};
use fieldbook_server::store::{SledStore, Store};
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;
use serde_json::{json, Value};
use tokio::sync::Notify;

use fieldbook_testkit::entry::{edit_entry, has_all};
use fieldbook_testkit::Rng;

use super::support::*;

const DEVICES: usize = 3;
const ENTRIES: usize = 4;

/// Runs `fieldbook ARGS --data-dir DIR` and returns what it printed.
async fn fieldbook(args: &[&str], data_dir: &Path) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("FIELDBOOK_DATA_DIR")
        .env_remove("FIELDBOOK_CONFIG")
        .output()
        .await
        .unwrap()
}

/// Runs a command that must succeed; returns its standard output.
pub(crate) async fn fieldbook_ok(args: &[&str], data_dir: &Path) -> String {
    let output = fieldbook(args, data_dir).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "fieldbook {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs a command that must fail; returns its standard error.
async fn fieldbook_fails(args: &[&str], data_dir: &Path) -> String {
    let output = fieldbook(args, data_dir).await;
    assert!(
        !output.status.success(),
        "fieldbook {args:?} should have failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn login_status(server: &TestServer, email: &str) -> u16 {
    client()
        .post(server.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn register_status(server: &TestServer, email: &str) -> u16 {
    client()
        .post(server.url("/api/auth/register"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn me_status(server: &TestServer, token: &str) -> u16 {
    client()
        .get(server.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn users_json(data_dir: &Path) -> Vec<Value> {
    let out = fieldbook_ok(&["user", "list", "--json"], data_dir).await;
    serde_json::from_str(&out).unwrap()
}

fn user_by_email<'a>(users: &'a [Value], email: &str) -> &'a Value {
    users
        .iter()
        .find(|user| user["email"] == email)
        .unwrap_or_else(|| panic!("{email} not listed in {users:?}"))
}

// ------------------------------------------------------ backup under load

/// What the devices and the test share.
#[derive(Default)]
struct Shared {
    /// Every head the server announced, per document: all acknowledged.
    acked: Mutex<HashMap<DocumentId, HashSet<ChangeHash>>>,
    /// Sync messages heard from the server.
    heard: AtomicU64,
    progress: Notify,
    edits: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn record(&self, doc_id: DocumentId, heads: &[ChangeHash]) {
        self.acked
            .lock()
            .unwrap()
            .entry(doc_id)
            .or_default()
            .extend(heads.iter().copied());
        self.heard.fetch_add(1, SeqCst);
        self.progress.notify_waiters();
    }

    async fn wait_for_heard(&self, target: u64) {
        loop {
            let progressed = self.progress.notified();
            if self.heard.load(SeqCst) >= target {
                return;
            }
            tokio::time::timeout(WAIT, progressed)
                .await
                .expect("devices keep syncing");
        }
    }
}

/// One device: edits a random entry, syncs until the server acknowledges
/// it, and again, until told to stop.
async fn device(
    addr: SocketAddr,
    index: usize,
    token: String,
    base: Vec<(DocumentId, Vec<u8>)>,
    shared: Arc<Shared>,
) {
    let mut rng = Rng::new(1 + index as u64);
    let peer_id = format!("load-device-{index}");
    let mut link = Peer::connect(
        &format!("ws://{addr}/sync"),
        &token,
        &peer_id,
        Some(format!("load-{index}")),
    )
    .await
    .expect("the server is up");
    let mut docs = load_base(&base, &mut rng);
    while !shared.stop.load(SeqCst) {
        let i = rng.below(docs.len());
        if edit_entry(&mut docs[i].doc, &mut rng, &peer_id).is_some() {
            shared.edits.fetch_add(1, SeqCst);
        }
        let Replica { id, doc, state } = &mut docs[i];
        link.offer(*id, doc, state).await.unwrap();
        while docs[i].state.shared_heads != docs[i].doc.get_heads() {
            match link.recv().await.expect("the server stays up") {
                Message::Sync {
                    document_id, data, ..
                } => {
                    let message = sync::Message::decode(&data).unwrap();
                    shared.record(document_id, &message.heads);
                    let replica = docs
                        .iter_mut()
                        .find(|r| r.id == document_id)
                        .expect("only our entries");
                    replica
                        .doc
                        .receive_sync_message(&mut replica.state, message)
                        .unwrap();
                    let Replica { id, doc, state } = replica;
                    link.offer(*id, doc, state).await.unwrap();
                }
                other => panic!("device {index} got {other:?}"),
            }
        }
    }
    link.close().await;
}

/// Fetches `doc_id` whole from `link`'s server.
async fn fetch(link: &mut Peer, doc_id: DocumentId) -> Automerge {
    let mut doc = Automerge::new();
    let mut state = sync::State::new();
    link.offer(doc_id, &doc, &mut state).await.unwrap();
    loop {
        match link.recv().await.expect("the server is up") {
            Message::Sync {
                document_id, data, ..
            } if document_id == doc_id => {
                let message = sync::Message::decode(&data).unwrap();
                doc.receive_sync_message(&mut state, message).unwrap();
                link.offer(doc_id, &doc, &mut state).await.unwrap();
                if state
                    .their_heads
                    .as_deref()
                    .is_some_and(|theirs| has_all(&doc, theirs))
                {
                    return doc;
                }
            }
            Message::Sync { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_sync_load_restores_every_change_acknowledged_before_it_began() {
    let server = TestServer::start().await;
    register(&server, "load@example.org").await;
    let mut tokens = Vec::new();
    for _ in 0..=DEVICES {
        tokens.push(login(&server, "load@example.org").await.token);
    }
    let verifier_token = tokens[DEVICES].clone();

    // Every device starts from the same entries, uploaded first.
    let mut rng = Rng::new(42);
    let base = upload_base(&server, &verifier_token, &mut rng, ENTRIES).await;

    let shared = Arc::new(Shared::default());
    let devices: Vec<_> = (0..DEVICES)
        .map(|index| {
            tokio::spawn(device(
                server.addr,
                index,
                tokens[index].clone(),
                base.clone(),
                shared.clone(),
            ))
        })
        .collect();

    // Under way: then everything acknowledged so far must be in the backup.
    // A backup can finish before any device edits again on a busy machine;
    // only one taken while they edited proves anything, so take another.
    shared.wait_for_heard(40).await;
    let backup_dir = tempfile::tempdir().unwrap();
    let backup_file = backup_dir.path().join("fieldbook.backup");
    let mut attempts = 0;
    let (acknowledged, edits_during) = loop {
        attempts += 1;
        let acknowledged = shared.acked.lock().unwrap().clone();
        let edits_before = shared.edits.load(SeqCst);
        let out = fieldbook_ok(
            &["backup", "--out", backup_file.to_str().unwrap()],
            &server.data_dir,
        )
        .await;
        assert!(out.contains("by the running server"), "{out}");
        let edits_during = shared.edits.load(SeqCst) - edits_before;
        if edits_during > 0 {
            break (acknowledged, edits_during);
        }
        assert!(
            attempts < 20,
            "devices kept editing while a backup was taken"
        );
        std::fs::remove_file(&backup_file).unwrap();
    };
    let mode = std::fs::metadata(&backup_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the backup is readable by its owner only"
    );

    shared.stop.store(true, SeqCst);
    for device in devices {
        tokio::time::timeout(WAIT, device).await.unwrap().unwrap();
    }
    let original_storage_id = Peer::join(&server, &verifier_token, "before")
        .await
        .server_storage_id
        .clone();
    server.stop().await;

    let restored_dir = backup_dir.path().join("restored");
    fieldbook_ok(
        &["restore", "--from", backup_file.to_str().unwrap()],
        &restored_dir,
    )
    .await;
    let restored = TestServer::start_in(&restored_dir, |_| {}).await;
    // Sessions come back with the data; the server is a new storage peer,
    // so every device syncs in full once.
    let peer = Peer::join(&restored, &verifier_token, "after").await;
    assert_ne!(peer.server_storage_id, original_storage_id);
    drop(peer);
    let mut link = Peer::connect(&restored.ws_url(), &verifier_token, "verifier", None)
        .await
        .expect("the restored server accepts the old session");
    let mut checked = 0;
    for (doc_id, heads) in &acknowledged {
        let doc = fetch(&mut link, *doc_id).await;
        let lost: Vec<_> = heads
            .iter()
            .filter(|head| doc.get_change_by_hash(head).is_none())
            .collect();
        assert!(
            lost.is_empty(),
            "{} of {} acknowledged heads of {doc_id} missing after restore",
            lost.len(),
            heads.len()
        );
        checked += heads.len();
    }
    assert!(checked > 0);
    link.close().await;
    println!(
        "backup under load: {edits_during} edits while backup {attempts} was taken; \
         {checked} heads acknowledged before it began, all restored"
    );
    restored.stop().await;
}

// ------------------------------------------------------------------ users

#[tokio::test]
async fn user_commands_list_disable_enable_export_and_delete_on_the_running_server() {
    let server = TestServer::start().await;
    let data_dir = server.data_dir.clone();
    let dir = data_dir.as_path();
    let (sam, sam_phone) = account_and_session(&server, "sam@example.org").await;
    let (_, alex_phone) = account_and_session(&server, "alex@example.org").await;
    let entry_id = new_doc_id();
    let mut entry = Replica::new(
        entry_id,
        with_text(keys::LEARNING, "What I learnt on the visit"),
    );
    let mut phone = Peer::join(&server, &sam_phone.token, "sam-phone").await;
    assert_eq!(
        entry.sync_until(&mut phone, |_| true).await,
        Outcome::Synced
    );

    let users = users_json(dir).await;
    assert_eq!(users.len(), 2);
    let listed = user_by_email(&users, "sam@example.org");
    assert_eq!(listed["id"], sam.user_id.as_str());
    assert_eq!(listed["status"], "active");
    assert_eq!(listed["devices"], 1);
    assert_eq!(listed["documents"], 2, "the root document and the entry");

    // Disabled: signed out, socket closed, cannot sign in or sync, and the
    // email cannot be taken by someone else meanwhile.
    let out = fieldbook_ok(&["user", "disable", "sam@example.org"], dir).await;
    assert!(out.contains("disabled"), "{out}");
    assert!(out.contains("by the running server"), "{out}");
    loop {
        match phone.recv().await {
            None => break,
            Some(Message::Sync { .. }) => continue,
            Some(other) => panic!("a disabled user's socket got {other:?}"),
        }
    }
    assert_eq!(login_status(&server, "sam@example.org").await, 401);
    assert_eq!(me_status(&server, &sam_phone.token).await, 401);
    let mut upgrade =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            server.ws_url(),
        )
        .unwrap();
    upgrade.headers_mut().insert(
        "authorization",
        format!("Bearer {}", sam_phone.token).parse().unwrap(),
    );
    assert!(
        tokio_tungstenite::connect_async(upgrade).await.is_err(),
        "a disabled user's sync upgrade is refused"
    );
    assert_eq!(register_status(&server, "sam@example.org").await, 409);
    assert_eq!(me_status(&server, &alex_phone.token).await, 200);
    let users = users_json(dir).await;
    assert_eq!(
        user_by_email(&users, "sam@example.org")["status"],
        "disabled"
    );
    assert_eq!(
        user_by_email(&users, "alex@example.org")["status"],
        "active"
    );

    // Enabled again (by user ID this time): signs in and syncs.
    let out = fieldbook_ok(&["user", "enable", &sam.user_id], dir).await;
    assert!(out.contains("enabled"), "{out}");
    let laptop = login(&server, "sam@example.org").await;
    let mut peer = Peer::join(&server, &laptop.token, "sam-laptop").await;
    let mut copy = Replica::empty(entry_id);
    copy.sync_until(&mut peer, |doc| text_of(doc, keys::LEARNING).is_some())
        .await;
    assert_eq!(
        text_of(&copy.doc, keys::LEARNING).unwrap(),
        "What I learnt on the visit"
    );
    drop(peer);

    // Export: the account, and each document as Automerge binary and JSON.
    let export_root = tempfile::tempdir().unwrap();
    let export = export_root.path().join("sam");
    let out = fieldbook_ok(
        &[
            "user",
            "export",
            "sam@example.org",
            "--out",
            export.to_str().unwrap(),
        ],
        dir,
    )
    .await;
    assert!(out.contains("2 documents"), "{out}");
    let account: Value =
        serde_json::from_slice(&std::fs::read(export.join("account.json")).unwrap()).unwrap();
    assert_eq!(account["account"]["email"], "sam@example.org");
    assert_eq!(account["account"]["rootDocUrl"], sam.root.to_url());
    assert_eq!(account["devices"][0]["name"], "Test phone");
    let entry_json: Value = serde_json::from_slice(
        &std::fs::read(export.join(format!("documents/{entry_id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(entry_json["learning"], "What I learnt on the visit");
    assert_eq!(entry_json[keys::TYPE], ENTRY_TYPE);
    let binary = std::fs::read(export.join(format!("documents/{entry_id}.automerge"))).unwrap();
    assert_eq!(
        Automerge::load(&binary).unwrap().get_heads(),
        entry.doc.get_heads(),
        "the binary holds the whole history"
    );
    let root_json: Value = serde_json::from_slice(
        &std::fs::read(export.join(format!("documents/{}.json", sam.root))).unwrap(),
    )
    .unwrap();
    assert_eq!(root_json[keys::TYPE], ROOT_TYPE);
    let mode = std::fs::metadata(export.join("account.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The same as one JSON document on standard output (for containers).
    let output = fieldbook(&["user", "export", &sam.user_id, "--out", "-"], dir).await;
    assert!(output.status.success());
    let streamed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(streamed["account"]["email"], "sam@example.org");
    let streamed_entry = streamed["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|doc| doc["id"] == entry_id.to_string().as_str())
        .unwrap();
    assert_eq!(
        streamed_entry["content"]["learning"],
        "What I learnt on the visit"
    );
    // An export never overwrites.
    let err = fieldbook_fails(
        &[
            "user",
            "export",
            "sam@example.org",
            "--out",
            export.to_str().unwrap(),
        ],
        dir,
    )
    .await;
    assert!(err.contains("not empty"), "{err}");

    // Deletion needs confirming, then purges everything.
    let err = fieldbook_fails(&["user", "delete", "sam@example.org"], dir).await;
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(login_status(&server, "sam@example.org").await, 200);
    let out = fieldbook_ok(&["user", "delete", "sam@example.org", "--yes"], dir).await;
    assert!(out.contains("2 documents"), "{out}");
    assert_eq!(login_status(&server, "sam@example.org").await, 401);
    assert_eq!(me_status(&server, &laptop.token).await, 401);
    let err = fieldbook_fails(&["user", "disable", "sam@example.org"], dir).await;
    assert!(err.contains("no account"), "{err}");
    // The address is free again; the new account does not get the old entry.
    let (_, new_sam) = account_and_session(&server, "sam@example.org").await;
    let mut peer = Peer::join(&server, &new_sam.token, "new-sam").await;
    assert_eq!(
        Replica::empty(entry_id)
            .sync_until(&mut peer, |_| false)
            .await,
        Outcome::Unavailable
    );
    assert_eq!(me_status(&server, &alex_phone.token).await, 200);
    let users = users_json(dir).await;
    assert_eq!(users.len(), 2);
    assert_ne!(
        user_by_email(&users, "sam@example.org")["id"],
        sam.user_id.as_str()
    );

    // On disk: nothing of the old account but the bare tombstones.
    let _dir = server.stop().await;
    let store = SledStore::open(dir).unwrap();
    let leftovers: Vec<String> = store
        .scan_prefix(b"")
        .unwrap()
        .into_iter()
        .map(|(key, value)| {
            (
                String::from_utf8_lossy(&key).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .filter(|(key, value)| {
            let about_sam = key.contains(&sam.user_id)
                || key.contains(&entry_id.to_string())
                || key.contains(&sam.root.to_string())
                || value.contains(&sam.user_id);
            about_sam && !key.starts_with("doc-tomb/")
        })
        .map(|(key, _)| key)
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    assert!(store
        .get(format!("doc-tomb/{entry_id}").as_bytes())
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn with_no_server_running_the_commands_open_the_data_directory_themselves() {
    let server = TestServer::start().await;
    let (_, kim_phone) = account_and_session(&server, "kim@example.org").await;
    let dir = server.stop().await.unwrap();
    let data_dir = dir.path();

    let out = fieldbook_ok(&["user", "list"], data_dir).await;
    assert!(out.contains("kim@example.org"), "{out}");
    assert!(out.contains("active"), "{out}");
    let out = fieldbook_ok(&["user", "disable", "kim@example.org"], data_dir).await;
    assert!(out.contains("no server was running"), "{out}");

    let files = tempfile::tempdir().unwrap();
    let backup_file = files.path().join("b");
    let out = fieldbook_ok(
        &["backup", "--out", backup_file.to_str().unwrap()],
        data_dir,
    )
    .await;
    assert!(out.contains("no server was running"), "{out}");
    assert!(out.contains("1 accounts"), "{out}");
    // A backup never overwrites.
    let err = fieldbook_fails(
        &["backup", "--out", backup_file.to_str().unwrap()],
        data_dir,
    )
    .await;
    assert!(err.contains("already exists"), "{err}");

    // Restore refuses a directory with anything in it, and a damaged file.
    let err = fieldbook_fails(
        &["restore", "--from", backup_file.to_str().unwrap()],
        data_dir,
    )
    .await;
    assert!(err.contains("not empty"), "{err}");
    let mut bytes = std::fs::read(&backup_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    let damaged = files.path().join("damaged");
    std::fs::write(&damaged, bytes).unwrap();
    let target = files.path().join("from-damaged");
    let err = fieldbook_fails(&["restore", "--from", damaged.to_str().unwrap()], &target).await;
    assert!(err.contains("damaged"), "{err}");
    assert!(!target.exists(), "nothing written from a damaged backup");

    // The restored data is the data: the account is still disabled.
    let restored_dir = files.path().join("restored");
    let out = fieldbook_ok(
        &["restore", "--from", backup_file.to_str().unwrap()],
        &restored_dir,
    )
    .await;
    assert!(out.contains("1 accounts"), "{out}");
    let restored = TestServer::start_in(&restored_dir, |_| {}).await;
    assert_eq!(login_status(&restored, "kim@example.org").await, 401);
    fieldbook_ok(&["user", "enable", "kim@example.org"], &restored_dir).await;
    assert_eq!(login_status(&restored, "kim@example.org").await, 200);
    // Disabling signed the old device out for good.
    assert_eq!(me_status(&restored, &kim_phone.token).await, 401);
    restored.stop().await;
}

#[tokio::test]
async fn a_backup_can_stream_to_standard_output_for_containers() {
    let server = TestServer::start().await;
    register(&server, "lee@example.org").await;
    let output = fieldbook(&["backup", "--out", "-"], &server.data_dir).await;
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("1 accounts"), "{report}");
    assert!(report.contains("by the running server"), "{report}");
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("streamed");
    std::fs::write(&file, &output.stdout).unwrap();
    let restored = files.path().join("restored");
    fieldbook_ok(&["restore", "--from", file.to_str().unwrap()], &restored).await;
    let users = users_json(&restored).await;
    assert_eq!(user_by_email(&users, "lee@example.org")["status"], "active");
    server.stop().await;
}

/// The one-process rule, said plainly: a database held open by a process
/// that is not answering on the admin socket is not opened a second time.
#[tokio::test]
async fn a_database_held_by_another_process_is_left_alone_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let _held = SledStore::open(dir.path()).unwrap();
    let err = fieldbook_fails(&["user", "list"], dir.path()).await;
    assert!(err.contains("in use by another process"), "{err}");
    let err = fieldbook_fails(&["backup", "--out", "-"], dir.path()).await;
    assert!(err.contains("in use by another process"), "{err}");
}

// ------------------------------------------------------------ data format

#[tokio::test]
async fn the_data_format_is_stamped_at_first_start_and_a_newer_one_is_refused() {
    let server = TestServer::start().await;
    let dir = server.stop().await.unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        let version = store.get(b"server/format-version").unwrap().unwrap();
        assert_eq!(
            version,
            fieldbook_server::admin::format::CURRENT
                .to_string()
                .as_bytes()
        );
        store.put(b"server/format-version", b"99").unwrap();
        store.flush().await.unwrap();
    }
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output();
    let output = tokio::time::timeout(WAIT, output).await.unwrap().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("format version 99"), "{stderr}");
    assert!(stderr.contains("newer Fieldbook"), "{stderr}");
}

#[tokio::test]
async fn the_container_health_check_passes_only_while_the_server_answers() {
    let server = TestServer::start().await;
    let check = |addr: String| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(["healthcheck", "--listen", &addr])
            .output()
    };
    let output = check(server.addr.to_string()).await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A wildcard listen address (as in the container) is checked on loopback.
    let wildcard = format!("0.0.0.0:{}", server.addr.port());
    assert!(check(wildcard).await.unwrap().status.success());
    let addr = server.addr;
    server.stop().await;
    let output = check(addr.to_string()).await.unwrap();
    assert!(!output.status.success(), "healthy with the server stopped");
}

// ------------------------------------------------------------ deployment

/// deploy/fieldbook.example.toml is a valid settings file and names every
/// setting the server has, so a new setting cannot go undocumented.
#[test]
fn the_example_config_is_valid_and_documents_every_setting() {
    use clap::Args;
    use fieldbook_server::config::Settings;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/fieldbook.example.toml");
    let settings = Settings::from_toml_file(&path).unwrap();
    let config = settings.resolve().unwrap();
    assert_eq!(config.data_dir, Path::new("/var/lib/fieldbook"));
    let text = std::fs::read_to_string(&path).unwrap();
    let keys: Vec<String> = Settings::augment_args(clap::Command::new("serve"))
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .collect();
    assert!(keys.len() >= 9, "{keys:?}");
    for key in keys {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("{key} = "))),
            "deploy/fieldbook.example.toml does not document `{key}`"
        );
    }
}

// ------------------------------------------------------------ sharing

/// An export holds what others share with the user; deleting the user
/// ends every share both ways, and the members' devices drop what was
/// theirs at once.
#[tokio::test]
async fn export_and_delete_take_the_users_shares_both_ways() {
    use crate::sharing::{follow_root, share, shared_entry, User};
    let server = TestServer::start().await;
    let dir = server.data_dir.clone();
    let sam = User::new(&server, "sam@example.org").await;
    let alex = User::new(&server, "alex@example.org").await;
    let sams = crate::sharing::new_entry(&server, &sam, "sam-phone", "Sam's reflection").await;
    let alexs = crate::sharing::new_entry(&server, &alex, "alex-phone", "Alex's group").await;
    share(&server, &sam, sams.id, "writer", &alex, "Alex").await;
    share(&server, &alex, alexs.id, "reader", &sam, "Sam").await;
    // An invitation of Sam's still open, to be withdrawn with the account.
    crate::sharing::invite(&server, &sam, sams.id, "reader").await;

    // Alex's phone holds Sam's entry and the list naming it.
    let mut phone = Peer::join(&server, alex.token(), "alex-phone").await;
    let mut root = Replica::empty(alex.account.root);
    root.sync_until(&mut phone, |doc| shared_entry(doc, sams.id).is_some())
        .await;
    let mut copy = Replica::empty(sams.id);
    copy.sync_until(&mut phone, |doc| text_of(doc, keys::TITLE).is_some())
        .await;

    // Sam's export holds Alex's document as shared with Sam.
    let out_root = tempfile::tempdir().unwrap();
    let out = out_root.path().join("sam");
    let printed = fieldbook_ok(
        &[
            "user",
            "export",
            "sam@example.org",
            "--out",
            out.to_str().unwrap(),
        ],
        &dir,
    )
    .await;
    assert!(printed.contains("1 shared with them"), "{printed}");
    let shared: Value =
        serde_json::from_slice(&std::fs::read(out.join("shared.json")).unwrap()).unwrap();
    assert_eq!(shared.as_array().unwrap().len(), 1);
    assert_eq!(shared[0]["documentId"], alexs.id.to_string().as_str());
    assert_eq!(shared[0]["role"], "reader");
    assert_eq!(shared[0]["displayName"], "Sam");
    let content: Value = serde_json::from_slice(
        &std::fs::read(out.join(format!("shared/{}.json", alexs.id))).unwrap(),
    )
    .unwrap();
    assert_eq!(content["title"], "Alex's group");
    let binary = std::fs::read(out.join(format!("shared/{}.automerge", alexs.id))).unwrap();
    assert_eq!(
        Automerge::load(&binary).unwrap().get_heads(),
        alexs.doc.get_heads()
    );
    let text = std::fs::read_to_string(out.join("shared.json")).unwrap();
    assert!(!text.contains("alex@example.org"), "{text}");

    let printed = fieldbook_ok(&["user", "delete", "sam@example.org", "--yes"], &dir).await;
    assert!(printed.contains("1 shares with it ended"), "{printed}");
    // Alex's phone is told Sam's entry is gone, and its list loses it.
    follow_root(&mut phone, &mut root, sams.id, |doc, told| {
        told && shared_entry(doc, sams.id).is_none()
    })
    .await;
    let listed: Value = api_get(&server, "/api/shared", alex.token())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    let members: Value = api_get(
        &server,
        &format!("/api/documents/{}/members", alexs.id),
        alex.token(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(members, json!([]), "Sam is no longer a member of Alex's");
    // Nor can a stale copy bring Sam's entry back.
    let mut laptop = Peer::join(&server, alex.token(), "alex-laptop").await;
    let mut stale = Replica::new(sams.id, copy.doc.clone());
    assert_eq!(
        stale.sync_until(&mut laptop, |_| false).await,
        Outcome::Unavailable
    );
    drop((phone, laptop));

    // On disk nothing names Sam, but for the bare tombstones.
    let _dir = server.stop().await;
    let store = SledStore::open(&dir).unwrap();
    let leftovers: Vec<String> = store
        .scan_prefix(b"")
        .unwrap()
        .into_iter()
        .filter(|(key, value)| {
            let key = String::from_utf8_lossy(key);
            let value = String::from_utf8_lossy(value);
            let about_sam = key.contains(sam.id())
                || key.contains(&sams.id.to_string())
                || value.contains(sam.id());
            about_sam && !key.starts_with("doc-tomb/")
        })
        .map(|(key, _)| String::from_utf8_lossy(&key).into_owned())
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}
