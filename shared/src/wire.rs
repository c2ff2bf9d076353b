//! The automerge-repo WebSocket protocol, version 1: its messages and their
//! CBOR encoding. Every message is one CBOR map with a string `type` key.
//!
//! The decoder is written for what JavaScript's cbor-x (which automerge-repo
//! uses) really sends, and for hostile input. It accepts non-minimal and
//! indefinite lengths, `undefined` or `null` for an absent field, integers
//! of 2^32 and above encoded as float64, tags around values (such as tag 64
//! on a `Uint8Array`), unknown keys holding anything, and repeated keys (the
//! last wins, as in JavaScript). It refuses anything else with an error that
//! is safe to show the sender. It never panics, bounds nesting, and keeps
//! only the fields it knows, so memory follows the message's size.
//!
//! The encoder writes minimal CBOR, except that, like cbor-x, it writes
//! counts from 2^32 up as float64 so JavaScript reads them as numbers.

use std::borrow::Cow;

use crate::ids::{DocumentId, IdError};

pub type PeerId = String;

/// The only protocol version there is.
pub const PROTOCOL_V1: &str = "1";

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;
/// The largest integer a float64 holds exactly (JavaScript's MAX_SAFE_INTEGER).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    pub storage_id: Option<String>,
    pub is_ephemeral: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Join {
        sender_id: PeerId,
        peer_metadata: PeerMetadata,
        supported_protocol_versions: Vec<String>,
    },
    Peer {
        sender_id: PeerId,
        target_id: PeerId,
        peer_metadata: PeerMetadata,
        selected_protocol_version: String,
    },
    Error {
        sender_id: PeerId,
        target_id: PeerId,
        message: String,
    },
    Leave {
        sender_id: PeerId,
    },
    Request {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    Sync {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    DocUnavailable {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
    },
    Ephemeral {
        sender_id: PeerId,
        target_id: PeerId,
        document_id: DocumentId,
        session_id: String,
        count: u64,
        data: Vec<u8>,
    },
    /// Remote-heads gossip; parsed leniently and carried no further.
    RemoteSubscriptionChange {
        sender_id: PeerId,
        target_id: PeerId,
    },
    RemoteHeadsChanged {
        sender_id: PeerId,
        target_id: PeerId,
    },
}

impl Message {
    pub fn sender_id(&self) -> &str {
        match self {
            Message::Join { sender_id, .. }
            | Message::Peer { sender_id, .. }
            | Message::Error { sender_id, .. }
            | Message::Leave { sender_id }
            | Message::Request { sender_id, .. }
            | Message::Sync { sender_id, .. }
            | Message::DocUnavailable { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. } => sender_id,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Error { .. } => "error",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
        }
    }
}

/// Why a message could not be decoded. The text never repeats what the
/// sender sent, except a message type (cut to 64 characters), so it is safe
/// to send back in an `error` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Malformed CBOR; the reason is fixed text, never input.
    #[error("not valid CBOR ({0})")]
    Cbor(&'static str),
    #[error("a message must be a CBOR map")]
    NotAMap,
    #[error("missing field {0}")]
    MissingField(&'static str),
    #[error("field {field} must be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("invalid documentId: {0}")]
    InvalidDocumentId(#[from] IdError),
    #[error("extra bytes after the message")]
    TrailingBytes,
    #[error("nested too deeply")]
    TooDeep,
}

// ------------------------------------------------------------------ decoding
//
// The decoder streams: it reads the fields messages have straight into their
// Rust types and skips everything else without keeping it. Building a tree
// of every value first would let a 16 MiB message of tiny items (say an
// unknown key holding an array of 16 million zeros) cost half a gigabyte.

/// `supportedProtocolVersions` longer than this is refused: there is one
/// version, and a list of millions of empty strings would cost 24 bytes of
/// memory for each byte of input.
const MAX_LIST_ITEMS: usize = 16;

/// What the head of one data item announces, tags looked through. For
/// strings, arrays and maps only the length (`None`: indefinite) is read;
/// the contents follow.
enum Item {
    Unsigned(u64),
    Float(f64),
    Bool(bool),
    /// `null` or `undefined`, which cbor-x writes for a JavaScript property
    /// set to `undefined`: either means the field is absent.
    Null,
    Bytes(Option<u64>),
    Text(Option<u64>),
    Array(Option<u64>),
    Map(Option<u64>),
    /// Negative integers and other simple values, which no field has.
    Other,
}

/// A field as read: absent, of the expected shape, or of another shape. A
/// wrong shape is only an error if the message type has that field, so it
/// is kept until then.
type Slot<T> = Option<Result<T, WireError>>;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], WireError> {
        let truncated = WireError::Cbor("truncated");
        let n = usize::try_from(n).map_err(|_| truncated.clone())?;
        if n > self.bytes.len() - self.pos {
            return Err(truncated);
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N as u64)?);
        Ok(out)
    }

    /// The argument of an initial byte: a value or length, `None` for
    /// indefinite. cbor-x writes non-minimal lengths (every map header is
    /// 0xb9 plus two bytes), so any width is accepted.
    fn argument(&mut self, info: u8) -> Result<Option<u64>, WireError> {
        Ok(Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.be()?)),
            26 => u64::from(u32::from_be_bytes(self.be()?)),
            27 => u64::from_be_bytes(self.be()?),
            31 => return Ok(None),
            _ => return Err(WireError::Cbor("reserved length")),
        }))
    }

    fn item(&mut self) -> Result<Item, WireError> {
        loop {
            let initial = self.byte()?;
            let (major, info) = (initial >> 5, initial & 0x1f);
            if major == 7 {
                return self.simple(info);
            }
            let argument = self.argument(info)?;
            return Ok(match (major, argument) {
                (0, Some(n)) => Item::Unsigned(n),
                (1, Some(_)) => Item::Other,
                (2, len) => Item::Bytes(len),
                (3, len) => Item::Text(len),
                (4, len) => Item::Array(len),
                (5, len) => Item::Map(len),
                // A tag (such as 64 on a Uint8Array) only annotates the item
                // after it; a loop rather than recursion, as tags can repeat.
                (6, Some(_)) => continue,
                _ => return Err(WireError::Cbor("indefinite length on a number or tag")),
            });
        }
    }

    fn simple(&mut self, info: u8) -> Result<Item, WireError> {
        Ok(match info {
            20 => Item::Bool(false),
            21 => Item::Bool(true),
            22 | 23 => Item::Null,
            0..=19 => Item::Other,
            24 => {
                self.byte()?;
                Item::Other
            }
            25 => Item::Float(half_to_f64(u16::from_be_bytes(self.be()?))),
            26 => Item::Float(f64::from(f32::from_be_bytes(self.be()?))),
            27 => Item::Float(f64::from_be_bytes(self.be()?)),
            31 => return Err(WireError::Cbor("unexpected break")),
            _ => return Err(WireError::Cbor("reserved simple value")),
        })
    }

    /// Steps through an array's items or a map's entries: true while one
    /// remains. An indefinite container ends at a break byte (0xff). Each
    /// step reads at least one byte, so a huge declared length costs no more
    /// than the input holds.
    fn next(&mut self, remaining: &mut Option<u64>) -> Result<bool, WireError> {
        match remaining {
            Some(0) => Ok(false),
            Some(n) => {
                *n -= 1;
                Ok(true)
            }
            None if self.bytes.get(self.pos) == Some(&0xff) => {
                self.pos += 1;
                Ok(false)
            }
            None => Ok(true),
        }
    }

    /// The contents of a byte (major 2) or text (major 3) string, joining
    /// the chunks of an indefinite one.
    fn string(&mut self, len: Option<u64>, major: u8) -> Result<Cow<'a, [u8]>, WireError> {
        if let Some(len) = len {
            return Ok(Cow::Borrowed(self.take(len)?));
        }
        let mut out = Vec::new();
        let mut chunks = None;
        while self.next(&mut chunks)? {
            let initial = self.byte()?;
            if initial >> 5 != major {
                return Err(WireError::Cbor("bad string chunk"));
            }
            let len = self
                .argument(initial & 0x1f)?
                .ok_or(WireError::Cbor("bad string chunk"))?;
            out.extend_from_slice(self.take(len)?);
        }
        Ok(Cow::Owned(out))
    }

    fn text(&mut self, len: Option<u64>) -> Result<String, WireError> {
        String::from_utf8(self.string(len, 3)?.into_owned())
            .map_err(|_| WireError::Cbor("text is not UTF-8"))
    }

    /// Reads past the rest of an item whose head has been read; `depth` is
    /// how deeply it is nested.
    fn finish(&mut self, item: Item, depth: usize) -> Result<(), WireError> {
        let (mut remaining, items_per_step) = match item {
            Item::Bytes(len) => return self.string(len, 2).map(drop),
            Item::Text(len) => return self.string(len, 3).map(drop),
            Item::Array(len) => (len, 1),
            Item::Map(len) => (len, 2),
            _ => return Ok(()),
        };
        if depth >= MAX_DEPTH {
            return Err(WireError::TooDeep);
        }
        while self.next(&mut remaining)? {
            for _ in 0..items_per_step {
                let item = self.item()?;
                self.finish(item, depth + 1)?;
            }
        }
        Ok(())
    }

    /// A map key: its bytes if it is a string (unchecked: keys are only
    /// compared with ours), `None` for any other key, which is skipped.
    fn key(&mut self, depth: usize) -> Result<Option<Cow<'a, [u8]>>, WireError> {
        match self.item()? {
            Item::Text(len) => self.string(len, 3).map(Some),
            other => self.finish(other, depth).map(|()| None),
        }
    }

    /// Skips a value of another shape than a field's, and says so.
    fn wrong(
        &mut self,
        item: Item,
        depth: usize,
        field: &'static str,
        expected: &'static str,
    ) -> Result<WireError, WireError> {
        self.finish(item, depth)?;
        Ok(WireError::WrongType { field, expected })
    }

    fn text_field(&mut self, depth: usize, field: &'static str) -> Result<Slot<String>, WireError> {
        Ok(match self.item()? {
            Item::Null => None,
            Item::Text(len) => Some(Ok(self.text(len)?)),
            other => Some(Err(self.wrong(other, depth, field, "a string")?)),
        })
    }

    fn bytes_field(
        &mut self,
        depth: usize,
        field: &'static str,
    ) -> Result<Slot<Vec<u8>>, WireError> {
        Ok(match self.item()? {
            Item::Null => None,
            Item::Bytes(len) => Some(Ok(self.string(len, 2)?.into_owned())),
            other => Some(Err(self.wrong(other, depth, field, "a byte string")?)),
        })
    }

    fn bool_field(&mut self, depth: usize, field: &'static str) -> Result<Slot<bool>, WireError> {
        Ok(match self.item()? {
            Item::Null => None,
            Item::Bool(flag) => Some(Ok(flag)),
            other => Some(Err(self.wrong(other, depth, field, "a boolean")?)),
        })
    }

    fn count_field(&mut self, depth: usize, field: &'static str) -> Result<Slot<u64>, WireError> {
        Ok(match self.item()? {
            Item::Null => None,
            Item::Unsigned(n) => Some(Ok(n)),
            // cbor-x writes integers of 2^32 and above as float64.
            Item::Float(f) if (0.0..=MAX_SAFE_INTEGER as f64).contains(&f) && f.fract() == 0.0 => {
                Some(Ok(f as u64))
            }
            other => Some(Err(self.wrong(
                other,
                depth,
                field,
                "a non-negative integer",
            )?)),
        })
    }

    fn text_list_field(
        &mut self,
        depth: usize,
        field: &'static str,
    ) -> Result<Slot<Vec<String>>, WireError> {
        let mut remaining = match self.item()? {
            Item::Null => return Ok(None),
            Item::Array(len) => len,
            other => {
                return Ok(Some(Err(self.wrong(
                    other,
                    depth,
                    field,
                    "a list of strings",
                )?)))
            }
        };
        // Once an item is not a string, or there are too many, the rest is
        // only read past.
        let mut items = Some(Vec::new());
        while self.next(&mut remaining)? {
            match (self.item()?, &mut items) {
                (Item::Text(len), Some(list)) if list.len() < MAX_LIST_ITEMS => {
                    list.push(self.text(len)?);
                }
                (other, _) => {
                    self.finish(other, depth + 1)?;
                    items = None;
                }
            }
        }
        Ok(Some(items.ok_or(WireError::WrongType {
            field,
            expected: "a list of at most 16 strings",
        })))
    }

    fn metadata_field(
        &mut self,
        depth: usize,
        field: &'static str,
    ) -> Result<Slot<PeerMetadata>, WireError> {
        let mut remaining = match self.item()? {
            Item::Null => return Ok(None),
            Item::Map(len) => len,
            other => return Ok(Some(Err(self.wrong(other, depth, field, "a map")?))),
        };
        let (mut storage_id, mut is_ephemeral) = (None, None);
        while self.next(&mut remaining)? {
            match self.key(depth + 1)?.as_deref() {
                Some(b"storageId") => storage_id = self.text_field(depth + 1, "storageId")?,
                Some(b"isEphemeral") => is_ephemeral = self.bool_field(depth + 1, "isEphemeral")?,
                _ => {
                    let item = self.item()?;
                    self.finish(item, depth + 1)?;
                }
            }
        }
        Ok(Some(
            match (storage_id.transpose(), is_ephemeral.transpose()) {
                (Ok(storage_id), Ok(is_ephemeral)) => Ok(PeerMetadata {
                    storage_id,
                    is_ephemeral: is_ephemeral.unwrap_or(false),
                }),
                (Err(error), _) | (_, Err(error)) => Err(error),
            },
        ))
    }
}

fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    }
}

/// Every field any message has. Each name has one shape whatever the
/// message type. A repeated key keeps its last value, as JavaScript's
/// decoder does.
#[derive(Default)]
struct Fields {
    kind: Slot<String>,
    sender_id: Slot<String>,
    target_id: Slot<String>,
    document_id: Slot<String>,
    session_id: Slot<String>,
    message: Slot<String>,
    selected_protocol_version: Slot<String>,
    data: Slot<Vec<u8>>,
    count: Slot<u64>,
    supported_protocol_versions: Slot<Vec<String>>,
    peer_metadata: Slot<PeerMetadata>,
}

impl Fields {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let Item::Map(mut remaining) = r.item()? else {
            return Err(WireError::NotAMap);
        };
        let mut f = Fields::default();
        while r.next(&mut remaining)? {
            match r.key(1)?.as_deref() {
                Some(b"type") => f.kind = r.text_field(1, "type")?,
                Some(b"senderId") => f.sender_id = r.text_field(1, "senderId")?,
                Some(b"targetId") => f.target_id = r.text_field(1, "targetId")?,
                Some(b"documentId") => f.document_id = r.text_field(1, "documentId")?,
                Some(b"sessionId") => f.session_id = r.text_field(1, "sessionId")?,
                Some(b"message") => f.message = r.text_field(1, "message")?,
                Some(b"selectedProtocolVersion") => {
                    f.selected_protocol_version = r.text_field(1, "selectedProtocolVersion")?;
                }
                Some(b"data") => f.data = r.bytes_field(1, "data")?,
                Some(b"count") => f.count = r.count_field(1, "count")?,
                Some(b"supportedProtocolVersions") => {
                    f.supported_protocol_versions =
                        r.text_list_field(1, "supportedProtocolVersions")?;
                }
                Some(b"peerMetadata") => f.peer_metadata = r.metadata_field(1, "peerMetadata")?,
                // Unknown keys, such as remote-heads gossip's `newHeads`.
                _ => {
                    let item = r.item()?;
                    r.finish(item, 1)?;
                }
            }
        }
        Ok(f)
    }

    fn into_message(self) -> Result<Message, WireError> {
        let kind = required(self.kind, "type")?;
        let sender_id = required(self.sender_id, "senderId")?;
        let target_id = || required(self.target_id, "targetId");
        Ok(match kind.as_str() {
            "join" => Message::Join {
                sender_id,
                peer_metadata: self.peer_metadata.transpose()?.unwrap_or_default(),
                supported_protocol_versions: required(
                    self.supported_protocol_versions,
                    "supportedProtocolVersions",
                )?,
            },
            "peer" => Message::Peer {
                sender_id,
                target_id: target_id()?,
                peer_metadata: self.peer_metadata.transpose()?.unwrap_or_default(),
                selected_protocol_version: required(
                    self.selected_protocol_version,
                    "selectedProtocolVersion",
                )?,
            },
            "error" => Message::Error {
                sender_id,
                target_id: target_id()?,
                message: required(self.message, "message")?,
            },
            "leave" => Message::Leave { sender_id },
            "request" => Message::Request {
                sender_id,
                target_id: target_id()?,
                document_id: document_id(self.document_id)?,
                data: required(self.data, "data")?,
            },
            "sync" => Message::Sync {
                sender_id,
                target_id: target_id()?,
                document_id: document_id(self.document_id)?,
                data: required(self.data, "data")?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender_id,
                target_id: target_id()?,
                document_id: document_id(self.document_id)?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id,
                target_id: target_id()?,
                document_id: document_id(self.document_id)?,
                session_id: required(self.session_id, "sessionId")?,
                count: required(self.count, "count")?,
                data: required(self.data, "data")?,
            },
            // Remote-heads gossip: only who it is from and to matters here.
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender_id,
                target_id: target_id()?,
            },
            "remote-heads-changed" => Message::RemoteHeadsChanged {
                sender_id,
                target_id: target_id()?,
            },
            other => return Err(WireError::UnknownType(other.chars().take(64).collect())),
        })
    }
}

fn required<T>(slot: Slot<T>, field: &'static str) -> Result<T, WireError> {
    slot.unwrap_or(Err(WireError::MissingField(field)))
}

fn document_id(slot: Slot<String>) -> Result<DocumentId, WireError> {
    Ok(DocumentId::parse(&required(slot, "documentId")?)?)
}

pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let mut reader = Reader { bytes, pos: 0 };
    let fields = Fields::read(&mut reader)?;
    if reader.pos != bytes.len() {
        return Err(WireError::TrailingBytes);
    }
    fields.into_message()
}

// ------------------------------------------------------------------ encoding

/// Minimal (canonical-length) CBOR, apart from counts (see `count`).
struct Writer(Vec<u8>);

impl Writer {
    fn head(&mut self, major: u8, n: u64) {
        let major = major << 5;
        match n {
            0..=23 => self.0.push(major | n as u8),
            24..=0xff => self.0.extend([major | 24, n as u8]),
            0x100..=0xffff => {
                self.0.push(major | 25);
                self.0.extend((n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(major | 26);
                self.0.extend((n as u32).to_be_bytes());
            }
            _ => {
                self.0.push(major | 27);
                self.0.extend(n.to_be_bytes());
            }
        }
    }

    fn text(&mut self, text: &str) {
        self.head(3, text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.head(2, bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    /// A count as cbor-x writes it: from 2^32 up as a float64, which
    /// JavaScript decodes to a number, where an 8-byte integer would come out
    /// as a BigInt. Beyond MAX_SAFE_INTEGER a float would lose digits.
    fn count(&mut self, n: u64) {
        if n > u64::from(u32::MAX) && n <= MAX_SAFE_INTEGER {
            self.0.push(0xfb);
            self.0.extend((n as f64).to_be_bytes());
        } else {
            self.head(0, n);
        }
    }

    fn bool(&mut self, flag: bool) {
        self.0.push(if flag { 0xf5 } else { 0xf4 });
    }

    fn entry_text(&mut self, key: &str, value: &str) {
        self.text(key);
        self.text(value);
    }

    fn peer_metadata(&mut self, metadata: &PeerMetadata) {
        self.text("peerMetadata");
        self.head(5, 1 + u64::from(metadata.storage_id.is_some()));
        if let Some(storage_id) = &metadata.storage_id {
            self.entry_text("storageId", storage_id);
        }
        self.text("isEphemeral");
        self.bool(metadata.is_ephemeral);
    }
}

pub fn encode(message: &Message) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64));
    match message {
        Message::Join {
            sender_id,
            peer_metadata,
            supported_protocol_versions,
        } => {
            w.head(5, 4);
            w.entry_text("type", "join");
            w.entry_text("senderId", sender_id);
            w.peer_metadata(peer_metadata);
            w.text("supportedProtocolVersions");
            w.head(4, supported_protocol_versions.len() as u64);
            for version in supported_protocol_versions {
                w.text(version);
            }
        }
        Message::Peer {
            sender_id,
            target_id,
            peer_metadata,
            selected_protocol_version,
        } => {
            w.head(5, 5);
            w.entry_text("type", "peer");
            w.entry_text("senderId", sender_id);
            w.entry_text("targetId", target_id);
            w.peer_metadata(peer_metadata);
            w.entry_text("selectedProtocolVersion", selected_protocol_version);
        }
        Message::Error {
            sender_id,
            target_id,
            message,
        } => {
            w.head(5, 4);
            w.entry_text("type", "error");
            w.entry_text("senderId", sender_id);
            w.entry_text("targetId", target_id);
            w.entry_text("message", message);
        }
        Message::Leave { sender_id } => {
            w.head(5, 2);
            w.entry_text("type", "leave");
            w.entry_text("senderId", sender_id);
        }
        Message::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | Message::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        } => {
            w.head(5, 5);
            w.entry_text("type", message.type_name());
            w.entry_text("senderId", sender_id);
            w.entry_text("targetId", target_id);
            w.entry_text("documentId", &document_id.to_string());
            w.text("data");
            w.bytes(data);
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            w.head(5, 4);
            w.entry_text("type", "doc-unavailable");
            w.entry_text("senderId", sender_id);
            w.entry_text("targetId", target_id);
            w.entry_text("documentId", &document_id.to_string());
        }
        Message::Ephemeral {
            sender_id,
            target_id,
            document_id,
            session_id,
            count,
            data,
        } => {
            w.head(5, 7);
            w.entry_text("type", "ephemeral");
            w.entry_text("senderId", sender_id);
            w.entry_text("targetId", target_id);
            w.entry_text("documentId", &document_id.to_string());
            w.entry_text("sessionId", session_id);
            w.text("count");
            w.count(*count);
            w.text("data");
            w.bytes(data);
        }
        Message::RemoteSubscriptionChange {
            sender_id,
            target_id,
        }
        | Message::RemoteHeadsChanged {
            sender_id,
            target_id,
        } => {
            w.head(5, 3);
            w.entry_text("type", message.type_name());
            w.entry_text("senderId", sender_id);
            w.entry_text("targetId", target_id);
        }
    }
    w.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = include_str!("../tests/fixtures/cbor_x_messages.json");
    const DOC: &str = "rbz1S5z2CVx48nJZm4PggB34oZk";

    /// One of the messages make_fixtures.mjs had cbor-x encode.
    fn fixture(name: &str) -> Vec<u8> {
        let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
        let hex = all[name].as_str().unwrap();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Replaces the first occurrence of `from` with `to`, which has the same length.
    fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = haystack
            .windows(from.len())
            .position(|w| w == from)
            .unwrap();
        let mut out = haystack.to_vec();
        out[at..at + to.len()].copy_from_slice(to);
        out
    }

    /// A map with text keys, each value given as raw CBOR.
    fn map(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = vec![0xa0 | entries.len() as u8];
        for (key, value) in entries {
            out.extend(text(key));
            out.extend(*value);
        }
        out
    }

    /// A text string of fewer than 256 bytes as raw CBOR.
    fn text(s: &str) -> Vec<u8> {
        let mut out = match s.len() {
            0..=23 => vec![0x60 | s.len() as u8],
            len => vec![0x78, len as u8],
        };
        out.extend(s.as_bytes());
        out
    }

    fn doc() -> DocumentId {
        DocumentId::parse(DOC).unwrap()
    }

    #[test]
    fn decodes_what_cbor_x_encodes() {
        let (peer, server) = ("peer-abc".to_owned(), "server".to_owned());
        let data = vec![0x42, 0, 1, 2, 3];
        let sync = Message::Sync {
            sender_id: peer.clone(),
            target_id: server.clone(),
            document_id: doc(),
            data: data.clone(),
        };
        let ephemeral = |count| Message::Ephemeral {
            sender_id: peer.clone(),
            target_id: server.clone(),
            document_id: doc(),
            session_id: "s1".into(),
            count,
            data: data.clone(),
        };
        let leave = Message::Leave {
            sender_id: peer.clone(),
        };
        let cases = [
            (
                "join",
                Message::Join {
                    sender_id: peer.clone(),
                    peer_metadata: PeerMetadata {
                        storage_id: Some("store-1".into()),
                        is_ephemeral: false,
                    },
                    supported_protocol_versions: vec!["1".into()],
                },
            ),
            (
                "peer",
                Message::Peer {
                    sender_id: server.clone(),
                    target_id: peer.clone(),
                    peer_metadata: PeerMetadata {
                        storage_id: Some("store-2".into()),
                        is_ephemeral: false,
                    },
                    selected_protocol_version: "1".into(),
                },
            ),
            (
                "error",
                Message::Error {
                    sender_id: server.clone(),
                    target_id: peer.clone(),
                    message: "unsupported protocol version".into(),
                },
            ),
            ("leave", leave.clone()),
            (
                "request",
                Message::Request {
                    sender_id: peer.clone(),
                    target_id: server.clone(),
                    document_id: doc(),
                    data: data.clone(),
                },
            ),
            ("sync", sync.clone()),
            // cbor-x's default options wrap the Uint8Array in tag 64.
            ("syncTagged", sync),
            (
                "docUnavailable",
                Message::DocUnavailable {
                    sender_id: peer.clone(),
                    target_id: server.clone(),
                    document_id: doc(),
                },
            ),
            ("ephemeral", ephemeral(2)),
            // 2^40 arrives as a float64.
            ("ephemeralBigCount", ephemeral(1 << 40)),
            (
                "remoteSubscriptionChange",
                Message::RemoteSubscriptionChange {
                    sender_id: peer.clone(),
                    target_id: server.clone(),
                },
            ),
            (
                "remoteHeadsChanged",
                Message::RemoteHeadsChanged {
                    sender_id: peer.clone(),
                    target_id: server.clone(),
                },
            ),
            // `storageId: undefined` is written as 0xf7.
            (
                "undefinedField",
                Message::Join {
                    sender_id: peer.clone(),
                    peer_metadata: PeerMetadata {
                        storage_id: None,
                        is_ephemeral: true,
                    },
                    supported_protocol_versions: vec!["1".into()],
                },
            ),
            ("unknownNestedKey", leave),
        ];
        for (name, expected) in cases {
            assert_eq!(decode(&fixture(name)), Ok(expected), "{name}");
        }
    }

    fn every_kind() -> Vec<Message> {
        let (s, t) = ("peer-1".to_owned(), "server-1".to_owned());
        vec![
            Message::Join {
                sender_id: s.clone(),
                peer_metadata: PeerMetadata {
                    storage_id: Some("st".into()),
                    is_ephemeral: false,
                },
                supported_protocol_versions: vec!["1".into()],
            },
            Message::Peer {
                sender_id: s.clone(),
                target_id: t.clone(),
                peer_metadata: PeerMetadata::default(),
                selected_protocol_version: "1".into(),
            },
            Message::Error {
                sender_id: s.clone(),
                target_id: t.clone(),
                message: "no".into(),
            },
            Message::Leave {
                sender_id: s.clone(),
            },
            Message::Request {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc(),
                data: vec![1; 300],
            },
            Message::Sync {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc(),
                data: vec![2; 70_000],
            },
            Message::DocUnavailable {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc(),
            },
            Message::Ephemeral {
                sender_id: s.clone(),
                target_id: t.clone(),
                document_id: doc(),
                session_id: "x".into(),
                count: u64::from(u32::MAX) + 7,
                data: vec![3],
            },
            Message::RemoteSubscriptionChange {
                sender_id: s.clone(),
                target_id: t.clone(),
            },
            Message::RemoteHeadsChanged {
                sender_id: s,
                target_id: t,
            },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        let mut messages = every_kind();
        // Too large for a float64 to hold exactly, so written as an integer.
        messages.push(Message::Ephemeral {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc(),
            session_id: "s".into(),
            count: u64::MAX,
            data: vec![],
        });
        for message in messages {
            assert_eq!(
                decode(&encode(&message)),
                Ok(message.clone()),
                "{}",
                message.type_name()
            );
        }
    }

    #[test]
    fn encodes_as_cbor_x_does_but_with_minimal_map_headers() {
        for name in [
            "join",
            "peer",
            "error",
            "leave",
            "request",
            "sync",
            "docUnavailable",
            "ephemeral",
            "ephemeralBigCount",
        ] {
            let cbor_x = fixture(name);
            // cbor-x writes every map header as b9 and a two-byte length; no
            // other bytes in these fixtures are b9.
            let mut expected = Vec::new();
            let mut i = 0;
            while i < cbor_x.len() {
                if cbor_x[i] == 0xb9 {
                    expected.push(0xa0 | cbor_x[i + 2]);
                    i += 3;
                } else {
                    expected.push(cbor_x[i]);
                    i += 1;
                }
            }
            assert_eq!(encode(&decode(&cbor_x).unwrap()), expected, "{name}");
        }
        // No storageId key when there is none.
        let peer = encode(&every_kind()[1]);
        assert!(!peer.windows(9).any(|w| w == b"storageId"));
    }

    #[test]
    fn refuses_what_is_not_a_message() {
        let bad_text = map(&[("type", &[0x62, 0xff, 0xfe])]);
        let cases: Vec<(Vec<u8>, WireError)> = vec![
            (vec![], WireError::Cbor("truncated")),
            (vec![0x83, 1, 2, 3], WireError::NotAMap),
            (text("leave"), WireError::NotAMap),
            (vec![0xa0], WireError::MissingField("type")),
            (vec![0xa0, 0x00], WireError::TrailingBytes),
            (vec![0xbc], WireError::Cbor("reserved length")),
            (vec![0xbf], WireError::Cbor("truncated")),
            // A map claiming 2^64 - 1 entries in a few bytes.
            (
                vec![0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                WireError::Cbor("truncated"),
            ),
            (bad_text, WireError::Cbor("text is not UTF-8")),
            (map(&[("x", &[0xff])]), WireError::Cbor("unexpected break")),
            (
                map(&[("x", &[0x7f, 0x41, 0x00, 0xff])]),
                WireError::Cbor("bad string chunk"),
            ),
            (
                map(&[("type", &text("leave"))]),
                WireError::MissingField("senderId"),
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(decode(&bytes), Err(expected), "{bytes:02x?}");
        }
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let mut sync = fixture("sync");
        // Turn the data byte string (0x45 + 5 bytes) into a text string.
        let at = sync.len() - 6;
        assert_eq!(sync[at], 0x45);
        sync[at] = 0x65;
        sync.truncate(sync.len() - 5);
        sync.extend(b"hello");
        assert_eq!(
            decode(&sync),
            Err(WireError::WrongType {
                field: "data",
                expected: "a byte string"
            })
        );

        let renamed = replace_bytes(&fixture("leave"), b"leave", b"leapt");
        assert_eq!(
            decode(&renamed),
            Err(WireError::UnknownType("leapt".into()))
        );

        // One digit changed: the checksum no longer matches.
        let bad_doc = replace_bytes(
            &fixture("docUnavailable"),
            DOC.as_bytes(),
            b"rbz1S5z2CVx48nJZm4PggB34oZm",
        );
        assert_eq!(
            decode(&bad_doc),
            Err(WireError::InvalidDocumentId(IdError::NotBase58Check))
        );

        let join = |metadata: &[u8]| {
            decode(&map(&[
                ("type", &text("join")),
                ("senderId", &text("p")),
                ("peerMetadata", metadata),
                ("supportedProtocolVersions", &[0x81, 0x61, b'1']),
            ]))
        };
        assert_eq!(
            join(&map(&[("isEphemeral", &[0x01])])),
            Err(WireError::WrongType {
                field: "isEphemeral",
                expected: "a boolean"
            })
        );
        assert_eq!(
            join(&[0x80]),
            Err(WireError::WrongType {
                field: "peerMetadata",
                expected: "a map"
            })
        );
        // Metadata is optional; its unknown keys are ignored.
        assert!(join(&[0xf6]).is_ok());
        assert!(join(&map(&[("other", &[0xa1, 0x01, 0x02])])).is_ok());
    }

    #[test]
    fn wrong_shapes_only_matter_in_fields_the_type_has() {
        // A leave has no data, so data of the wrong shape is ignored.
        let leave = map(&[
            ("type", &text("leave")),
            ("senderId", &text("p")),
            ("data", &text("not bytes")),
            ("count", &[0x20]),
        ]);
        assert_eq!(
            decode(&leave),
            Ok(Message::Leave {
                sender_id: "p".into()
            })
        );
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        let bytes = map(&[
            ("type", &text("sync")),
            ("senderId", &text("a")),
            ("senderId", &text("b")),
            ("type", &text("leave")),
        ]);
        assert_eq!(
            decode(&bytes),
            Ok(Message::Leave {
                sender_id: "b".into()
            })
        );
        // A later undefined makes the field absent again.
        let bytes = map(&[
            ("type", &text("leave")),
            ("senderId", &text("a")),
            ("senderId", &[0xf7]),
        ]);
        assert_eq!(decode(&bytes), Err(WireError::MissingField("senderId")));
    }

    #[test]
    fn accepts_indefinite_lengths_and_tags() {
        // {_ "type": 64("leave"), "senderId": (_ "pe", "er"), 1: [_ 2]} under tag 55799.
        let mut bytes = vec![0xd9, 0xd9, 0xf7, 0xbf];
        bytes.extend(text("type"));
        bytes.extend([0xd8, 0x40]);
        bytes.extend(text("leave"));
        bytes.extend(text("senderId"));
        bytes.push(0x7f);
        bytes.extend(text("pe"));
        bytes.extend(text("er"));
        bytes.push(0xff);
        bytes.extend([0x01, 0x9f, 0x02, 0xff]);
        bytes.push(0xff);
        assert_eq!(
            decode(&bytes),
            Ok(Message::Leave {
                sender_id: "peer".into()
            })
        );
    }

    #[test]
    fn count_accepts_integral_floats_only() {
        let count = |value: &[u8]| {
            decode(&map(&[
                ("type", &text("ephemeral")),
                ("senderId", &text("a")),
                ("targetId", &text("b")),
                ("documentId", &text(DOC)),
                ("sessionId", &text("s")),
                ("count", value),
                ("data", &[0x40]),
            ]))
            .map(|message| match message {
                Message::Ephemeral { count, .. } => count,
                _ => unreachable!(),
            })
        };
        assert_eq!(count(&[0xf9, 0x40, 0x00]), Ok(2)); // half float 2.0
        assert_eq!(count(&[0xfa, 0x4f, 0x80, 0x00, 0x00]), Ok(1 << 32)); // float32
        assert_eq!(count(&[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]), Ok(1 << 32));
        let wrong = Err(WireError::WrongType {
            field: "count",
            expected: "a non-negative integer",
        });
        for bad in [
            &[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0][..], // 1.5
            &[0xf9, 0xbc, 0x00],                       // -1.0
            &[0xf9, 0x7e, 0x00],                       // NaN
            &[0xf9, 0x7c, 0x00],                       // infinity
            &[0xfb, 0x43, 0x40, 0, 0, 0, 0, 0, 0],     // 2^53, beyond MAX_SAFE_INTEGER
            &[0x20],                                   // -1
        ] {
            assert_eq!(count(bad), wrong, "{bad:02x?}");
        }
    }

    #[test]
    fn long_version_lists_are_refused() {
        let mut versions = vec![0x91];
        versions.extend([0x61, b'1'].repeat(17));
        let bytes = map(&[
            ("type", &text("join")),
            ("senderId", &text("p")),
            ("supportedProtocolVersions", &versions),
        ]);
        assert_eq!(
            decode(&bytes),
            Err(WireError::WrongType {
                field: "supportedProtocolVersions",
                expected: "a list of at most 16 strings"
            })
        );
    }

    #[test]
    fn errors_do_not_echo_the_input() {
        let long_type = "x".repeat(1000);
        let mut type_value = vec![0x79, 0x03, 0xe8];
        type_value.extend(long_type.as_bytes());
        let bytes = map(&[("type", &type_value), ("senderId", &text("p"))]);
        let error = decode(&bytes).unwrap_err().to_string();
        assert_eq!(error, format!("unknown message type {:?}", "x".repeat(64)));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut bytes = map(&[("x", &[])]);
        bytes.extend(std::iter::repeat_n(0x81, 10_000));
        bytes.push(0x00);
        assert_eq!(decode(&bytes), Err(WireError::TooDeep));
        // Tags are looked through in a loop, so many of them are harmless.
        let mut tagged = vec![0xc6; 100_000];
        tagged.extend(encode(&every_kind()[3]));
        assert!(decode(&tagged).is_ok());
    }

    /// Every prefix and thousands of random mutations of valid messages
    /// decode to a message or an error, never a panic.
    #[test]
    fn hostile_bytes_never_panic() {
        // xorshift64: deterministic, and no dependency.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut samples: Vec<Vec<u8>> = every_kind().iter().map(encode).collect();
        for name in [
            "join",
            "sync",
            "ephemeralBigCount",
            "unknownNestedKey",
            "remoteHeadsChanged",
        ] {
            samples.push(fixture(name));
        }
        for sample in &samples {
            for end in 0..sample.len().min(400) {
                assert!(decode(&sample[..end]).is_err());
            }
            for _ in 0..500 {
                let mut mutated = sample.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % mutated.len();
                    mutated[at] = next() as u8;
                }
                let _ = decode(&mutated);
            }
        }
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = decode(&noise);
        }
    }
}
