//! Random IDs and secret tokens (device sessions, invitations). A token is
//! shown once and stored only as its SHA-256, so a copy of the database
//! holds nothing that signs anyone in.

use base64::Engine;
use sha2::{Digest, Sha256};

/// `N` bytes from the operating system's randomness.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

/// A record's ID: 128 random bits in hex.
pub fn new_id() -> String {
    hex::encode(random_bytes::<16>())
}

/// A secret token: 256 random bits in base64url, without padding.
pub fn new_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// What is stored of `token`: its SHA-256 in hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
