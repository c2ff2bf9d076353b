//! The sync core: the automerge-repo protocol between devices and this
//! server. `doc_state` is one document's state without I/O (who may do
//! what, by `access`'s one decision; the sync protocol; when to unload),
//! returning what to send and store; `hub` is the async layer around it
//! (documents in memory, reads, writes and flushes), delivering through
//! `peers` (the connections registered), with `ephemeral` relaying presence
//! messages once each; `connection` is one peer's WebSocket, `doc_store`
//! reads and writes a document's chunks, and `group_flush` makes concurrent
//! writes durable with one flush.

pub mod access;
pub mod connection;
pub(crate) mod doc_state;
pub mod doc_store;
pub(crate) mod ephemeral;
pub mod group_flush;
pub mod hub;
pub(crate) mod peers;
