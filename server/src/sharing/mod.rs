//! Sharing documents between users: who is a member of a document and with
//! which role, and the single-use invitations that make someone a member.
//!
//! This is the record only. The hub (`crate::sync::hub`) holds each loaded
//! document's members in memory and is told of every membership change
//! made here, so what it decides and what is stored never disagree;
//! `crate::accounts::shared_list` writes the `shared` list into each
//! member's root document.
//!
//! An invitation's token is 256 random bits, shown once and stored only as
//! its SHA-256 hash, like a device token. Accepting one is serialised (one
//! lock for the whole server) so a token can never be used twice.

pub mod keys;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldbook_shared::DocumentId;
use serde::{Deserialize, Serialize};

use crate::clock::{now_millis, rfc3339_of_millis};
use crate::store::{Batch, Store, StoreError};
use crate::tokens::{hash_token, new_id, new_token};

/// How long an invitation can be accepted, unless configured otherwise.
pub const DEFAULT_INVITATION_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A display name chosen for a share is shown to others; keep it short.
const MAX_DISPLAY_NAME_CHARS: usize = 80;
/// Documents one invitation can share at once (an entry with its comments,
/// a registration year's portfolio).
pub const MAX_INCLUDED_DOCUMENTS: usize = 200;

/// What a user may do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created it: may change it, share it, remove members, delete it.
    Owner,
    /// May change it.
    Writer,
    /// Receives it and its updates, never changes it.
    Reader,
}

impl Role {
    pub fn can_write(self) -> bool {
        matches!(self, Role::Owner | Role::Writer)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Writer => "writer",
            Role::Reader => "reader",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SharingError {
    #[error("That invitation link has expired. Ask for a new one.")]
    Expired,
    #[error("That invitation link has already been used. Ask for a new one.")]
    Used,
    #[error("That invitation was withdrawn by the person who made it.")]
    Revoked,
    #[error("That is not a valid invitation link.")]
    Invalid,
    #[error("This is your own invitation: send the link to the person you want to share with.")]
    OwnInvitation,
    #[error("A document can be shared as writer or reader only.")]
    InvalidRole,
    #[error("Give a name of at most {MAX_DISPLAY_NAME_CHARS} characters.")]
    InvalidDisplayName,
    #[error("An invitation can share at most {MAX_INCLUDED_DOCUMENTS} documents.")]
    TooManyDocuments,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored sharing record cannot be read: {0}")]
    Corrupt(String),
}

/// One user's membership of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub document_id: DocumentId,
    pub user_id: String,
    pub role: Role,
    /// The name the member chose for this share (never their email).
    pub display_name: String,
    /// Who shared it, by the name they chose for the share.
    pub owner_display_name: String,
    pub since: String,
}

/// A document and the role an invitation gives for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub document_id: DocumentId,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    Open,
    Used,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: String,
    /// The document it was made for; `grants` holds it first, then any
    /// documents included with it.
    pub document_id: DocumentId,
    pub role: Role,
    pub grants: Vec<Grant>,
    pub created_by: String,
    pub owner_display_name: String,
    pub created_at: String,
    pub expires_at: String,
    expires_at_millis: i64,
    pub state: InvitationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
    token_hash: String,
}

impl Invitation {
    pub fn expired_at(&self, now_millis: i64) -> bool {
        now_millis >= self.expires_at_millis
    }
}

/// What a new invitation is for.
pub struct NewInvitation<'a> {
    pub created_by: &'a str,
    pub owner_display_name: Option<&'a str>,
    /// The document first, then any included ones; the caller has checked
    /// that `created_by` owns every one.
    pub grants: Vec<Grant>,
}

/// Who accepts an invitation, and the name they are shown by.
pub struct NewMember<'a> {
    pub user_id: &'a str,
    /// Already cleaned ([`clean_display_name`]).
    pub display_name: &'a str,
}

pub struct Sharing {
    store: Arc<dyn Store>,
    expiry: Duration,
    /// Serialises accepting and revoking, so one token is used once.
    accepting: Mutex<()>,
}

impl Sharing {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            expiry: DEFAULT_INVITATION_EXPIRY,
            accepting: Mutex::new(()),
        }
    }

    pub fn with_expiry(mut self, expiry: Duration) -> Self {
        self.expiry = expiry;
        self
    }

    /// Makes the changes made so far durable (they are written unflushed).
    pub async fn flush(&self) -> Result<(), SharingError> {
        Ok(self.store.flush().await?)
    }

    /// Makes an invitation; returns it and its token (shown once, never stored).
    pub fn create_invitation(
        &self,
        new: NewInvitation<'_>,
    ) -> Result<(Invitation, String), SharingError> {
        let Some(first) = new.grants.first().copied() else {
            return Err(SharingError::Invalid);
        };
        if new.grants.len() > MAX_INCLUDED_DOCUMENTS {
            return Err(SharingError::TooManyDocuments);
        }
        if new.grants.iter().any(|grant| grant.role == Role::Owner) {
            return Err(SharingError::InvalidRole);
        }
        let owner_display_name = match new.owner_display_name {
            Some(name) => clean_display_name(name)?,
            None => "Owner".to_owned(),
        };
        let token = new_token();
        let now = now_millis();
        let expires_at_millis = now.saturating_add(self.expiry.as_millis() as i64);
        let invitation = Invitation {
            id: new_id(),
            document_id: first.document_id,
            role: first.role,
            grants: dedup(new.grants),
            created_by: new.created_by.to_owned(),
            owner_display_name,
            created_at: rfc3339_of_millis(now),
            expires_at: rfc3339_of_millis(expires_at_millis),
            expires_at_millis,
            state: InvitationState::Open,
            used_by: None,
            token_hash: hash_token(&token),
        };
        let mut batch = Batch::default();
        batch.put(keys::invitation(&invitation.id), to_json(&invitation));
        batch.put(
            keys::invitation_token(&invitation.token_hash),
            invitation.id.clone(),
        );
        batch.put(
            keys::doc_invitation(&invitation.document_id, &invitation.id),
            Vec::new(),
        );
        self.store.apply(batch)?;
        Ok((invitation, token))
    }

    pub fn invitation(&self, id: &str) -> Result<Option<Invitation>, SharingError> {
        self.get_json(&keys::invitation(id))
    }

    /// The invitations made for `doc`, oldest first.
    pub fn invitations(&self, doc: &DocumentId) -> Result<Vec<Invitation>, SharingError> {
        let mut found = Vec::new();
        for (key, _) in self
            .store
            .scan_prefix(keys::doc_invitations(doc).as_bytes())?
        {
            let id = last_segment(&key);
            if let Some(invitation) = self.invitation(&id)? {
                found.push(invitation);
            }
        }
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(found)
    }

    /// Withdraws an open invitation; a used one stays as it is.
    pub fn revoke_invitation(&self, invitation: &Invitation) -> Result<(), SharingError> {
        let _serial = self.accepting.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut current) = self.invitation(&invitation.id)? else {
            return Ok(());
        };
        if current.state == InvitationState::Open {
            current.state = InvitationState::Revoked;
            self.store
                .put(keys::invitation(&current.id).as_bytes(), &to_json(&current))?;
        }
        Ok(())
    }

    /// Uses the invitation `token` for `member`: checks it, then marks it
    /// used and records a membership for each of its documents that
    /// `still_owned(document, inviter)` confirms (one deleted since is left
    /// out), all in one store batch: a crash leaves either an open
    /// invitation or a used one with its members, never a used one without.
    /// Unflushed; the hub is then told of each membership
    /// ([`crate::hub::Hub::admit_member`]).
    pub fn accept_invitation(
        &self,
        token: &str,
        member: NewMember<'_>,
        still_owned: impl Fn(&DocumentId, &str) -> Result<bool, SharingError>,
    ) -> Result<(Invitation, Vec<Membership>), SharingError> {
        self.accept_at(token, member, still_owned, now_millis())
    }

    fn accept_at(
        &self,
        token: &str,
        member: NewMember<'_>,
        still_owned: impl Fn(&DocumentId, &str) -> Result<bool, SharingError>,
        now: i64,
    ) -> Result<(Invitation, Vec<Membership>), SharingError> {
        let _serial = self.accepting.lock().unwrap_or_else(|p| p.into_inner());
        let Some(id) = self
            .store
            .get(keys::invitation_token(&hash_token(token)).as_bytes())?
        else {
            return Err(SharingError::Invalid);
        };
        let Some(mut invitation) = self.invitation(&String::from_utf8_lossy(&id))? else {
            return Err(SharingError::Invalid);
        };
        match invitation.state {
            InvitationState::Revoked => return Err(SharingError::Revoked),
            InvitationState::Used => return Err(SharingError::Used),
            InvitationState::Open => {}
        }
        if invitation.expired_at(now) {
            return Err(SharingError::Expired);
        }
        if invitation.created_by == member.user_id {
            return Err(SharingError::OwnInvitation);
        }
        let since = rfc3339_of_millis(now);
        let mut memberships = Vec::new();
        for grant in &invitation.grants {
            if !still_owned(&grant.document_id, &invitation.created_by)? {
                continue;
            }
            memberships.push(Membership {
                document_id: grant.document_id,
                user_id: member.user_id.to_owned(),
                role: grant.role,
                display_name: member.display_name.to_owned(),
                owner_display_name: invitation.owner_display_name.clone(),
                since: since.clone(),
            });
        }
        if memberships.is_empty() {
            // Everything it shared is gone: as if it never existed.
            return Err(SharingError::Invalid);
        }
        invitation.state = InvitationState::Used;
        invitation.used_by = Some(member.user_id.to_owned());
        let mut batch = Batch::default();
        batch.put(keys::invitation(&invitation.id), to_json(&invitation));
        for membership in &memberships {
            put_membership(&mut batch, membership);
        }
        self.store.apply(batch)?;
        Ok((invitation, memberships))
    }

    /// Every member of `doc` (the owner is not stored here).
    pub fn members(&self, doc: &DocumentId) -> Result<Vec<Membership>, SharingError> {
        let mut members: Vec<Membership> = self
            .store
            .scan_prefix(keys::doc_members(doc).as_bytes())?
            .into_iter()
            .map(|(_, bytes)| parse(&bytes))
            .collect::<Result<_, _>>()?;
        members.sort_by(|a, b| a.since.cmp(&b.since));
        Ok(members)
    }

    pub fn membership(
        &self,
        doc: &DocumentId,
        user_id: &str,
    ) -> Result<Option<Membership>, SharingError> {
        self.get_json(&keys::doc_member(doc, user_id))
    }

    /// The documents shared with `user_id`.
    pub fn shared_with(&self, user_id: &str) -> Result<Vec<Membership>, SharingError> {
        let mut found = Vec::new();
        for (key, _) in self
            .store
            .scan_prefix(keys::user_memberships(user_id).as_bytes())?
        {
            let Ok(doc) = DocumentId::parse(&last_segment(&key)) else {
                continue;
            };
            if let Some(membership) = self.membership(&doc, user_id)? {
                found.push(membership);
            }
        }
        found.sort_by(|a, b| a.since.cmp(&b.since));
        Ok(found)
    }

    /// Records `membership`, replacing any earlier one of that user for
    /// that document (a new invitation may change the role). Unflushed.
    pub fn put_membership(&self, membership: &Membership) -> Result<(), SharingError> {
        let mut batch = Batch::default();
        put_membership(&mut batch, membership);
        self.store.apply(batch)?;
        Ok(())
    }

    /// Ends one membership. Unflushed.
    pub fn remove_membership(&self, doc: &DocumentId, user_id: &str) -> Result<(), SharingError> {
        let mut batch = Batch::default();
        batch.delete(keys::doc_member(doc, user_id));
        batch.delete(keys::user_membership(user_id, doc));
        self.store.apply(batch)?;
        Ok(())
    }

    /// Forgets every membership of and invitation for `doc` (it was
    /// deleted); returns the memberships there were. Unflushed.
    pub fn forget_document(&self, doc: &DocumentId) -> Result<Vec<Membership>, SharingError> {
        let members = self.members(doc)?;
        let invitations = self.invitations(doc)?;
        let mut batch = Batch::default();
        for member in &members {
            batch.delete(keys::doc_member(doc, &member.user_id));
            batch.delete(keys::user_membership(&member.user_id, doc));
        }
        for invitation in &invitations {
            batch.delete(keys::invitation(&invitation.id));
            batch.delete(keys::invitation_token(&invitation.token_hash));
            batch.delete(keys::doc_invitation(doc, &invitation.id));
        }
        self.store.apply(batch)?;
        Ok(members)
    }

    /// Forgets that `user_id` used any invitation (their account is being
    /// deleted): each stays used, naming nobody. Unflushed.
    pub fn forget_invitee(&self, user_id: &str) -> Result<(), SharingError> {
        let mut batch = Batch::default();
        for (key, bytes) in self.store.scan_prefix(keys::INVITATIONS.as_bytes())? {
            let mut invitation: Invitation = parse(&bytes)?;
            if invitation.used_by.as_deref() == Some(user_id) {
                invitation.used_by = None;
                batch.put(key, to_json(&invitation));
            }
        }
        self.store.apply(batch)?;
        Ok(())
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, SharingError> {
        self.store
            .get(key.as_bytes())?
            .map(|bytes| parse(&bytes))
            .transpose()
    }
}

fn put_membership(batch: &mut Batch, membership: &Membership) {
    batch.put(
        keys::doc_member(&membership.document_id, &membership.user_id),
        to_json(membership),
    );
    batch.put(
        keys::user_membership(&membership.user_id, &membership.document_id),
        Vec::new(),
    );
}

/// A display name as given, trimmed; empty or too long is refused.
pub fn clean_display_name(name: &str) -> Result<String, SharingError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(SharingError::InvalidDisplayName);
    }
    Ok(name.to_owned())
}

/// Each document once, its first grant kept.
fn dedup(grants: Vec<Grant>) -> Vec<Grant> {
    let mut seen = std::collections::HashSet::new();
    grants
        .into_iter()
        .filter(|grant| seen.insert(grant.document_id))
        .collect()
}

fn last_segment(key: &[u8]) -> String {
    let key = String::from_utf8_lossy(key);
    key.rsplit('/').next().unwrap_or_default().to_owned()
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, SharingError> {
    serde_json::from_slice(bytes).map_err(|err| SharingError::Corrupt(err.to_string()))
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("sharing records always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn doc(n: u8) -> DocumentId {
        DocumentId::from_bytes([n; 16])
    }

    fn use_at(
        sharing: &Sharing,
        token: &str,
        user_id: &str,
        now: i64,
    ) -> Result<Invitation, SharingError> {
        let member = NewMember {
            user_id,
            display_name: "Alex",
        };
        let (invitation, _) = sharing.accept_at(token, member, |_, _| Ok(true), now)?;
        Ok(invitation)
    }

    fn use_invitation(
        sharing: &Sharing,
        token: &str,
        user_id: &str,
    ) -> Result<Invitation, SharingError> {
        use_at(sharing, token, user_id, now_millis())
    }

    fn invite(sharing: &Sharing, owner: &str, grants: &[(u8, Role)]) -> (Invitation, String) {
        sharing
            .create_invitation(NewInvitation {
                created_by: owner,
                owner_display_name: Some("Sam (senior practitioner)"),
                grants: grants
                    .iter()
                    .map(|&(n, role)| Grant {
                        document_id: doc(n),
                        role,
                    })
                    .collect(),
            })
            .unwrap()
    }

    #[test]
    fn a_token_is_stored_only_as_its_hash_and_works_once() {
        let store = Arc::new(MemoryStore::new());
        let sharing = Sharing::new(store.clone());
        let (invitation, token) = invite(&sharing, "owner", &[(1, Role::Writer)]);
        assert!(token.len() >= 43, "256 bits in base64url");
        let everything = store.scan_prefix(b"").unwrap();
        assert!(
            everything
                .iter()
                .all(|(key, value)| !contains(key, &token) && !contains(value, &token)),
            "the token itself is stored nowhere"
        );

        let used = use_invitation(&sharing, &token, "peer").unwrap();
        assert_eq!(used.id, invitation.id);
        assert_eq!(used.used_by.as_deref(), Some("peer"));
        assert!(matches!(
            use_invitation(&sharing, &token, "someone else"),
            Err(SharingError::Used)
        ));
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    }

    #[test]
    fn each_bad_invitation_is_told_apart() {
        let sharing = Sharing::new(Arc::new(MemoryStore::new()));
        assert!(matches!(
            use_invitation(&sharing, "forged", "peer"),
            Err(SharingError::Invalid)
        ));

        let (_, token) = invite(&sharing, "owner", &[(1, Role::Reader)]);
        assert!(matches!(
            use_invitation(&sharing, &token, "owner"),
            Err(SharingError::OwnInvitation)
        ));
        let week = DEFAULT_INVITATION_EXPIRY.as_millis() as i64;
        assert!(matches!(
            use_at(&sharing, &token, "peer", now_millis() + week + 1),
            Err(SharingError::Expired)
        ));
        // Neither attempt used it up.
        assert!(use_at(&sharing, &token, "peer", now_millis() + week - 60_000).is_ok());

        let (invitation, token) = invite(&sharing, "owner", &[(2, Role::Writer)]);
        sharing.revoke_invitation(&invitation).unwrap();
        assert!(matches!(
            use_invitation(&sharing, &token, "peer"),
            Err(SharingError::Revoked)
        ));
        assert_eq!(
            sharing.invitation(&invitation.id).unwrap().unwrap().state,
            InvitationState::Revoked
        );
    }

    #[test]
    fn an_invitation_cannot_make_an_owner_and_lists_each_document_once() {
        let sharing = Sharing::new(Arc::new(MemoryStore::new()));
        let made = sharing.create_invitation(NewInvitation {
            created_by: "owner",
            owner_display_name: None,
            grants: vec![Grant {
                document_id: doc(1),
                role: Role::Owner,
            }],
        });
        assert!(matches!(made, Err(SharingError::InvalidRole)));

        let (invitation, _) = invite(
            &sharing,
            "owner",
            &[(1, Role::Reader), (2, Role::Writer), (1, Role::Writer)],
        );
        assert_eq!(invitation.grants.len(), 2);
        assert_eq!(invitation.grants[0].role, Role::Reader);
        assert_eq!(sharing.invitations(&doc(1)).unwrap(), vec![invitation]);
        assert!(sharing.invitations(&doc(2)).unwrap().is_empty());
    }

    #[test]
    fn memberships_are_listed_both_ways_and_forgotten_with_the_document() {
        let sharing = Sharing::new(Arc::new(MemoryStore::new()));
        let member = |n, user: &str, role| Membership {
            document_id: doc(n),
            user_id: user.to_owned(),
            role,
            display_name: format!("{user} name"),
            owner_display_name: "Sam".to_owned(),
            since: crate::clock::now_rfc3339(),
        };
        sharing
            .put_membership(&member(1, "peer", Role::Writer))
            .unwrap();
        sharing
            .put_membership(&member(1, "supervisor", Role::Reader))
            .unwrap();
        sharing
            .put_membership(&member(2, "peer", Role::Reader))
            .unwrap();
        let (_, token) = invite(&sharing, "owner", &[(1, Role::Reader)]);

        assert_eq!(sharing.members(&doc(1)).unwrap().len(), 2);
        let peers: Vec<_> = sharing
            .shared_with("peer")
            .unwrap()
            .into_iter()
            .map(|m| (m.document_id, m.role))
            .collect();
        assert_eq!(peers.len(), 2);
        assert!(peers.contains(&(doc(1), Role::Writer)));
        assert!(peers.contains(&(doc(2), Role::Reader)));

        sharing.remove_membership(&doc(2), "peer").unwrap();
        assert_eq!(sharing.shared_with("peer").unwrap().len(), 1);

        let gone = sharing.forget_document(&doc(1)).unwrap();
        assert_eq!(gone.len(), 2);
        assert!(sharing.members(&doc(1)).unwrap().is_empty());
        assert!(sharing.shared_with("peer").unwrap().is_empty());
        assert!(sharing.shared_with("supervisor").unwrap().is_empty());
        assert!(matches!(
            use_invitation(&sharing, &token, "peer"),
            Err(SharingError::Invalid)
        ));
    }

    #[test]
    fn accepting_marks_the_invitation_used_with_its_memberships_or_not_at_all() {
        let sharing = Sharing::new(Arc::new(MemoryStore::new()));
        let (invitation, token) =
            invite(&sharing, "owner", &[(1, Role::Writer), (2, Role::Reader)]);
        let peer = || NewMember {
            user_id: "peer",
            display_name: "Alex",
        };
        // Every document it shared was deleted meanwhile: nothing is made
        // and the invitation is not used up.
        let nothing = sharing.accept_invitation(&token, peer(), |_, _| Ok(false));
        assert!(matches!(nothing, Err(SharingError::Invalid)));
        assert_eq!(
            sharing.invitation(&invitation.id).unwrap().unwrap().state,
            InvitationState::Open
        );
        assert!(sharing.shared_with("peer").unwrap().is_empty());

        // One of the two is gone: the other is shared.
        let (used, made) = sharing
            .accept_invitation(&token, peer(), |doc_id, owner| {
                assert_eq!(owner, "owner");
                Ok(*doc_id == doc(1))
            })
            .unwrap();
        assert_eq!(used.state, InvitationState::Used);
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].role, Role::Writer);
        assert_eq!(made[0].display_name, "Alex");
        assert_eq!(made[0].owner_display_name, "Sam (senior practitioner)");
        assert_eq!(sharing.shared_with("peer").unwrap(), made);
        assert_eq!(
            sharing.invitation(&invitation.id).unwrap().unwrap().state,
            InvitationState::Used
        );
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(clean_display_name("  Alex ").unwrap(), "Alex");
        assert!(clean_display_name("   ").is_err());
        assert!(clean_display_name(&"x".repeat(81)).is_err());
        assert!(clean_display_name("a\u{7}b").is_err());
    }
}
