//! One device's WebSocket to the server: the join handshake, then protocol
//! messages in and out, counted in shared [`Traffic`] totals.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use anyhow::{bail, Context};
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Messages and bytes moved, as the devices saw them (so both servers are
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
    sink: SplitSink<Socket, Frame>,
    stream: SplitStream<Socket>,
    pub peer_id: String,
    pub server_id: String,
    traffic: Arc<Traffic>,
}

impl Conn {
    /// Connects and joins as `peer_id`, authenticating with `token` if given.
    pub async fn open(
        url: &str,
        token: Option<&str>,
        peer_id: String,
        traffic: Arc<Traffic>,
    ) -> anyhow::Result<Self> {
        let mut request = url.into_client_request()?;
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
        }
        let socket = connect_with_retry(request)
            .await
            .with_context(|| format!("connecting {peer_id}"))?;
        let (sink, stream) = socket.split();
        let mut conn = Self {
            sink,
            stream,
            peer_id: peer_id.clone(),
            server_id: String::new(),
            traffic,
        };
        conn.send(&Message::Join {
            sender_id: peer_id.clone(),
            peer_metadata: PeerMetadata {
                storage_id: Some(format!("storage-{peer_id}")),
                is_ephemeral: false,
            },
            supported_protocol_versions: vec![wire::PROTOCOL_V1.to_owned()],
        })
        .await?;
        match conn.recv().await? {
            Message::Peer { sender_id, .. } => conn.server_id = sender_id,
            other => bail!("expected peer, got {}", other.type_name()),
        }
        Ok(conn)
    }

    pub async fn send(&mut self, message: &Message) -> anyhow::Result<()> {
        let bytes = wire::encode(message);
        self.traffic.messages_out.fetch_add(1, Relaxed);
        self.traffic
            .bytes_out
            .fetch_add(bytes.len() as u64, Relaxed);
        self.sink.send(Frame::Binary(bytes.into())).await?;
        Ok(())
    }

    pub async fn recv(&mut self) -> anyhow::Result<Message> {
        loop {
            match self
                .stream
                .next()
                .await
                .context("server closed the connection")??
            {
                Frame::Binary(bytes) => {
                    self.traffic.messages_in.fetch_add(1, Relaxed);
                    self.traffic.bytes_in.fetch_add(bytes.len() as u64, Relaxed);
                    return Ok(wire::decode(&bytes)?);
                }
                Frame::Close(_) => bail!("server closed the connection"),
                _ => continue,
            }
        }
    }

    pub async fn sync(
        &mut self,
        doc: DocumentId,
        data: Vec<u8>,
        request: bool,
    ) -> anyhow::Result<()> {
        let (sender_id, target_id) = (self.peer_id.clone(), self.server_id.clone());
        let message = if request {
            Message::Request {
                sender_id,
                target_id,
                document_id: doc,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id: doc,
                data,
            }
        };
        self.send(&message).await
    }

    pub async fn leave(mut self) -> anyhow::Result<()> {
        let leave = Message::Leave {
            sender_id: self.peer_id.clone(),
        };
        self.send(&leave).await?;
        let _ = self.sink.close().await;
        Ok(())
    }
}

/// Connects, retrying refused or reset connections as a real client's
/// adapter does (a burst of devices can overflow a server's listen queue).
async fn connect_with_retry(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut delay = std::time::Duration::from_millis(50);
    for _ in 0..8 {
        match connect(request.clone()).await {
            Ok((socket, _)) => return Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Io(_)) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(other) => return Err(other),
        }
    }
    connect(request).await.map(|(socket, _)| socket)
}

/// Connects with Nagle's algorithm off, as browsers do for every socket: a
/// device's small sync message must not wait for the server to acknowledge
/// the one before it (up to 40 ms of delayed ACK on Linux).
async fn connect(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<
    (
        Socket,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    tokio_tungstenite::connect_async_with_config(request, None, true).await
}
