//! One simulated device: its drafts as Automerge documents and the sync
//! protocol with the server over one WebSocket, as automerge-repo runs it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

pub struct Device {
    peer_id: String,
    token: String,
    drafts: HashMap<DocumentId, (Automerge, sync::State)>,
}

impl Device {
    /// A device holding `count` drafts written while offline.
    pub fn with_offline_drafts(peer_id: String, token: String, count: usize) -> Self {
        let drafts = (0..count)
            .map(|n| {
                let id = DocumentId::from_bytes(random_bytes(&peer_id, n));
                (id, (draft(n), sync::State::new()))
            })
            .collect();
        Self {
            peer_id,
            token,
            drafts,
        }
    }

    /// Connects, syncs every draft, and returns how long it took.
    pub async fn sync_all(mut self, url: String) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {}", self.token).parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        let join = Message::Join {
            sender_id: self.peer_id.clone(),
            peer_metadata: PeerMetadata {
                storage_id: Some(format!("storage-{}", self.peer_id)),
                is_ephemeral: false,
            },
            supported_protocol_versions: vec![wire::PROTOCOL_V1.to_owned()],
        };
        socket
            .send(Frame::Binary(wire::encode(&join).into()))
            .await?;
        let server_id = match next_message(&mut socket).await? {
            Message::Peer { sender_id, .. } => sender_id,
            other => bail!("expected peer, got {}", other.type_name()),
        };
        for (id, (doc, state)) in self.drafts.iter_mut() {
            if let Some(message) = doc.generate_sync_message(state) {
                let out = sync_message(&self.peer_id, &server_id, *id, message);
                socket
                    .send(Frame::Binary(wire::encode(&out).into()))
                    .await?;
            }
        }
        let mut pending: usize = self.drafts.len();
        while pending > 0 {
            let Message::Sync {
                document_id, data, ..
            } = next_message(&mut socket).await?
            else {
                continue;
            };
            let (doc, state) = self
                .drafts
                .get_mut(&document_id)
                .context("unknown document")?;
            let was_done = state.shared_heads == doc.get_heads();
            doc.receive_sync_message(state, sync::Message::decode(&data)?)?;
            if let Some(message) = doc.generate_sync_message(state) {
                let out = sync_message(&self.peer_id, &server_id, document_id, message);
                socket
                    .send(Frame::Binary(wire::encode(&out).into()))
                    .await?;
            }
            if !was_done && state.shared_heads == doc.get_heads() {
                pending -= 1;
            }
        }
        let elapsed = started.elapsed();
        let leave = Message::Leave {
            sender_id: self.peer_id.clone(),
        };
        socket
            .send(Frame::Binary(wire::encode(&leave).into()))
            .await?;
        Ok(elapsed)
    }
}

fn sync_message(peer: &str, server: &str, id: DocumentId, message: sync::Message) -> Message {
    Message::Sync {
        sender_id: peer.to_owned(),
        target_id: server.to_owned(),
        document_id: id,
        data: message.encode(),
    }
}

async fn next_message<S>(socket: &mut S) -> anyhow::Result<Message>
where
    S: StreamExt<Item = Result<Frame, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket
            .next()
            .await
            .context("server closed the connection")??
        {
            Frame::Binary(bytes) => return Ok(wire::decode(&bytes)?),
            Frame::Close(_) => bail!("server closed the connection"),
            _ => continue,
        }
    }
}

/// A draft like one typed in the car: a title and a couple of notes.
fn draft(n: usize) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "type", "fieldbook/entry").expect("map put");
    tx.put(ROOT, "status", "draft").expect("map put");
    let title = tx
        .put_object(ROOT, "title", ObjType::Text)
        .expect("map put");
    tx.splice_text(&title, 0, 0, &format!("Draft {n}: home visit reflections"))
        .expect("splice");
    let notes = tx
        .put_object(ROOT, "notes", ObjType::List)
        .expect("map put");
    for i in 0..2 {
        let note = tx.insert_object(&notes, i, ObjType::Map).expect("insert");
        let text = tx
            .put_object(&note, "text", ObjType::Text)
            .expect("map put");
        tx.splice_text(
            &text,
            0,
            0,
            "Noticed how the family responded when I explained the plan in plain words; \
             try the same approach with the next review and ask the health visitor.",
        )
        .expect("splice");
    }
    tx.commit();
    doc
}

/// Distinct document IDs without a random source: a hash of device and index.
fn random_bytes(peer_id: &str, n: usize) -> [u8; 16] {
    use std::hash::{Hash, Hasher};
    let mut out = [0u8; 16];
    for (half, chunk) in out.chunks_mut(8).enumerate() {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (peer_id, n, half, std::process::id()).hash(&mut hasher);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    out
}
