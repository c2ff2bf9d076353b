//! One device's WebSocket to a real server: the join handshake, then
//! protocol messages in and out, counted in shared [`Traffic`] totals.
//! Failures are values, so a benchmark can report them and a crash test can
//! expect the server to vanish; [`crate::peer::Peer`] adds test manners.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;
use fieldbook_shared::wire::{self, Message, PeerMetadata, WireError};
use fieldbook_shared::DocumentId;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::replica::{Heard, Outgoing, Replicas};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// Boxed: the WebSocket's error is large, and every result carries it.
    #[error("the WebSocket failed: {0}")]
    Socket(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("the server closed the connection")]
    Closed,
    #[error("the server sent a message we cannot read: {0}")]
    Unreadable(#[from] WireError),
    #[error("the server answered the join with {0}, not peer")]
    NoPeer(&'static str),
    #[error(transparent)]
    Sync(#[from] crate::replica::SyncFailed),
    #[error("the server says {0} is unavailable")]
    Unavailable(DocumentId),
    #[error("the server said nothing for {0:?}")]
    Silent(Duration),
    #[error("bad credentials for a request header: {0}")]
    Header(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for ConnError {
    fn from(err: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Socket(Box::new(err))
    }
}

/// Messages and bytes moved, as the devices saw them (so every server is
/// counted the same way).
#[derive(Default, Debug)]
pub struct Traffic {
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

impl Traffic {
    pub fn messages(&self) -> u64 {
        self.messages_in.load(Relaxed) + self.messages_out.load(Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes_in.load(Relaxed) + self.bytes_out.load(Relaxed)
    }
}

pub struct Conn {
    pub socket: Socket,
    pub peer_id: String,
    pub server_id: String,
    pub server_storage_id: Option<String>,
    traffic: Arc<Traffic>,
}

fn request(url: &str, token: Option<&str>) -> Result<Request, ConnError> {
    let mut request = url.into_client_request()?;
    if let Some(token) = token {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|err| ConnError::Header(format!("{err}")))?;
        request.headers_mut().insert("authorization", value);
    }
    Ok(request)
}

/// Opens a WebSocket to `url`, authenticated by `token` if given, with
/// Nagle's algorithm off as browsers have it: a device's small sync message
/// must not wait for the server to acknowledge the one before it (up to
/// 40 ms of delayed ACK on Linux).
pub async fn open_socket(url: &str, token: Option<&str>) -> Result<Socket, ConnError> {
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(request(url, token)?, None, true).await?;
    Ok(socket)
}

/// [`open_socket`], retrying refused or reset connections as a real
/// client's adapter does (a burst of devices can overflow a listen queue).
pub async fn open_socket_retrying(url: &str, token: Option<&str>) -> Result<Socket, ConnError> {
    let mut delay = Duration::from_millis(50);
    for _ in 0..8 {
        match open_socket(url, token).await {
            Err(ConnError::Socket(err))
                if matches!(*err, tokio_tungstenite::tungstenite::Error::Io(_)) =>
            {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    open_socket(url, token).await
}

impl Conn {
    /// A socket that has not joined (yet): for tests that send what comes
    /// first themselves.
    pub fn unjoined(socket: Socket, peer_id: &str, server_id: &str) -> Self {
        Self {
            socket,
            peer_id: peer_id.to_owned(),
            server_id: server_id.to_owned(),
            server_storage_id: None,
            traffic: Arc::default(),
        }
    }

    /// Connects to `url` and joins as `peer_id`.
    pub async fn open(
        url: &str,
        token: Option<&str>,
        peer_id: &str,
        storage_id: Option<String>,
    ) -> Result<Self, ConnError> {
        let socket = open_socket(url, token).await?;
        Self::join(socket, peer_id, storage_id, Arc::default())
            .await
            .map(|(conn, _)| conn)
    }

    /// Joins as `peer_id` over `socket`; returns the connection and the
    /// server's `peer` answer.
    pub async fn join(
        socket: Socket,
        peer_id: &str,
        storage_id: Option<String>,
        traffic: Arc<Traffic>,
    ) -> Result<(Self, Message), ConnError> {
        let mut conn = Self {
            traffic,
            ..Self::unjoined(socket, peer_id, "")
        };
        conn.send(&Message::Join {
            sender_id: peer_id.to_owned(),
            peer_metadata: PeerMetadata {
                storage_id,
                is_ephemeral: false,
            },
            supported_protocol_versions: vec![wire::PROTOCOL_V1.to_owned()],
        })
        .await?;
        let answer = conn.recv().await?;
        match &answer {
            Message::Peer {
                sender_id,
                peer_metadata,
                ..
            } => {
                conn.server_id = sender_id.clone();
                conn.server_storage_id = peer_metadata.storage_id.clone();
            }
            other => return Err(ConnError::NoPeer(other.type_name())),
        }
        Ok((conn, answer))
    }

    pub async fn send(&mut self, message: &Message) -> Result<(), ConnError> {
        self.send_raw(wire::encode(message)).await
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ConnError> {
        self.traffic.messages_out.fetch_add(1, Relaxed);
        self.traffic
            .bytes_out
            .fetch_add(bytes.len() as u64, Relaxed);
        self.socket.send(Frame::Binary(bytes.into())).await?;
        Ok(())
    }

    /// The next protocol message; [`ConnError::Closed`] once the server
    /// has closed. Cancel-safe, so it can sit in a `select!`.
    pub async fn recv(&mut self) -> Result<Message, ConnError> {
        loop {
            match self.socket.next().await.ok_or(ConnError::Closed)?? {
                Frame::Binary(bytes) => {
                    self.traffic.messages_in.fetch_add(1, Relaxed);
                    self.traffic.bytes_in.fetch_add(bytes.len() as u64, Relaxed);
                    return Ok(wire::decode(&bytes)?);
                }
                Frame::Close(_) => return Err(ConnError::Closed),
                _ => continue,
            }
        }
    }

    /// [`Conn::recv`], but a server silent for `patience` is an error.
    pub async fn recv_within(&mut self, patience: Duration) -> Result<Message, ConnError> {
        tokio::time::timeout(patience, self.recv())
            .await
            .map_err(|_| ConnError::Silent(patience))?
    }

    /// Sends `doc`'s next sync message, if the protocol has one to send.
    pub async fn offer(
        &mut self,
        doc_id: DocumentId,
        doc: &Automerge,
        state: &mut sync::State,
    ) -> Result<(), ConnError> {
        if let Some(message) = doc.generate_sync_message(state) {
            let message = Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: self.server_id.clone(),
                document_id: doc_id,
                data: message.encode(),
            };
            self.send(&message).await?;
        }
        Ok(())
    }

    /// Sends one document's sync message from this device.
    pub async fn send_sync(&mut self, outgoing: Outgoing) -> Result<(), ConnError> {
        let message = outgoing.message(&self.peer_id, &self.server_id);
        self.send(&message).await
    }

    /// Sends the opening message of every document in `docs`.
    pub async fn open_all(&mut self, docs: &mut Replicas) -> Result<(), ConnError> {
        for outgoing in docs.open_all() {
            self.send_sync(outgoing).await?;
        }
        Ok(())
    }

    /// Sends what document `id` now has to say (after a local change).
    pub async fn send_changes(
        &mut self,
        docs: &mut Replicas,
        id: DocumentId,
    ) -> Result<(), ConnError> {
        match docs.changes(id) {
            Some(outgoing) => self.send_sync(outgoing).await,
            None => Ok(()),
        }
    }

    /// Applies one message from the server to `docs` and answers it; an
    /// unavailable document is an error. Returns the document synced, if any.
    pub async fn handle(
        &mut self,
        docs: &mut Replicas,
        message: &Message,
    ) -> Result<Option<DocumentId>, ConnError> {
        let (heard, answer) = docs.handle(message)?;
        if let Some(answer) = answer {
            self.send_sync(answer).await?;
        }
        match heard {
            Heard::Synced(id) => Ok(Some(id)),
            Heard::Unavailable(id) => Err(ConnError::Unavailable(id)),
            Heard::Other => Ok(None),
        }
    }

    /// Runs the protocol until `done` holds for every document in `docs`.
    pub async fn converge(
        &mut self,
        docs: &mut Replicas,
        done: fn(&crate::Replica) -> bool,
    ) -> Result<(), ConnError> {
        let mut pending = docs.0.values().filter(|r| !done(r)).count();
        while pending > 0 {
            let message = self.recv().await?;
            if let Some(id) = self.handle(docs, &message).await? {
                if done(&docs.0[&id]) {
                    pending = docs.0.values().filter(|r| !done(r)).count();
                }
            }
        }
        Ok(())
    }

    /// Says goodbye and closes.
    pub async fn leave(mut self) -> Result<(), ConnError> {
        let leave = Message::Leave {
            sender_id: self.peer_id.clone(),
        };
        self.send(&leave).await?;
        let _ = self.socket.close(None).await;
        Ok(())
    }

    /// Closes without a word (a device going away).
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
