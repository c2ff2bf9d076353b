//! Integration tests: the real server on 127.0.0.1:0, exercised through its
//! HTTP API and the automerge-repo sync protocol, one test binary.

mod accounts;
mod admin;
mod audio;
mod bad_input;
mod check_text;
mod convergence;
mod crash;
mod durability;
mod evidence;
mod hostile;
mod revocation;
mod security;
mod sharing;
mod sharing_grants;
mod support;
mod sync_protocol;
