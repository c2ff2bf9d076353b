//! Ephemeral messages (presence, cursors) are relayed once: a device may
//! send the same one over several paths, and each carries a count that
//! grows within its session.

use std::collections::HashMap;

use crate::sync::peers::PeerKey;

/// The highest `count` seen per (sender, session).
#[derive(Default)]
pub struct EphemeralSeen {
    last: HashMap<(PeerKey, String), u64>,
}

impl EphemeralSeen {
    /// Whether this message is new (and remembers it): false for a repeat
    /// or an older one of the same session.
    pub fn is_new(&mut self, sender: &PeerKey, session_id: &str, count: u64) -> bool {
        let key = (sender.clone(), session_id.to_owned());
        if self.last.get(&key).is_some_and(|last| count <= *last) {
            return false;
        }
        self.last.insert(key, count);
        true
    }

    /// Forgets a sender whose connection closed.
    pub fn forget_sender(&mut self, sender: &PeerKey) {
        self.last.retain(|(seen, _), _| seen != sender);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user_id: &str, peer_id: &str) -> PeerKey {
        PeerKey {
            user_id: user_id.into(),
            peer_id: peer_id.into(),
        }
    }

    #[test]
    fn each_message_of_a_session_passes_once_and_older_ones_not_at_all() {
        let mut seen = EphemeralSeen::default();
        let phone = key("user", "phone");
        assert!(seen.is_new(&phone, "session", 1));
        assert!(!seen.is_new(&phone, "session", 1), "a repeat");
        assert!(seen.is_new(&phone, "session", 3));
        assert!(!seen.is_new(&phone, "session", 2), "older than one relayed");
        // Another session, sender or user with the same peer ID counts apart.
        assert!(seen.is_new(&phone, "later session", 1));
        assert!(seen.is_new(&key("user", "laptop"), "session", 1));
        assert!(seen.is_new(&key("someone else", "phone"), "session", 1));
    }

    #[test]
    fn a_sender_that_left_starts_afresh() {
        let mut seen = EphemeralSeen::default();
        let phone = key("user", "phone");
        let laptop = key("user", "laptop");
        assert!(seen.is_new(&phone, "session", 5));
        assert!(seen.is_new(&laptop, "session", 5));
        seen.forget_sender(&phone);
        assert!(seen.is_new(&phone, "session", 1));
        assert!(
            !seen.is_new(&laptop, "session", 5),
            "others are still known"
        );
    }
}
