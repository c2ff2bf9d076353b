//! The sync core: the automerge-repo protocol between devices and this
//! server. `hub` keeps the documents peers have open and relays between
//! them, deciding who may do what with `access`; `connection` is one peer's
//! WebSocket, `doc_store` reads and writes a document's chunks, and
//! `group_flush` makes concurrent writes durable with one flush.

pub mod access;
pub mod connection;
pub mod doc_store;
pub mod group_flush;
pub mod hub;
