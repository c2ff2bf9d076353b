//! Account administration: list, disable, re-enable, delete, and export one
//! user's data (their right of access).
//!
//! Disabling moves the account record from `user/{id}` to
//! `disabled-user/{id}`. Login and token checks both read `user/{id}`, so
//! without it the password is refused exactly like a wrong one, and every
//! token fails, including one from a login that was under way at that
//! instant; every device is also signed out and its sockets closed. The
//! email stays reserved, so nobody else can register it meanwhile.
//!
//! Deleting purges: every document the user owns (data and sync states;
//! a tombstone of the bare ID stays, so a stale device cannot bring one
//! back), every device and token, the account record and the email.
//! Their voice recordings (audio and transcription jobs) and evidence
//! files go too. Sharing ends both ways: their memberships of others'
//! documents, and every membership of and invitation to the documents they
//! owned; every member's devices are told those are unavailable, and the
//! invitations they accepted no longer name them.

use automerge::AutoSerde;
use base64::Engine;
use fieldbook_shared::DocumentId;
use serde::{Deserialize, Serialize};

use super::{AdminError, Context};
use crate::accounts::shared_list;
use crate::accounts::{normalise_email, User};
use crate::sharing::Membership;
use crate::store::keys;
use crate::store::{Batch, Store};
use crate::sync::doc_store::DocStore;
use crate::uploads;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub status: Status,
    pub created_at: String,
    pub root_doc_url: String,
    pub devices: usize,
    pub documents: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_seen_at: String,
}

/// Everything the server holds about one user, for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub account: UserSummary,
    pub device_list: Vec<DeviceInfo>,
    pub exported_at: String,
    pub documents: Vec<ExportedDocument>,
    /// Voice recordings held on the server: metadata and transcript (the
    /// audio itself is fetched through the API).
    #[serde(default)]
    pub audio: Vec<crate::audio::AudioRecord>,
    /// Evidence files held on the server: metadata (the files themselves
    /// are fetched through the API).
    #[serde(default)]
    pub evidence: Vec<crate::uploads::evidence::EvidenceRecord>,
    /// The documents others share with this user, each with the
    /// membership (role, the names chosen for the share, since when).
    #[serde(default)]
    pub shared: Vec<SharedDocument>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedDocument {
    pub membership: Membership,
    pub document: ExportedDocument,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedDocument {
    pub id: String,
    pub url: String,
    /// The whole document with its history, as Automerge's binary format
    /// (base64 on the admin socket).
    pub automerge: String,
    /// The document's current content as JSON.
    pub content: serde_json::Value,
}

/// The account after a disable or enable, and whether it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Toggled {
    pub user: UserSummary,
    pub changed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub id: String,
    pub documents: usize,
    pub devices: usize,
    #[serde(default)]
    pub recordings: usize,
    #[serde(default)]
    pub evidence_files: usize,
    /// Their memberships of documents others own, now ended.
    #[serde(default)]
    pub memberships: usize,
}

/// One account as found by email or ID.
struct Found {
    user: User,
    status: Status,
}

pub fn list(ctx: &Context) -> Result<Vec<UserSummary>, AdminError> {
    let mut users = Vec::new();
    for (prefix, status) in [
        ("user/", Status::Active),
        ("disabled-user/", Status::Disabled),
    ] {
        for (_, bytes) in ctx.store.scan_prefix(prefix.as_bytes())? {
            let user = parse_user(&bytes)?;
            users.push(summary(ctx, &Found { user, status })?);
        }
    }
    users.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(users)
}

/// Disables the account; returns false if it already was.
pub async fn disable(ctx: &Context, who: &str) -> Result<Toggled, AdminError> {
    let found = find(ctx, who)?;
    let changed = found.status == Status::Active;
    if changed {
        let id = &found.user.id;
        let record = ctx
            .store
            .get(keys::user(id).as_bytes())?
            .ok_or_else(|| AdminError::NoSuchUser(who.to_owned()))?;
        let mut batch = Batch::default();
        batch.put(keys::disabled_user(id), record);
        batch.delete(keys::user(id));
        ctx.store.apply(batch)?;
        ctx.store.flush().await?;
    }
    // Also when already disabled: a device made by a login that raced the
    // first disable is signed out now.
    sign_out_everywhere(ctx, &found.user.id).await?;
    tracing::info!(user = %found.user.id, "account disabled");
    let found = Found {
        status: Status::Disabled,
        ..found
    };
    Ok(Toggled {
        user: summary(ctx, &found)?,
        changed,
    })
}

/// Re-enables a disabled account; returns false if it was not disabled.
pub async fn enable(ctx: &Context, who: &str) -> Result<Toggled, AdminError> {
    let found = find(ctx, who)?;
    let changed = found.status == Status::Disabled;
    if changed {
        let id = &found.user.id;
        let record = ctx
            .store
            .get(keys::disabled_user(id).as_bytes())?
            .ok_or_else(|| AdminError::NoSuchUser(who.to_owned()))?;
        let mut batch = Batch::default();
        batch.put(keys::user(id), record);
        batch.delete(keys::disabled_user(id));
        ctx.store.apply(batch)?;
        ctx.store.flush().await?;
        tracing::info!(user = %id, "account enabled");
    }
    let found = Found {
        status: Status::Active,
        ..found
    };
    Ok(Toggled {
        user: summary(ctx, &found)?,
        changed,
    })
}

/// Deletes the account and everything it owns.
pub async fn delete(ctx: &Context, who: &str) -> Result<Deleted, AdminError> {
    // Disabled first: from here on nobody can sign in or sync as this user
    // while the documents go.
    disable(ctx, who).await?;
    let found = find(ctx, who)?;
    let id = found.user.id.clone();
    let memberships = ctx.hub.sharing().shared_with(&id)?;
    for membership in &memberships {
        ctx.hub.remove_member(&membership.document_id, &id).await?;
    }
    let docs = owned_documents(ctx.store.as_ref(), &id)?;
    for doc in &docs {
        // Through the hub, so a copy in memory goes too and any peer still
        // on it, a member's too, is told it is unavailable.
        ctx.hub.delete_document(*doc, &id).await?;
        shared_list::forget_deleted(&ctx.hub, &ctx.accounts, doc).await?;
    }
    ctx.hub.sharing().forget_invitee(&id)?;
    let devices = ctx.accounts.devices(&id)?.len();
    let mut batch = Batch::default();
    // An index entry of a document the hub did not know as this user's
    // (none are expected) would otherwise outlive the account.
    for (key, _) in ctx.store.scan_prefix(keys::user_docs(&id).as_bytes())? {
        batch.delete(key);
    }
    let recordings = uploads::purge_user(ctx.store.as_ref(), &keys::AUDIO, &id, &mut batch)?;
    let evidence_files = uploads::purge_user(ctx.store.as_ref(), &keys::EVIDENCE, &id, &mut batch)?;
    batch.delete(keys::disabled_user(&id));
    batch.delete(keys::user(&id));
    let email_key = keys::email(&found.user.email);
    if ctx.store.get(email_key.as_bytes())?.as_deref() == Some(id.as_bytes()) {
        batch.delete(email_key);
    }
    ctx.store.apply(batch)?;
    ctx.store.flush().await?;
    tracing::info!(user = %id, documents = docs.len(), "account deleted");
    Ok(Deleted {
        id,
        documents: docs.len(),
        devices,
        recordings,
        evidence_files,
        memberships: memberships.len(),
    })
}

/// Everything about one user: the account, its devices, and every document
/// they own with its full history.
pub fn export(ctx: &Context, who: &str) -> Result<Export, AdminError> {
    let found = find(ctx, who)?;
    let devices = ctx
        .accounts
        .devices(&found.user.id)?
        .into_iter()
        .map(|device| DeviceInfo {
            id: device.id,
            name: device.name,
            created_at: device.created_at,
            last_seen_at: device.last_seen_at,
        })
        .collect();
    let mut documents = Vec::new();
    for doc in owned_documents(ctx.store.as_ref(), &found.user.id)? {
        documents.push(export_document(ctx, &doc)?);
    }
    let mut shared = Vec::new();
    for membership in ctx.hub.sharing().shared_with(&found.user.id)? {
        // One deleted meanwhile has nothing left to export.
        if ctx.hub.owner_of(&membership.document_id)?.is_none() {
            continue;
        }
        shared.push(SharedDocument {
            document: export_document(ctx, &membership.document_id)?,
            membership,
        });
    }
    tracing::info!(user = %found.user.id, documents = documents.len(), "account exported");
    Ok(Export {
        account: summary(ctx, &found)?,
        device_list: devices,
        exported_at: crate::clock::now_rfc3339(),
        documents,
        audio: uploads::user_records(ctx.store.as_ref(), &found.user.id)
            .map_err(|err| AdminError::Export(err.to_string()))?,
        evidence: uploads::user_records(ctx.store.as_ref(), &found.user.id)
            .map_err(|err| AdminError::Export(err.to_string()))?,
        shared,
    })
}

/// One document with its whole history, and its content as JSON.
fn export_document(ctx: &Context, doc: &DocumentId) -> Result<ExportedDocument, AdminError> {
    // Writes pause for the moment the chunks are read, so a compaction
    // cannot happen half-way through them.
    let (automerge, _) = ctx
        .store
        .paused(|_| DocStore::new(ctx.store.clone()).load(doc))?;
    let content = serde_json::to_value(AutoSerde::from(&automerge))
        .map_err(|err| AdminError::Export(err.to_string()))?;
    Ok(ExportedDocument {
        id: doc.to_string(),
        url: doc.to_url(),
        automerge: base64::engine::general_purpose::STANDARD.encode(automerge.save()),
        content,
    })
}

async fn sign_out_everywhere(ctx: &Context, user_id: &str) -> Result<(), AdminError> {
    for device in ctx.accounts.devices(user_id)? {
        ctx.accounts.revoke_device(user_id, &device.id).await?;
        ctx.hub.disconnect_device(&device.id);
    }
    Ok(())
}

/// Finds an account by email address or user ID.
fn find(ctx: &Context, who: &str) -> Result<Found, AdminError> {
    let id = if who.contains('@') {
        let email = normalise_email(who).map_err(|_| AdminError::NoSuchUser(who.to_owned()))?;
        match ctx.store.get(keys::email(&email).as_bytes())? {
            Some(id) => String::from_utf8_lossy(&id).into_owned(),
            None => return Err(AdminError::NoSuchUser(who.to_owned())),
        }
    } else {
        who.trim().to_owned()
    };
    for (key, status) in [
        (keys::user(&id), Status::Active),
        (keys::disabled_user(&id), Status::Disabled),
    ] {
        if let Some(bytes) = ctx.store.get(key.as_bytes())? {
            return Ok(Found {
                user: parse_user(&bytes)?,
                status,
            });
        }
    }
    Err(AdminError::NoSuchUser(who.to_owned()))
}

fn parse_user(bytes: &[u8]) -> Result<User, AdminError> {
    serde_json::from_slice(bytes)
        .map_err(|err| AdminError::Export(format!("unreadable account: {err}")))
}

fn summary(ctx: &Context, found: &Found) -> Result<UserSummary, AdminError> {
    let user = &found.user;
    Ok(UserSummary {
        id: user.id.clone(),
        email: user.email.clone(),
        status: found.status,
        created_at: user.created_at.clone(),
        root_doc_url: user.root_doc.to_url(),
        devices: ctx
            .store
            .scan_prefix(keys::user_devices(&user.id).as_bytes())?
            .len(),
        documents: owned_documents(ctx.store.as_ref(), &user.id)?.len(),
    })
}

fn owned_documents(store: &dyn Store, user_id: &str) -> Result<Vec<DocumentId>, AdminError> {
    let mut docs = Vec::new();
    for (key, _) in store.scan_prefix(keys::user_docs(user_id).as_bytes())? {
        let key = String::from_utf8_lossy(&key);
        let id = key.rsplit('/').next().unwrap_or_default();
        match DocumentId::parse(id) {
            Ok(doc) => docs.push(doc),
            Err(_) => tracing::warn!("skipping an unreadable document index entry"),
        }
    }
    Ok(docs)
}
