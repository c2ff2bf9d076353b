//! Sharing a document: invitations (make, list, withdraw, accept), its
//! members (list, grant another document, remove, leave) and the documents
//! shared with the caller.
//! The contract is in ARCHITECTURE.md ("Sharing"). Each accepted or ended
//! membership is also written into the member's root document
//! ([`shared_list`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use fieldbook_shared::DocumentId;
use serde::{Deserialize, Serialize};

use super::client_addr::client_ip;
use super::error::ApiJson;
use super::session::{is_https, CurrentDevice};
use super::{ApiError, AppState};
use crate::accounts::shared_list;
use crate::sharing::{
    clean_display_name, Grant, Invitation, InvitationState, Membership, NewInvitation, NewMember,
    Role, SharingError,
};

/// The name a member is listed by when they give none.
const DEFAULT_MEMBER_NAME: &str = "Member";

impl From<SharingError> for ApiError {
    fn from(err: SharingError) -> Self {
        let message = err.to_string();
        match err {
            SharingError::Expired => ApiError::Conflict("invitation_expired", message),
            SharingError::Used => ApiError::Conflict("invitation_used", message),
            SharingError::Revoked => ApiError::Conflict("invitation_revoked", message),
            SharingError::Invalid => ApiError::BadRequest("invitation_invalid", message),
            SharingError::OwnInvitation => ApiError::Conflict("own_invitation", message),
            SharingError::InvalidRole => ApiError::BadRequest("invalid_role", message),
            SharingError::InvalidDisplayName => {
                ApiError::BadRequest("invalid_display_name", message)
            }
            SharingError::TooManyDocuments => ApiError::BadRequest("too_many_documents", message),
            SharingError::Store(_) | SharingError::Corrupt(_) => ApiError::Internal(message),
        }
    }
}

fn parse_doc_id(id: &str) -> Result<DocumentId, ApiError> {
    DocumentId::parse(id).map_err(|_| {
        ApiError::BadRequest(
            "invalid_document_id",
            "That is not a document ID.".to_owned(),
        )
    })
}

/// Refuses (as not found, revealing nothing) unless `user_id` owns `doc`.
fn require_owner(state: &AppState, doc: &DocumentId, user_id: &str) -> Result<(), ApiError> {
    match state.hub.owner_of(doc)? {
        Some(owner) if owner == user_id => Ok(()),
        _ => Err(ApiError::NotFound),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    role: Role,
    #[serde(default)]
    include: Vec<Grant>,
    /// The name the owner is shown by to whoever accepts.
    display_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationCreated {
    invitation_id: String,
    token: String,
    url: String,
    role: Role,
    expires_at: String,
}

pub async fn create_invitation(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<InviteRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let doc = parse_doc_id(&id)?;
    let user_id = &current.user.id;
    if doc == current.user.root_doc {
        return Err(ApiError::Conflict(
            "root_document",
            "The list of your entries cannot be shared; share an entry instead.".to_owned(),
        ));
    }
    let mut grants = vec![Grant {
        document_id: doc,
        role: request.role,
    }];
    grants.extend(request.include);
    for grant in &grants {
        if grant.document_id == current.user.root_doc {
            return Err(ApiError::NotFound);
        }
        require_owner(&state, &grant.document_id, user_id)?;
    }
    let (invitation, token) = state.hub.sharing().create_invitation(NewInvitation {
        created_by: user_id,
        owner_display_name: request.display_name.as_deref(),
        grants,
    })?;
    state.hub.sharing().flush().await?;
    tracing::info!(user = %user_id, invitation = %invitation.id, "invitation made");
    Ok((
        StatusCode::CREATED,
        Json(InvitationCreated {
            url: format!("{}/#/invite/{token}", origin(&headers, &state)),
            invitation_id: invitation.id,
            token,
            role: invitation.role,
            expires_at: invitation.expires_at,
        }),
    ))
}

/// The origin the caller reached us at; the invitation link points there.
fn origin(headers: &HeaderMap, state: &AppState) -> String {
    let scheme = if is_https(headers, state) {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    invitation_id: String,
    role: Role,
    include: Vec<Grant>,
    state: &'static str,
    created_at: String,
    expires_at: String,
}

impl InvitationView {
    fn of(invitation: Invitation) -> Self {
        let state = match invitation.state {
            InvitationState::Used => "used",
            InvitationState::Revoked => "revoked",
            InvitationState::Open if invitation.expired_at(crate::clock::now_millis()) => "expired",
            InvitationState::Open => "open",
        };
        Self {
            invitation_id: invitation.id,
            role: invitation.role,
            include: invitation.grants.into_iter().skip(1).collect(),
            state,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }
}

pub async fn list_invitations(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(id): Path<String>,
) -> Result<Json<Vec<InvitationView>>, ApiError> {
    let doc = parse_doc_id(&id)?;
    require_owner(&state, &doc, &current.user.id)?;
    let invitations = state.hub.sharing().invitations(&doc)?;
    Ok(Json(
        invitations.into_iter().map(InvitationView::of).collect(),
    ))
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let sharing = state.hub.sharing();
    let invitation = sharing
        .invitation(&id)?
        .filter(|invitation| invitation.created_by == current.user.id)
        .ok_or(ApiError::NotFound)?;
    sharing.revoke_invitation(&invitation)?;
    state.hub.sharing().flush().await?;
    tracing::info!(user = %current.user.id, invitation = %invitation.id, "invitation withdrawn");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptRequest {
    token: String,
    display_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    document_id: DocumentId,
    role: Role,
}

pub async fn accept(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    current: CurrentDevice,
    ApiJson(request): ApiJson<AcceptRequest>,
) -> Result<Json<Accepted>, ApiError> {
    // Guessing tokens is slowed down as guessing passwords is.
    let client = client_ip(client.ip(), &headers, &state.config.trusted_proxies);
    let keys = [
        format!("invite-ip:{client}"),
        format!("invite-user:{}", current.user.id),
    ];
    for key in &keys {
        if let Err(wait) = state.login_limiter.check(key) {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
    }
    let display_name = match request.display_name.as_deref() {
        Some(name) => clean_display_name(name)?,
        None => DEFAULT_MEMBER_NAME.to_owned(),
    };
    let member = NewMember {
        user_id: &current.user.id,
        display_name: &display_name,
    };
    let accepted = state
        .hub
        .sharing()
        .accept_invitation(&request.token, member, |doc, inviter| {
            // A document deleted (or never owned) since is left out.
            Ok(state.hub.owner_of(doc)?.as_deref() == Some(inviter))
        });
    let (invitation, memberships) = match accepted {
        Err(SharingError::Invalid) => {
            keys.iter()
                .for_each(|key| state.login_limiter.record_failure(key));
            return Err(SharingError::Invalid.into());
        }
        other => other?,
    };
    state.hub.sharing().flush().await?;
    let mut joined = 0;
    for membership in &memberships {
        if state.hub.admit_member(membership).await? {
            joined += 1;
        }
    }
    shared_list::refresh(&state.hub, &state.accounts, &current.user.id).await?;
    if joined == 0 {
        return Err(SharingError::Invalid.into());
    }
    tracing::info!(user = %current.user.id, invitation = %invitation.id, documents = joined, "invitation accepted");
    Ok(Json(Accepted {
        document_id: invitation.document_id,
        role: invitation.role,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    user_id: String,
    display_name: String,
    role: Role,
    since: String,
}

impl MemberView {
    fn of(member: Membership) -> Self {
        Self {
            user_id: member.user_id,
            display_name: member.display_name,
            role: member.role,
            since: member.since,
        }
    }
}

pub async fn members(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(id): Path<String>,
) -> Result<Json<Vec<MemberView>>, ApiError> {
    let doc = parse_doc_id(&id)?;
    let sharing = state.hub.sharing();
    let is_owner = state.hub.owner_of(&doc)?.as_deref() == Some(current.user.id.as_str());
    if !is_owner && sharing.membership(&doc, &current.user.id)?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(
        sharing
            .members(&doc)?
            .into_iter()
            .map(MemberView::of)
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRequest {
    user_id: String,
    role: Role,
    /// Another document of the same owner that the user is already a member
    /// of: the grant extends that share, so nobody is added who was not let in.
    via: String,
}

/// The owner gives an existing member of one of their documents a role on
/// another of their documents (an entry made later in a registration year
/// whose portfolio that member already reads). No invitation: the member
/// accepted one for `via`, and the name they chose there is kept.
pub async fn grant_member(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let doc = parse_doc_id(&id)?;
    let via = parse_doc_id(&request.via)?;
    if request.role == Role::Owner {
        return Err(SharingError::InvalidRole.into());
    }
    let user_id = &current.user.id;
    if doc == current.user.root_doc {
        return Err(ApiError::NotFound);
    }
    require_owner(&state, &doc, user_id)?;
    require_owner(&state, &via, user_id)?;
    let sharing = state.hub.sharing();
    let Some(through) = sharing.membership(&via, &request.user_id)? else {
        return Err(ApiError::NotFound);
    };
    if let Some(existing) = sharing.membership(&doc, &request.user_id)? {
        return Ok((StatusCode::OK, Json(MemberView::of(existing))));
    }
    let membership = Membership {
        document_id: doc,
        user_id: request.user_id.clone(),
        role: request.role,
        display_name: through.display_name,
        owner_display_name: through.owner_display_name,
        since: crate::clock::now_rfc3339(),
    };
    sharing.put_membership(&membership)?;
    sharing.flush().await?;
    // Deleted since it was checked: the membership is gone again.
    if !state.hub.admit_member(&membership).await? {
        return Err(ApiError::NotFound);
    }
    shared_list::refresh(&state.hub, &state.accounts, &membership.user_id).await?;
    tracing::info!(user = %user_id, member = %membership.user_id, "member granted another document");
    Ok((StatusCode::CREATED, Json(MemberView::of(membership))))
}

/// The owner removes a member; a member removes themselves (leaves).
pub async fn remove_member(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let doc = parse_doc_id(&id)?;
    let is_owner = state.hub.owner_of(&doc)?.as_deref() == Some(current.user.id.as_str());
    if !is_owner && user_id != current.user.id {
        return Err(ApiError::NotFound);
    }
    if !state.hub.remove_member(&doc, &user_id).await? {
        return Err(ApiError::NotFound);
    }
    shared_list::refresh(&state.hub, &state.accounts, &user_id).await?;
    tracing::info!(user = %current.user.id, member = %user_id, "member removed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedView {
    document_id: DocumentId,
    role: Role,
    owner_display_name: String,
    since: String,
}

pub async fn shared_with_me(
    State(state): State<AppState>,
    current: CurrentDevice,
) -> Result<Json<Vec<SharedView>>, ApiError> {
    Ok(Json(
        state
            .hub
            .sharing()
            .shared_with(&current.user.id)?
            .into_iter()
            .map(|membership| SharedView {
                document_id: membership.document_id,
                role: membership.role,
                owner_display_name: membership.owner_display_name,
                since: membership.since,
            })
            .collect(),
    ))
}
