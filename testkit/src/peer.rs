//! A device's connection with test manners: every failure panics, a server
//! silent for longer than [`WAIT`] fails the test, and documents sync
//! until a condition holds. Tests send exactly the messages they mean to.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use automerge::Automerge;
use fieldbook_shared::wire::Message;
use fieldbook_shared::DocumentId;

use crate::conn::{self, Conn, ConnError, Socket};
use crate::replica::Replica;

/// Generous bound for any single expected event; tests never sleep for a
/// fixed time, they wait for what they expect, up to this.
pub const WAIT: Duration = Duration::from_secs(10);

/// A server to connect to.
pub trait Endpoint {
    /// Its sync WebSocket's URL (`ws://…/sync`).
    fn sync_url(&self) -> String;
}

/// A hand-driven automerge-repo peer: a [`Conn`] whose failures panic.
pub struct Peer(pub Conn);

impl Deref for Peer {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl DerefMut for Peer {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

/// A WebSocket to `server`, authenticated with `token`, nothing sent yet.
pub async fn open_socket(server: &impl Endpoint, token: &str) -> Socket {
    conn::open_socket(&server.sync_url(), Some(token))
        .await
        .expect("the WebSocket opens")
}

impl Peer {
    pub async fn join(server: &impl Endpoint, token: &str, peer_id: &str) -> Self {
        Self::join_with(server, token, peer_id, Some(format!("storage-{peer_id}"))).await
    }

    /// Joins and checks the server's answer is the `peer` message a real
    /// client expects.
    pub async fn join_with(
        server: &impl Endpoint,
        token: &str,
        peer_id: &str,
        storage_id: Option<String>,
    ) -> Self {
        let socket = open_socket(server, token).await;
        let (conn, answer) = Conn::join(socket, peer_id, storage_id, Arc::default())
            .await
            .expect("the server answers the join");
        match answer {
            Message::Peer {
                target_id,
                peer_metadata,
                selected_protocol_version,
                ..
            } => {
                assert_eq!(target_id, peer_id);
                assert_eq!(selected_protocol_version, "1");
                assert!(!peer_metadata.is_ephemeral);
            }
            other => panic!("expected a peer message, got {other:?}"),
        }
        Self(conn)
    }

    /// Connects to `url` and joins, or `None` if the server is not there
    /// (for tests that kill it under their devices).
    pub async fn connect(
        url: &str,
        token: &str,
        peer_id: &str,
        storage_id: Option<String>,
    ) -> Option<Self> {
        Conn::open(url, Some(token), peer_id, storage_id)
            .await
            .ok()
            .map(Self)
    }

    /// Closes without a word (a device going away).
    pub async fn close(self) {
        self.0.close().await;
    }

    /// A peer over `socket` that has not joined; it addresses `server_id`.
    pub fn unjoined(socket: Socket, peer_id: &str, server_id: &str) -> Self {
        Self(Conn::unjoined(socket, peer_id, server_id))
    }

    pub async fn send(&mut self, message: &Message) {
        self.0.send(message).await.expect("the message is sent");
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        self.0.send_raw(bytes).await.expect("the bytes are sent");
    }

    /// The next protocol message, or None once the server has closed.
    pub async fn recv(&mut self) -> Option<Message> {
        match self.0.recv_within(WAIT).await {
            Ok(message) => Some(message),
            Err(ConnError::Silent(_)) => panic!("the server did not answer in time"),
            Err(ConnError::Unreadable(err)) => panic!("the server sent an invalid message: {err}"),
            Err(_) => None,
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

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Synced,
    Unavailable,
}

impl Replica {
    /// Exchanges sync messages with the server until `done` holds for our
    /// document and the server has acknowledged our heads, or the server
    /// says the document is unavailable.
    pub async fn sync_until(
        &mut self,
        peer: &mut Peer,
        done: impl Fn(&Automerge) -> bool,
    ) -> Outcome {
        let deadline = tokio::time::Instant::now() + WAIT;
        self.send_next(peer, true).await;
        loop {
            if done(&self.doc) && self.pushed() {
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
                    self.receive(&data)
                        .expect("the server's sync message applies");
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

    /// Sends the protocol's next message for this document, if it has one
    /// (`first`: the opening one, a `request` if we hold nothing).
    pub async fn send_next(&mut self, peer: &mut Peer, first: bool) {
        if let Some(outgoing) = self.next_message(first) {
            let message = outgoing.message(&peer.peer_id, &peer.server_id);
            peer.send(&message).await;
        }
    }
}
