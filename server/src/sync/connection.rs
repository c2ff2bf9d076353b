//! One sync WebSocket: the `join`/`peer` handshake, then every message checked
//! (size, encoding, sender, target) and handed to the hub, keep-alive pings,
//! and a clean close. Bad input gets an `error` message and closes only this
//! connection; nothing else is affected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket};
use fieldbook_shared::wire::{self, Message, PeerId, PeerMetadata, PROTOCOL_V1};
use tokio::sync::{mpsc, watch};

use crate::metrics::Metrics;
use crate::sync::hub::{Hub, Outbound, PeerInfo, SyncError};

/// How long a new connection has to send its `join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_PEER_ID_CHARS: usize = 128;
/// How long a closing connection waits for the peer's own close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// WebSocket close codes (RFC 6455).
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_SERVER_ERROR: u16 = 1011;

/// What a connection needs from the server around it.
pub struct ConnectionContext {
    pub hub: Arc<Hub>,
    pub metrics: Arc<Metrics>,
    pub storage_id: String,
    pub max_message_bytes: usize,
    pub keepalive: Duration,
    pub shutdown: watch::Receiver<bool>,
}

/// The authenticated account and device behind the upgrade request, and
/// the connection's number (in its log span, and in the hub).
pub struct Identity {
    pub user_id: String,
    pub device_id: String,
    pub conn_id: u64,
}

/// Why a connection is being closed for cause; the text is sent to the peer.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("message of {0} bytes is over the limit of {1} bytes")]
    TooLarge(usize, usize),
    #[error("messages must be binary CBOR frames")]
    TextFrame,
    #[error("malformed message: {0}")]
    Malformed(#[from] wire::WireError),
    #[error("the first message must be a join")]
    NotJoin,
    #[error("no join message arrived in time")]
    JoinTimeout,
    #[error("invalid peer ID")]
    InvalidPeerId,
    #[error("that peer ID is the server's own; choose another")]
    ServerPeerId,
    #[error("unsupported protocol version; this server speaks version {PROTOCOL_V1}")]
    UnsupportedVersion,
    #[error("{0}")]
    PeerIdTaken(#[from] crate::sync::hub::PeerIdTaken),
    #[error("senderId does not match the peer ID given at join")]
    SenderMismatch,
    #[error("targetId must be this server's peer ID")]
    WrongTarget,
    #[error("unexpected {0} message")]
    Unexpected(&'static str),
    #[error("{0}")]
    Sync(#[from] SyncError),
}

impl Refusal {
    fn close_code(&self) -> u16 {
        match self {
            Refusal::TooLarge(..) => CLOSE_TOO_BIG,
            Refusal::PeerIdTaken(_) | Refusal::ServerPeerId | Refusal::SenderMismatch => {
                CLOSE_POLICY
            }
            Refusal::Sync(SyncError::Storage(_)) => CLOSE_SERVER_ERROR,
            _ => CLOSE_PROTOCOL_ERROR,
        }
    }
}

/// What the connection does after a message it accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The peer said goodbye.
    Leave,
}

struct Connection {
    socket: WebSocket,
    ctx: ConnectionContext,
    /// Set once the peer has joined.
    peer: Option<PeerInfo>,
}

/// The span a connection runs in: its connection, user and device IDs, and
/// its peer ID once joined; never message contents. Made while the upgrade
/// request is handled, so it is a child of that request's span (with its
/// request ID).
pub fn span(identity: &Identity) -> tracing::Span {
    tracing::info_span!(
        "sync",
        conn = identity.conn_id,
        user = %identity.user_id,
        device = %identity.device_id,
        peer = tracing::field::Empty,
    )
}

/// Serves one sync connection until it closes.
pub async fn run(socket: WebSocket, ctx: ConnectionContext, identity: Identity) {
    ctx.metrics.connection_opened();
    let metrics = ctx.metrics.clone();
    let mut conn = Connection {
        socket,
        ctx,
        peer: None,
    };
    conn.serve(identity).await;
    if let Some(peer) = &conn.peer {
        conn.ctx.hub.unregister_peer(peer).await;
    }
    metrics.connection_closed();
}

impl Connection {
    async fn serve(&mut self, identity: Identity) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        if let Err(refusal) = self.handshake(identity, tx).await {
            self.refuse(refusal).await;
            return;
        }
        let mut ping = tokio::time::interval(self.ctx.keepalive);
        ping.tick().await;
        let mut heard_since_ping = true;
        loop {
            tokio::select! {
                frame = self.socket.recv() => {
                    heard_since_ping = true;
                    let frame = match frame {
                        Some(Ok(frame)) => frame,
                        _ => return,
                    };
                    match self.on_frame(frame).await {
                        Ok(Flow::Continue) => {}
                        Ok(Flow::Leave) => {
                            let _ = self.close(CLOSE_NORMAL, "goodbye").await;
                            return;
                        }
                        Err(refusal) => return self.refuse(refusal).await,
                    }
                }
                outbound = rx.recv() => match outbound {
                    Some(Outbound::Send(message)) => {
                        if self.send(&message).await.is_err() {
                            return;
                        }
                    }
                    Some(Outbound::Close(reason)) => {
                        let _ = self.close(CLOSE_NORMAL, reason).await;
                        return;
                    }
                    None => return,
                },
                _ = ping.tick() => {
                    if !heard_since_ping {
                        tracing::debug!("sync peer stopped answering pings");
                        return;
                    }
                    heard_since_ping = false;
                    if self.socket.send(Frame::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
                _ = self.ctx.shutdown.changed() => {
                    let _ = self.close(CLOSE_GOING_AWAY, "server restarting").await;
                    return;
                }
            }
        }
    }

    async fn handshake(
        &mut self,
        identity: Identity,
        tx: mpsc::UnboundedSender<Outbound>,
    ) -> Result<(), Refusal> {
        let bytes = loop {
            match tokio::time::timeout(JOIN_TIMEOUT, self.socket.recv()).await {
                Err(_) => return Err(Refusal::JoinTimeout),
                Ok(None | Some(Err(_))) => return Err(Refusal::JoinTimeout),
                Ok(Some(Ok(Frame::Binary(bytes)))) => break bytes,
                Ok(Some(Ok(Frame::Text(_)))) => return Err(Refusal::TextFrame),
                Ok(Some(Ok(_))) => continue,
            }
        };
        self.check_size(bytes.len())?;
        let Message::Join {
            sender_id,
            peer_metadata,
            supported_protocol_versions,
        } = wire::decode(&bytes)?
        else {
            return Err(Refusal::NotJoin);
        };
        if !valid_peer_id(&sender_id) {
            return Err(Refusal::InvalidPeerId);
        }
        // Messages from a peer with the server's ID would look like the
        // server's own to anything that reads senderId.
        if sender_id == self.ctx.hub.server_peer_id() {
            return Err(Refusal::ServerPeerId);
        }
        tracing::Span::current().record("peer", tracing::field::display(&sender_id));
        let info = PeerInfo {
            peer_id: sender_id,
            conn_id: identity.conn_id,
            user_id: identity.user_id,
            device_id: identity.device_id,
            storage_id: peer_metadata
                .storage_id
                .filter(|_| !peer_metadata.is_ephemeral),
        };
        self.peer = Some(info.clone());
        if !supported_protocol_versions.iter().any(|v| v == PROTOCOL_V1) {
            return Err(Refusal::UnsupportedVersion);
        }
        self.ctx.hub.register_peer(info.clone(), tx).await?;
        let reply = Message::Peer {
            sender_id: self.ctx.hub.server_peer_id().to_owned(),
            target_id: info.peer_id.clone(),
            peer_metadata: PeerMetadata {
                storage_id: Some(self.ctx.storage_id.clone()),
                is_ephemeral: false,
            },
            selected_protocol_version: PROTOCOL_V1.to_owned(),
        };
        self.send(&reply).await.map_err(|_| Refusal::JoinTimeout)?;
        tracing::debug!("sync peer joined");
        Ok(())
    }

    async fn on_frame(&mut self, frame: Frame) -> Result<Flow, Refusal> {
        let bytes = match frame {
            Frame::Binary(bytes) => bytes,
            Frame::Text(_) => return Err(Refusal::TextFrame),
            Frame::Close(_) => return Ok(Flow::Leave),
            Frame::Ping(_) | Frame::Pong(_) => return Ok(Flow::Continue),
        };
        self.check_size(bytes.len())?;
        self.ctx.metrics.message_received(bytes.len());
        let peer = self.peer.as_ref().expect("joined before the message loop");
        let started = Instant::now();
        let handled = handle_message(&self.ctx.hub, peer, &bytes).await;
        self.ctx.metrics.message_handled(started.elapsed());
        handled
    }

    fn check_size(&self, len: usize) -> Result<(), Refusal> {
        if len > self.ctx.max_message_bytes {
            return Err(Refusal::TooLarge(len, self.ctx.max_message_bytes));
        }
        Ok(())
    }

    async fn send(&mut self, message: &Message) -> Result<(), axum::Error> {
        let bytes = wire::encode(message);
        self.ctx.metrics.message_sent(bytes.len());
        self.socket.send(Frame::Binary(bytes.into())).await
    }

    /// Tells the peer why, in an `error` message, then closes.
    async fn refuse(&mut self, refusal: Refusal) {
        self.ctx.metrics.protocol_error();
        match &refusal {
            Refusal::Sync(SyncError::Storage(err)) => {
                tracing::error!(error = %err, "storage failed during sync")
            }
            other => tracing::info!(reason = %other, "closing sync connection for bad input"),
        }
        let target: PeerId = self
            .peer
            .as_ref()
            .map(|peer| peer.peer_id.clone())
            .unwrap_or_default();
        let error = Message::Error {
            sender_id: self.ctx.hub.server_peer_id().to_owned(),
            target_id: target,
            message: refusal.to_string(),
        };
        let _ = self.send(&error).await;
        self.close_after_error(refusal.close_code()).await;
    }

    async fn close(&mut self, code: u16, reason: &'static str) -> Result<(), axum::Error> {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        self.socket.send(Frame::Close(Some(frame))).await
    }

    /// Closes after an `error`, then reads past whatever the peer still
    /// sends until its own close (briefly). Dropping a socket with unread
    /// input makes the kernel reset the connection, and a reset can destroy
    /// the `error` message before the peer has read it.
    async fn close_after_error(&mut self, code: u16) {
        if self.close(code, "closed for bad input").await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(frame)) = self.socket.recv().await {
                if matches!(frame, Frame::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Handles one binary message from a peer that has joined: decodes it,
/// checks its sender and target, and hands it to the hub. Free of the
/// socket, so the fuzzer can drive it with any bytes at all.
pub async fn handle_message(hub: &Hub, peer: &PeerInfo, bytes: &[u8]) -> Result<Flow, Refusal> {
    let message = wire::decode(bytes)?;
    if message.sender_id() != peer.peer_id {
        return Err(Refusal::SenderMismatch);
    }
    let is_request = matches!(message, Message::Request { .. });
    match message {
        Message::Request {
            target_id,
            document_id,
            data,
            ..
        }
        | Message::Sync {
            target_id,
            document_id,
            data,
            ..
        } => {
            check_target(hub, &target_id)?;
            hub.receive_sync(peer, document_id, &data, is_request)
                .await?;
            Ok(Flow::Continue)
        }
        Message::Ephemeral { ref target_id, .. } => {
            check_target(hub, target_id)?;
            hub.relay_ephemeral(peer, message).await;
            Ok(Flow::Continue)
        }
        Message::Leave { .. } => Ok(Flow::Leave),
        // A peer saying it lacks a document, or gossip about remote
        // heads, needs no action from a server that never asks peers.
        Message::DocUnavailable { .. }
        | Message::RemoteSubscriptionChange { .. }
        | Message::RemoteHeadsChanged { .. } => Ok(Flow::Continue),
        Message::Join { .. } => Err(Refusal::Unexpected("join")),
        Message::Peer { .. } => Err(Refusal::Unexpected("peer")),
        Message::Error { .. } => Err(Refusal::Unexpected("error")),
    }
}

fn valid_peer_id(peer_id: &str) -> bool {
    !peer_id.is_empty()
        && peer_id.chars().count() <= MAX_PEER_ID_CHARS
        && !peer_id.chars().any(char::is_control)
}

fn check_target(hub: &Hub, target_id: &str) -> Result<(), Refusal> {
    if target_id != hub.server_peer_id() {
        return Err(Refusal::WrongTarget);
    }
    Ok(())
}
