//! Who is at the other end of a connection, and the key the hub knows
//! them by.

use fieldbook_shared::wire::PeerId;

/// Who is at the other end of a connection, as established by authentication
/// and the `join` message.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub peer_id: PeerId,
    pub conn_id: u64,
    pub user_id: String,
    pub device_id: String,
    /// Set for peers that keep their own storage; their sync state is kept.
    pub storage_id: Option<String>,
}

/// A peer ID within one user's devices. Clients choose their peer IDs, so
/// two users' devices may well give the same one (by chance, or because one
/// copies the other's): keyed by user, neither can displace, silence or
/// lock out the other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerKey {
    pub user_id: String,
    pub peer_id: PeerId,
}

impl PeerInfo {
    pub fn key(&self) -> PeerKey {
        PeerKey {
            user_id: self.user_id.clone(),
            peer_id: self.peer_id.clone(),
        }
    }
}
