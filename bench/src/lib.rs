//! Fieldbook's load generator: simulated automerge-repo devices against a
//! sync server (Fieldbook, or automerge-repo's reference server for
//! comparison), in the scenarios of `BENCHMARKS.md`.
//!
//! The simulated devices are `fieldbook-testkit`'s; the library holds the
//! scenarios; `main.rs` runs them and prints the table;
//! the tests run every scenario at small sizes against an in-process server.

pub mod report;
pub mod scenarios;
pub mod target;
