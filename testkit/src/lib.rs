//! Simulated Fieldbook devices, for the server's tests and for `bench`: one
//! implementation of what a device does, whatever carries its messages.
//!
//! - [`replica`]: a device's copy of documents and its sync state with the
//!   server, driven as automerge-repo's DocSynchronizer drives them, with
//!   no I/O: it takes messages in and says what to send.
//! - [`conn`]: that device's WebSocket to a real server (join handshake,
//!   messages in and out, traffic counted); [`peer`] is the same with test
//!   manners (failures panic, silence is bounded).
//! - [`entry`]: documents shaped as `fieldbook_shared::entry` says, and
//!   seeded random edits to them.
//! - [`device`] and [`network`]: devices of one user and an in-process
//!   server with no sockets, messages delivered, dropped and reordered by a
//!   seeded scheduler until the network is quiet.
//! - [`rng`]: the seeded random source, and seeds that can be replayed.

pub mod conn;
pub mod device;
pub mod entry;
pub mod network;
pub mod peer;
pub mod replica;
pub mod rng;

pub use conn::{Conn, ConnError, Traffic};
pub use device::Device;
pub use network::{Faults, Network, Server};
pub use peer::{Endpoint, Outcome, Peer, WAIT};
pub use replica::{Replica, Replicas};
pub use rng::{seed_from_env, Rng};
