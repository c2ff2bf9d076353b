//! The automerge-repo WebSocket protocol, version 1: its messages and their
//! CBOR encoding. Every message is one CBOR map with a string `type` key.
//!
//! The decoder is written for what JavaScript's cbor-x (which automerge-repo
//! uses) really sends, and for hostile input: it accepts non-minimal and
//! indefinite lengths, `undefined` or `null` for an absent optional field,
//! integers above 32 bits encoded as float64, tags around values (such as
//! tag 64 on a `Uint8Array`) and unknown keys of any type; it refuses
//! anything else with an error that is safe to show the sender, bounds
//! nesting and never allocates more than the input could hold.

use crate::ids::{DocumentId, IdError};

pub type PeerId = String;

/// The only protocol version there is.
pub const PROTOCOL_V1: &str = "1";

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;
/// The largest integer a float64 holds exactly (JavaScript's MAX_SAFE_INTEGER).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
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

/// A decoded CBOR data item. Tags are dropped; only what messages use is kept.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Unsigned(u64),
    Negative,
    Float(f64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Bool(bool),
    /// `null`, `undefined` and other simple values: "no value".
    Nothing,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// What an initial byte announces.
enum Head {
    Definite(u64),
    Indefinite,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError::Cbor("truncated"));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, info: u8) -> Result<Head, WireError> {
        Ok(Head::Definite(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().expect("2 bytes"),
            )),
            26 => u64::from(u32::from_be_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            )),
            27 => u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")),
            31 => return Ok(Head::Indefinite),
            _ => return Err(WireError::Cbor("reserved length")),
        }))
    }

    /// A length that the rest of the input could actually hold, each item
    /// taking at least `min_item_bytes`.
    fn length(&self, len: u64, min_item_bytes: usize) -> Result<usize, WireError> {
        let len = usize::try_from(len).map_err(|_| WireError::Cbor("length too large"))?;
        if len.saturating_mul(min_item_bytes) > self.remaining() {
            return Err(WireError::Cbor("truncated"));
        }
        Ok(len)
    }

    fn is_break(&self) -> bool {
        self.bytes.get(self.pos) == Some(&0xff)
    }

    fn value(&mut self, depth: usize) -> Result<Value, WireError> {
        if depth > MAX_DEPTH {
            return Err(WireError::TooDeep);
        }
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        match major {
            0 => match self.uint(info)? {
                Head::Definite(n) => Ok(Value::Unsigned(n)),
                Head::Indefinite => Err(WireError::Cbor("indefinite integer")),
            },
            1 => match self.uint(info)? {
                Head::Definite(_) => Ok(Value::Negative),
                Head::Indefinite => Err(WireError::Cbor("indefinite integer")),
            },
            2 => Ok(Value::Bytes(self.chunks(info, 2)?)),
            3 => {
                let bytes = self.chunks(info, 3)?;
                String::from_utf8(bytes)
                    .map(Value::Text)
                    .map_err(|_| WireError::Cbor("text is not UTF-8"))
            }
            4 => {
                let mut items = Vec::new();
                match self.uint(info)? {
                    Head::Definite(len) => {
                        let len = self.length(len, 1)?;
                        items.reserve(len);
                        for _ in 0..len {
                            items.push(self.value(depth + 1)?);
                        }
                    }
                    Head::Indefinite => {
                        while !self.is_break() {
                            items.push(self.value(depth + 1)?);
                        }
                        self.pos += 1;
                    }
                }
                Ok(Value::Array(items))
            }
            5 => {
                let mut entries = Vec::new();
                match self.uint(info)? {
                    Head::Definite(len) => {
                        let len = self.length(len, 2)?;
                        entries.reserve(len);
                        for _ in 0..len {
                            entries.push((self.value(depth + 1)?, self.value(depth + 1)?));
                        }
                    }
                    Head::Indefinite => {
                        while !self.is_break() {
                            entries.push((self.value(depth + 1)?, self.value(depth + 1)?));
                        }
                        self.pos += 1;
                    }
                }
                Ok(Value::Map(entries))
            }
            6 => match self.uint(info)? {
                Head::Definite(_) => self.value(depth + 1),
                Head::Indefinite => Err(WireError::Cbor("indefinite tag")),
            },
            _ => self.simple(info),
        }
    }

    fn simple(&mut self, info: u8) -> Result<Value, WireError> {
        match info {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            25 => {
                let bits = u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes"));
                Ok(Value::Float(half_to_f64(bits)))
            }
            26 => {
                let bits = u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes"));
                Ok(Value::Float(f64::from(f32::from_bits(bits))))
            }
            27 => {
                let bits = u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes"));
                Ok(Value::Float(f64::from_bits(bits)))
            }
            24 => {
                self.byte()?;
                Ok(Value::Nothing)
            }
            0..=23 => Ok(Value::Nothing),
            31 => Err(WireError::Cbor("unexpected break")),
            _ => Err(WireError::Cbor("reserved simple value")),
        }
    }

    /// The bytes of a byte or text string, joining indefinite-length chunks.
    fn chunks(&mut self, info: u8, major: u8) -> Result<Vec<u8>, WireError> {
        match self.uint(info)? {
            Head::Definite(len) => {
                let len = self.length(len, 1)?;
                Ok(self.take(len)?.to_vec())
            }
            Head::Indefinite => {
                let mut out = Vec::new();
                while !self.is_break() {
                    let initial = self.byte()?;
                    if initial >> 5 != major {
                        return Err(WireError::Cbor("mixed string chunks"));
                    }
                    match self.uint(initial & 0x1f)? {
                        Head::Definite(len) => {
                            let len = self.length(len, 1)?;
                            out.extend_from_slice(self.take(len)?);
                        }
                        Head::Indefinite => {
                            return Err(WireError::Cbor("nested indefinite string"))
                        }
                    }
                }
                self.pos += 1;
                Ok(out)
            }
        }
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

/// The fields of one message map, looked up by name. A repeated key keeps
/// its last value, as JavaScript's decoder does.
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
            .filter(|value| **value != Value::Nothing)
    }

    fn text(&self, field: &'static str) -> Result<String, WireError> {
        match self.get(field) {
            Some(Value::Text(text)) => Ok(text.clone()),
            Some(_) => Err(WireError::WrongType {
                field,
                expected: "a string",
            }),
            None => Err(WireError::MissingField(field)),
        }
    }

    fn optional_text(&self, field: &'static str) -> Result<Option<String>, WireError> {
        match self.get(field) {
            None => Ok(None),
            Some(_) => self.text(field).map(Some),
        }
    }

    fn bytes(&self, field: &'static str) -> Result<Vec<u8>, WireError> {
        match self.get(field) {
            Some(Value::Bytes(bytes)) => Ok(bytes.clone()),
            Some(_) => Err(WireError::WrongType {
                field,
                expected: "a byte string",
            }),
            None => Err(WireError::MissingField(field)),
        }
    }

    fn document_id(&self) -> Result<DocumentId, WireError> {
        Ok(DocumentId::parse(&self.text("documentId")?)?)
    }

    fn count(&self, field: &'static str) -> Result<u64, WireError> {
        let wrong = WireError::WrongType {
            field,
            expected: "a non-negative integer",
        };
        match self.get(field) {
            Some(Value::Unsigned(n)) => Ok(*n),
            // cbor-x writes integers beyond 32 bits as float64.
            Some(Value::Float(f)) if *f >= 0.0 && *f <= MAX_SAFE_INTEGER && f.fract() == 0.0 => {
                Ok(*f as u64)
            }
            Some(_) => Err(wrong),
            None => Err(WireError::MissingField(field)),
        }
    }

    fn text_list(&self, field: &'static str) -> Result<Vec<String>, WireError> {
        let wrong = WireError::WrongType {
            field,
            expected: "a list of strings",
        };
        match self.get(field) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Text(text) => Ok(text.clone()),
                    _ => Err(wrong.clone()),
                })
                .collect(),
            Some(_) => Err(wrong),
            None => Err(WireError::MissingField(field)),
        }
    }

    fn peer_metadata(&self) -> Result<PeerMetadata, WireError> {
        let entries = match self.get("peerMetadata") {
            None => return Ok(PeerMetadata::default()),
            Some(Value::Map(entries)) => entries,
            Some(_) => {
                return Err(WireError::WrongType {
                    field: "peerMetadata",
                    expected: "a map",
                })
            }
        };
        let inner = Fields(
            entries
                .iter()
                .filter_map(|(key, value)| match key {
                    Value::Text(key) => Some((key.clone(), value.clone())),
                    _ => None,
                })
                .collect(),
        );
        let is_ephemeral = match inner.get("isEphemeral") {
            None => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => {
                return Err(WireError::WrongType {
                    field: "isEphemeral",
                    expected: "a boolean",
                })
            }
        };
        Ok(PeerMetadata {
            storage_id: inner.optional_text("storageId")?,
            is_ephemeral,
        })
    }
}

pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.value(0)?;
    if reader.remaining() != 0 {
        return Err(WireError::TrailingBytes);
    }
    let Value::Map(entries) = value else {
        return Err(WireError::NotAMap);
    };
    let fields = Fields(
        entries
            .into_iter()
            // Keys that are not strings cannot be ours: skip them like unknown keys.
            .filter_map(|(key, value)| match key {
                Value::Text(key) => Some((key, value)),
                _ => None,
            })
            .collect(),
    );
    let kind = fields.text("type")?;
    let sender_id = fields.text("senderId")?;
    Ok(match kind.as_str() {
        "join" => Message::Join {
            sender_id,
            peer_metadata: fields.peer_metadata()?,
            supported_protocol_versions: fields.text_list("supportedProtocolVersions")?,
        },
        "peer" => Message::Peer {
            sender_id,
            target_id: fields.text("targetId")?,
            peer_metadata: fields.peer_metadata()?,
            selected_protocol_version: fields.text("selectedProtocolVersion")?,
        },
        "error" => Message::Error {
            sender_id,
            target_id: fields.optional_text("targetId")?.unwrap_or_default(),
            message: fields.text("message")?,
        },
        "leave" => Message::Leave { sender_id },
        "request" => Message::Request {
            sender_id,
            target_id: fields.text("targetId")?,
            document_id: fields.document_id()?,
            data: fields.bytes("data")?,
        },
        "sync" => Message::Sync {
            sender_id,
            target_id: fields.text("targetId")?,
            document_id: fields.document_id()?,
            data: fields.bytes("data")?,
        },
        "doc-unavailable" => Message::DocUnavailable {
            sender_id,
            target_id: fields.text("targetId")?,
            document_id: fields.document_id()?,
        },
        "ephemeral" => Message::Ephemeral {
            sender_id,
            target_id: fields.text("targetId")?,
            document_id: fields.document_id()?,
            session_id: fields.text("sessionId")?,
            count: fields.count("count")?,
            data: fields.bytes("data")?,
        },
        "remote-subscription-change" => Message::RemoteSubscriptionChange {
            sender_id,
            target_id: fields.text("targetId")?,
        },
        "remote-heads-changed" => Message::RemoteHeadsChanged {
            sender_id,
            target_id: fields.text("targetId")?,
        },
        other => {
            let shown: String = other.chars().take(64).collect();
            return Err(WireError::UnknownType(shown));
        }
    })
}

// ------------------------------------------------------------------ encoding

/// Minimal (canonical-length) CBOR.
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
            w.head(0, *count);
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
mod tests;
