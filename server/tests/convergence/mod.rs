//! Convergence: devices that edit apart, lose their connection and come
//! back end with the same documents as each other and the server, and
//! nothing anyone wrote is lost.
//!
//! - `in_process`: the sync core (the hub over the in-memory store) and
//!   3–5 devices on an in-memory network, a seeded scheduler delivering,
//!   dropping and reordering messages; many seeds a run, no sockets, no
//!   sleeps.
//! - `over_sockets`: the whole server on 127.0.0.1 and devices syncing
//!   over WebSockets, one seeded run.

mod in_process;
mod over_sockets;
