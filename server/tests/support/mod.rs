//! Test harness: the real server on 127.0.0.1:0 (in-process or as the real
//! binary) and an HTTP client. The simulated devices that speak the sync
//! protocol to it are `fieldbook-testkit`'s, re-exported here.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use automerge::{ActorId, Automerge};
use fieldbook_server::{Config, StorageKind};
use fieldbook_shared::DocumentId;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use fieldbook_shared::entry::{keys, ENTRY_TYPE, ROOT_TYPE};
pub use fieldbook_testkit::entry::{listed_entries, new_doc_id, new_entry, text_of, with_text};
pub use fieldbook_testkit::peer::open_socket;
pub use fieldbook_testkit::{Endpoint, Outcome, Peer, Replica, Rng, WAIT};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestServer {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: Option<TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self::start_in(dir.path(), tweak).await;
        server._dir = Some(dir);
        server
    }

    /// Starts a server on an existing data directory (for restarts).
    pub async fn start_in(data_dir: &Path, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config {
            data_dir: data_dir.to_owned(),
            storage: StorageKind::Sled,
            ..Config::default()
        };
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            fieldbook_server::run(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server ran");
        });
        Self {
            addr,
            data_dir: data_dir.to_owned(),
            stop: Some(stop),
            task: Some(task),
            _dir: None,
        }
    }

    /// Graceful stop; returns the temp dir so the data can be reopened.
    pub async fn stop(mut self) -> Option<TempDir> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
        self._dir.take()
    }

    /// A server running elsewhere (a child process); stopping is the caller's job.
    pub fn external(addr: SocketAddr, data_dir: &Path) -> Self {
        Self {
            addr,
            data_dir: data_dir.to_owned(),
            stop: None,
            task: None,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }
}

pub fn spawn_binary(data_dir: &std::path::Path) -> tokio::process::Child {
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
pub async fn child_server(
    child: &mut tokio::process::Child,
    data_dir: &std::path::Path,
) -> TestServer {
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

/// The real `fieldbook` binary on 127.0.0.1:0 with `RUST_LOG` as given,
/// its log (stderr) written to a file, to be read whole once it stops.
pub struct LoggedServer {
    pub server: TestServer,
    child: tokio::process::Child,
    log: PathBuf,
    _dir: TempDir,
}

impl LoggedServer {
    pub async fn start(rust_log: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let log = dir.path().join("server.log");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fieldbook"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .env("RUST_LOG", rust_log)
            .env_remove("FIELDBOOK_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the server started in time")
            .unwrap()
            .expect("the server printed its address");
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap()
            .parse()
            .unwrap();
        Self {
            server: TestServer::external(addr, &data_dir),
            child,
            log,
            _dir: dir,
        }
    }

    /// Stops the server as an operator would (SIGTERM, so its shutdown is
    /// logged too) and returns everything it logged.
    pub async fn stop(mut self) -> String {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the server stopped in time")
            .unwrap();
        assert!(status.success(), "the server exited with {status}");
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// Whether `log` holds `secret` as text or as the hex of its bytes (how
/// libraries print payloads).
pub fn log_holds(log: &str, secret: &str) -> bool {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    log.contains(secret) || log.to_ascii_lowercase().contains(&hex)
}

pub struct Account {
    pub email: String,
    pub user_id: String,
    pub root: DocumentId,
}

pub struct Session {
    pub token: String,
    pub device_id: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn register(server: &TestServer, email: &str) -> Account {
    let response = client()
        .post(server.url("/api/auth/register"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    Account {
        email: email.to_owned(),
        user_id: body["userId"].as_str().unwrap().to_owned(),
        root: DocumentId::parse(body["rootDocUrl"].as_str().unwrap()).unwrap(),
    }
}

pub async fn login(server: &TestServer, email: &str) -> Session {
    let response = client()
        .post(server.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD, "deviceName": "Test phone" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    Session {
        token: body["token"].as_str().unwrap().to_owned(),
        device_id: body["deviceId"].as_str().unwrap().to_owned(),
    }
}

pub async fn account_and_session(server: &TestServer, email: &str) -> (Account, Session) {
    let account = register(server, email).await;
    let session = login(server, email).await;
    (account, session)
}

/// `count` entries every device of a test starts from (the same changes,
/// the same hashes, as if each had synced them once), uploaded to `server`
/// by a device of `token`; as saved documents, for each device to load.
pub async fn upload_base(
    server: &TestServer,
    token: &str,
    rng: &mut Rng,
    count: usize,
) -> Vec<(DocumentId, Vec<u8>)> {
    let base: Vec<(DocumentId, Vec<u8>)> = (0..count)
        .map(|_| {
            let id = DocumentId::from_bytes(rng.bytes());
            (id, new_entry(ActorId::from(rng.bytes::<16>())).save())
        })
        .collect();
    let mut uploader = Peer::join(server, token, "uploader").await;
    for (id, bytes) in &base {
        let mut replica = Replica::new(*id, Automerge::load(bytes).unwrap());
        assert_eq!(
            replica.sync_until(&mut uploader, |_| true).await,
            Outcome::Synced
        );
    }
    base
}

/// A device's own copy of the `base` entries, under an actor of its own.
pub fn load_base(base: &[(DocumentId, Vec<u8>)], rng: &mut Rng) -> Vec<Replica> {
    base.iter()
        .map(|(id, bytes)| {
            let mut doc = Automerge::load(bytes).unwrap();
            doc.set_actor(ActorId::from(rng.bytes::<16>()));
            Replica::new(*id, doc)
        })
        .collect()
}

impl Endpoint for TestServer {
    fn sync_url(&self) -> String {
        self.ws_url()
    }
}

pub async fn api_get(server: &TestServer, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn api_delete(server: &TestServer, path: &str, token: &str) -> reqwest::Response {
    client()
        .delete(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A request carrying only the session cookie `pair` (`name=value`).
pub async fn with_cookie(request: reqwest::RequestBuilder, pair: &str) -> reqwest::Response {
    request.header("cookie", pair).send().await.unwrap()
}

pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub async fn metrics_text(server: &TestServer) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the unlabelled metric `name` in a `/metrics` text.
pub fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from {metrics}"))
        .parse()
        .unwrap_or_else(|err| panic!("{name} is not a count: {err}"))
}
