//! The storage keys of sharing (listed with every other key in `crate::keys`).
//!
//! | key                                   | value                          |
//! |---------------------------------------|--------------------------------|
//! | `doc-member/{documentId}/{userId}`    | membership (JSON)              |
//! | `user-member/{userId}/{documentId}`   | empty (index of shared docs)   |
//! | `invitation/{invitationId}`           | invitation (JSON)              |
//! | `invitation-token/{sha256 of token}`  | invitationId                   |
//! | `doc-invitation/{docId}/{invitationId}` | empty (index)                |

use fieldbook_shared::DocumentId;

pub fn doc_members(doc: &DocumentId) -> String {
    format!("doc-member/{doc}/")
}

pub fn doc_member(doc: &DocumentId, user_id: &str) -> String {
    format!("doc-member/{doc}/{user_id}")
}

pub fn user_memberships(user_id: &str) -> String {
    format!("user-member/{user_id}/")
}

pub fn user_membership(user_id: &str, doc: &DocumentId) -> String {
    format!("user-member/{user_id}/{doc}")
}

/// Every invitation (never `invitation-token/`: the slash ends the prefix).
pub const INVITATIONS: &str = "invitation/";

pub fn invitation(id: &str) -> String {
    format!("invitation/{id}")
}

pub fn invitation_token(token_hash: &str) -> String {
    format!("invitation-token/{token_hash}")
}

pub fn doc_invitations(doc: &DocumentId) -> String {
    format!("doc-invitation/{doc}/")
}

pub fn doc_invitation(doc: &DocumentId, id: &str) -> String {
    format!("doc-invitation/{doc}/{id}")
}
