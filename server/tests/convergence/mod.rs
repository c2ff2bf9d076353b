//! Convergence: devices that edit apart, lose their connection and come
//! back end with the same documents as each other and the server, and
//! nothing anyone wrote is lost.
//!
//! - `over_sockets`: the whole server on 127.0.0.1 and devices syncing
//!   over WebSockets, one seeded run.

mod over_sockets;
