//! Each member's root document lists what is shared with them: a map
//! `shared`, keyed by document ID, of `{role, ownerDisplayName, since}`.
//! The server writes it as its own change whenever a membership of theirs
//! begins or ends, so every device of the member learns of it through
//! ordinary sync.
//!
//! It is here, beside the account that owns the root document, because it
//! needs the hub as well as sharing's record, and the hub needs that record.
//!
//! Memberships are stored first and the list is written after, so a crash
//! in between leaves the list behind the memberships. Each write therefore
//! brings the whole list in step with them, not just the entry that
//! changed: the next change heals an earlier miss.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
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

/// Brings `user_id`'s list in step with their memberships. A user with no
/// active account (disabled, deleted) is left alone.
pub async fn refresh(hub: &Hub, accounts: &Accounts, user_id: &str) -> Result<(), SharingError> {
    let Some(user) = accounts.user(user_id)? else {
        return Ok(());
    };
    let memberships = hub.sharing().shared_with(user_id)?;
    hub.change_document(user.root_doc, user_id, |tx| write(tx, &memberships))
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
        refresh(hub, accounts, &member.user_id).await?;
    }
    Ok(members)
}

/// Makes `shared` hold exactly `memberships`, changing only what differs
/// (an unchanged list makes no change at all).
fn write(tx: &mut Transaction<'_>, memberships: &[Membership]) {
    let shared = match tx.get(ROOT, keys::SHARED) {
        Ok(Some((Value::Object(ObjType::Map), shared))) => shared,
        _ if memberships.is_empty() => return,
        _ => match tx.put_object(ROOT, keys::SHARED, ObjType::Map) {
            Ok(shared) => shared,
            Err(_) => return,
        },
    };
    let listed: Vec<String> = tx.keys(&shared).collect();
    for key in &listed {
        if !memberships
            .iter()
            .any(|m| m.document_id.to_string() == *key)
        {
            let _ = tx.delete(&shared, key.as_str());
        }
    }
    for membership in memberships {
        let key = membership.document_id.to_string();
        let wanted = [
            (keys::ROLE, membership.role.as_str()),
            (
                keys::OWNER_DISPLAY_NAME,
                membership.owner_display_name.as_str(),
            ),
            (keys::SINCE, membership.since.as_str()),
        ];
        let current = match tx.get(&shared, key.as_str()) {
            Ok(Some((Value::Object(ObjType::Map), entry))) => Some(entry),
            _ => None,
        };
        if current.as_ref().is_some_and(|entry| {
            wanted
                .iter()
                .all(|(field, value)| text(tx, entry, field) == Some(value.to_string()))
        }) {
            continue;
        }
        if let Ok(entry) = tx.put_object(&shared, key.as_str(), ObjType::Map) {
            for (field, value) in wanted {
                let _ = tx.put(&entry, field, value);
            }
        }
    }
}

fn text(tx: &Transaction<'_>, obj: &ObjId, field: &str) -> Option<String> {
    match tx.get(obj, field).ok()?? {
        (Value::Scalar(scalar), _) => match scalar.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    }
}
