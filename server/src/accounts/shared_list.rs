//! Each member's root document lists what is shared with them: a map
//! `shared`, keyed by document ID, of `{role, ownerDisplayName, since}`.
//! The server writes it as its own change when a membership begins or
//! ends, so every device of the member learns of it through ordinary sync.
//!
//! It is here, beside the account that owns the root document, because it
//! needs the hub as well as sharing's record, and the hub needs that record.

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use fieldbook_shared::entry::keys;
use fieldbook_shared::DocumentId;

use super::{AccountError, Accounts};
use crate::sharing::{Membership, SharingError};
use crate::sync::hub::Hub;

impl From<AccountError> for SharingError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Store(err) => SharingError::Store(err),
            AccountError::Docs(err) => err.into(),
            other => SharingError::Corrupt(other.to_string()),
        }
    }
}

/// Writes `doc`'s entry in `user_id`'s list, or with `None` deletes it. A
/// user with no active account (disabled, deleted) is left alone.
pub async fn record(
    hub: &Hub,
    accounts: &Accounts,
    user_id: &str,
    doc: &DocumentId,
    membership: Option<&Membership>,
) -> Result<(), SharingError> {
    let Some(user) = accounts.user(user_id)? else {
        return Ok(());
    };
    let key = doc.to_string();
    hub.change_document(user.root_doc, user_id, |tx| {
        let shared = match tx.get(ROOT, keys::SHARED) {
            Ok(Some((_, shared))) => shared,
            _ if membership.is_none() => return,
            _ => match tx.put_object(ROOT, keys::SHARED, ObjType::Map) {
                Ok(shared) => shared,
                Err(_) => return,
            },
        };
        let Some(membership) = membership else {
            // Absent when already removed: fine.
            let _ = tx.delete(&shared, key.as_str());
            return;
        };
        if let Ok(entry) = tx.put_object(&shared, key.as_str(), ObjType::Map) {
            let _ = tx.put(&entry, keys::ROLE, membership.role.as_str());
            let _ = tx.put(
                &entry,
                keys::OWNER_DISPLAY_NAME,
                membership.owner_display_name.as_str(),
            );
            let _ = tx.put(&entry, keys::SINCE, membership.since.as_str());
        }
    })
    .await?;
    Ok(())
}

/// After `doc` was deleted (its members' devices were told it is
/// unavailable): forgets its memberships and invitations, and takes it off
/// each member's list. Returns the memberships there were.
pub async fn forget_deleted(
    hub: &Hub,
    accounts: &Accounts,
    doc: &DocumentId,
) -> Result<Vec<Membership>, SharingError> {
    let members = hub.sharing().forget_document(doc)?;
    for member in &members {
        record(hub, accounts, &member.user_id, doc, None).await?;
    }
    Ok(members)
}
