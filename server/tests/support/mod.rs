//! Test harness: the real server on 127.0.0.1:0 (in-process or as the real
//! binary), an HTTP client, and a minimal automerge-repo peer speaking the
//! wire protocol so tests can send exactly the messages they mean to.

#![allow(dead_code)]

pub mod sim;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;
use fieldbook_server::{Config, StorageKind};
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "correct horse battery";
/// Generous bound for any single expected event; tests never sleep for a
/// fixed time, they wait for what they expect, up to this.
pub const WAIT: Duration = Duration::from_secs(10);

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

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A hand-driven automerge-repo peer.
pub struct Peer {
    pub socket: Socket,
    pub peer_id: String,
    pub server_id: String,
    pub server_storage_id: Option<String>,
}

pub async fn open_socket(server: &TestServer, token: &str) -> Socket {
    let mut request = server.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
}

impl Peer {
    pub async fn join(server: &TestServer, token: &str, peer_id: &str) -> Self {
        Self::join_with(
            server,
            token,
            peer_id,
            Some("storage-".to_owned() + peer_id),
        )
        .await
    }

    pub async fn join_with(
        server: &TestServer,
        token: &str,
        peer_id: &str,
        storage_id: Option<String>,
    ) -> Self {
        let mut socket = open_socket(server, token).await;
        let join = Message::Join {
            sender_id: peer_id.to_owned(),
            peer_metadata: PeerMetadata {
                storage_id,
                is_ephemeral: false,
            },
            supported_protocol_versions: vec!["1".to_owned()],
        };
        socket
            .send(Frame::Binary(wire::encode(&join).into()))
            .await
            .unwrap();
        let mut peer = Self {
            socket,
            peer_id: peer_id.to_owned(),
            server_id: String::new(),
            server_storage_id: None,
        };
        match peer.recv().await {
            Some(Message::Peer {
                sender_id,
                target_id,
                peer_metadata,
                selected_protocol_version,
            }) => {
                assert_eq!(target_id, peer_id);
                assert_eq!(selected_protocol_version, "1");
                assert!(!peer_metadata.is_ephemeral);
                peer.server_id = sender_id;
                peer.server_storage_id = peer_metadata.storage_id;
            }
            other => panic!("expected a peer message, got {other:?}"),
        }
        peer
    }

    pub async fn send(&mut self, message: &Message) {
        self.send_raw(wire::encode(message)).await;
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        self.socket.send(Frame::Binary(bytes.into())).await.unwrap();
    }

    /// The next protocol message, or None once the server has closed.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("server answered in time");
            match frame {
                Some(Ok(Frame::Binary(bytes))) => {
                    return Some(wire::decode(&bytes).expect("server sends valid messages"))
                }
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Expects an `error` message and then the connection closing.
    pub async fn expect_error_and_close(&mut self) -> String {
        let message = match self.recv().await {
            Some(Message::Error { message, .. }) => message,
            other => panic!("expected an error message, got {other:?}"),
        };
        assert!(
            self.recv().await.is_none(),
            "connection closed after the error"
        );
        message
    }

    pub fn sync_message(&self, doc_id: DocumentId, data: Vec<u8>) -> Message {
        Message::Sync {
            sender_id: self.peer_id.clone(),
            target_id: self.server_id.clone(),
            document_id: doc_id,
            data,
        }
    }

    pub fn request_message(&self, doc_id: DocumentId, data: Vec<u8>) -> Message {
        Message::Request {
            sender_id: self.peer_id.clone(),
            target_id: self.server_id.clone(),
            document_id: doc_id,
            data,
        }
    }
}

/// A local copy of one document and its sync state with the server, synced
/// by hand the way automerge-repo's DocSynchronizer does.
pub struct Replica {
    pub id: DocumentId,
    pub doc: Automerge,
    pub state: sync::State,
}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Synced,
    Unavailable,
}

impl Replica {
    pub fn new(id: DocumentId, doc: Automerge) -> Self {
        Self {
            id,
            doc,
            state: sync::State::new(),
        }
    }

    pub fn empty(id: DocumentId) -> Self {
        Self::new(id, Automerge::new())
    }

    /// Exchanges sync messages with the server until `done` holds for our
    /// document and the server has acknowledged our heads, or the server
    /// says the document is unavailable.
    pub async fn sync_until(
        &mut self,
        peer: &mut Peer,
        done: impl Fn(&Automerge) -> bool,
    ) -> Outcome {
        let deadline = tokio::time::Instant::now() + WAIT;
        let first = self.doc.get_heads().is_empty();
        self.send_next(peer, first).await;
        loop {
            if done(&self.doc) && self.server_has_our_heads() {
                return Outcome::Synced;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "sync did not converge"
            );
            match peer.recv().await {
                Some(Message::Sync {
                    document_id, data, ..
                }) if document_id == self.id => {
                    let message = sync::Message::decode(&data).unwrap();
                    self.doc
                        .receive_sync_message(&mut self.state, message)
                        .unwrap();
                    self.send_next(peer, false).await;
                }
                Some(Message::DocUnavailable { document_id, .. }) if document_id == self.id => {
                    return Outcome::Unavailable
                }
                Some(_) => continue,
                None => panic!("connection closed during sync"),
            }
        }
    }

    fn server_has_our_heads(&self) -> bool {
        let ours = self.doc.get_heads();
        self.state.shared_heads == ours
    }

    async fn send_next(&mut self, peer: &mut Peer, as_request: bool) {
        if let Some(message) = self.doc.generate_sync_message(&mut self.state) {
            let data = message.encode();
            let message = if as_request {
                peer.request_message(self.id, data)
            } else {
                peer.sync_message(self.id, data)
            };
            peer.send(&message).await;
        }
    }
}

pub fn random_doc_id() -> DocumentId {
    let mut bytes = [0u8; 16];
    getrandom_fill(&mut bytes);
    DocumentId::from_bytes(bytes)
}

fn getrandom_fill(bytes: &mut [u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let seed = COUNTER.fetch_add(1, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
    let mut x = seed | 1;
    for byte in bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = x as u8;
    }
}
