//! Fieldbook's load generator: simulated automerge-repo devices against a
//! sync server (Fieldbook, or automerge-repo's reference server for
//! comparison), in the scenarios of `BENCHMARKS.md`.
//!
//! The library holds the parts; `main.rs` runs them and prints the table;
//! the tests run every scenario at small sizes against an in-process server.

pub mod conn;
pub mod replica;
pub mod report;
pub mod scenarios;
pub mod target;
