//! Simulated devices for the crash and convergence tests: a seeded random
//! source, random edits to entry documents (text fields and notes), and a
//! sync connection that reports a dropped server instead of panicking, so a
//! test can kill the server under it.

use std::net::SocketAddr;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ChangeHash, ObjType, ReadDoc, ROOT};
use fieldbook_shared::wire::{self, Message, PeerMetadata};
use fieldbook_shared::DocumentId;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

use super::WAIT;

/// xorshift64*: small, fast and, above all, the same sequence for the same
/// seed on every machine, so a failing run can be replayed.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Zero is xorshift's one fixed point.
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for byte in &mut out {
            *byte = self.next_u64() as u8;
        }
        out
    }
}

/// The seed from environment variable `var` if set (to replay a run),
/// otherwise a fresh one; printed either way so any run can be replayed.
pub fn seed_from_env(var: &str) -> u64 {
    let seed = match std::env::var(var) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a number, got {value:?}")),
        Err(_) => {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                ^ u64::from(std::process::id())
        }
    };
    println!("{var}={seed} (set it to replay this run)");
    seed
}

const WORDS: &[&str] = &[
    "supervision",
    "visit",
    "health visitor",
    "reflection",
    "podcast",
    "safeguarding",
    "learning",
    "peer",
    "impact",
    "é",
    "—",
    "🙂",
];

/// An entry document as the PWA creates it, reduced to the parts edits
/// touch: text fields and a list of notes.
pub fn new_entry(actor: ActorId) -> Automerge {
    let mut doc = Automerge::new().with_actor(actor);
    let mut tx = doc.transaction();
    tx.put(ROOT, "type", "fieldbook/entry").unwrap();
    tx.put(ROOT, "status", "draft").unwrap();
    tx.put_object(ROOT, "title", ObjType::Text).unwrap();
    tx.put_object(ROOT, "learning", ObjType::Text).unwrap();
    tx.put_object(ROOT, "notes", ObjType::List).unwrap();
    tx.commit_with(CommitOptions::default().with_time(0));
    doc
}

/// One random edit to an entry document (created by [`new_entry`]), with
/// a fixed timestamp so the same seed gives the same change hashes. Returns
/// the change, or `None` if the edit changed nothing (such as setting the
/// status it already had).
pub fn edit_entry(doc: &mut Automerge, rng: &mut Rng, device: &str) -> Option<ChangeHash> {
    let word = WORDS[rng.below(WORDS.len())];
    let mut tx = doc.transaction();
    let notes = match tx.get(ROOT, "notes").unwrap() {
        Some((_, id)) => id,
        None => tx.put_object(ROOT, "notes", ObjType::List).unwrap(),
    };
    let note_count = tx.length(&notes);
    match rng.below(10) {
        // Type into, or delete from, a long text field.
        0..=3 => {
            let field = if rng.chance(50) { "title" } else { "learning" };
            let text = match tx.get(ROOT, field).unwrap() {
                Some((_, id)) => id,
                None => tx.put_object(ROOT, field, ObjType::Text).unwrap(),
            };
            let len = tx.length(&text);
            if len > 0 && rng.chance(30) {
                let at = rng.below(len);
                let delete = 1 + rng.below((len - at).min(8));
                tx.splice_text(&text, at, delete as isize, "").unwrap();
            } else {
                let at = rng.below(len + 1);
                tx.splice_text(&text, at, 0, &format!("{word} ")).unwrap();
            }
        }
        // A new note, at the end or in between.
        4..=5 => {
            let at = rng.below(note_count + 1);
            let note = tx.insert_object(&notes, at, ObjType::Map).unwrap();
            tx.put(&note, "id", hex::encode(rng.bytes::<8>())).unwrap();
            tx.put(&note, "device", device).unwrap();
            tx.put(&note, "kind", "text").unwrap();
            let text = tx.put_object(&note, "text", ObjType::Text).unwrap();
            tx.splice_text(&text, 0, 0, word).unwrap();
        }
        // Type into a note.
        6..=7 if note_count > 0 => {
            let note = tx.get(&notes, rng.below(note_count)).unwrap().unwrap().1;
            if let Some((_, text)) = tx.get(&note, "text").unwrap() {
                let len = tx.length(&text);
                tx.splice_text(&text, rng.below(len + 1), 0, &format!(" {word}"))
                    .unwrap();
            }
        }
        // Remove a note.
        8 if note_count > 0 => {
            tx.delete(&notes, rng.below(note_count)).unwrap();
        }
        // A scalar field that concurrent edits conflict on.
        _ => {
            let status = ["draft", "ready", "recorded"][rng.below(3)];
            tx.put(ROOT, "status", status).unwrap();
        }
    }
    tx.commit_with(CommitOptions::default().with_time(0)).0
}

/// Whether `doc` holds every change in `hashes`.
pub fn has_all(doc: &Automerge, hashes: &[ChangeHash]) -> bool {
    hashes
        .iter()
        .all(|hash| doc.get_change_by_hash(hash).is_some())
}

/// A sync connection whose failures are values: `None` means the server
/// went away (killed), which the crash test expects at any moment.
pub struct Link {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    pub peer_id: String,
    pub server_id: String,
}

impl Link {
    pub async fn connect(
        addr: SocketAddr,
        token: &str,
        peer_id: &str,
        storage_id: Option<String>,
    ) -> Option<Self> {
        let mut request = format!("ws://{addr}/sync").into_client_request().ok()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().ok()?);
        let (socket, _) = tokio_tungstenite::connect_async(request).await.ok()?;
        let mut link = Self {
            socket,
            peer_id: peer_id.to_owned(),
            server_id: String::new(),
        };
        let join = Message::Join {
            sender_id: peer_id.to_owned(),
            peer_metadata: PeerMetadata {
                storage_id,
                is_ephemeral: false,
            },
            supported_protocol_versions: vec!["1".to_owned()],
        };
        link.send(&join).await?;
        match link.recv().await? {
            Message::Peer { sender_id, .. } => link.server_id = sender_id,
            other => panic!("expected a peer message, got {other:?}"),
        }
        Some(link)
    }

    pub async fn send(&mut self, message: &Message) -> Option<()> {
        self.socket
            .send(Frame::Binary(wire::encode(message).into()))
            .await
            .ok()
    }

    /// The next message; `None` once the connection is gone. A live server
    /// that says nothing for [`WAIT`] is a bug, so that panics.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a live server answers in time");
            match frame? {
                Ok(Frame::Binary(bytes)) => {
                    return Some(wire::decode(&bytes).expect("the server sends valid messages"))
                }
                Ok(Frame::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    /// Sends `doc`'s next sync message, if the protocol has one to send.
    pub async fn offer(
        &mut self,
        doc_id: DocumentId,
        doc: &Automerge,
        state: &mut sync::State,
    ) -> Option<()> {
        if let Some(message) = doc.generate_sync_message(state) {
            let message = Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: self.server_id.clone(),
                document_id: doc_id,
                data: message.encode(),
            };
            self.send(&message).await?;
        }
        Some(())
    }
}

/// Whether the sync with the server has reached its fixed point: the server
/// has all our changes and we have all of its.
pub fn in_step(doc: &Automerge, state: &sync::State) -> bool {
    let ours = doc.get_heads();
    state.shared_heads == ours && state.their_heads.as_deref() == Some(&ours[..])
}
