//! Documents: deletion. Deleting removes the document's data on the server,
//! leaves a tombstone so a stale device cannot bring it back, tells devices
//! that have it open, removes it from the user's root document list, and
//! deletes the evidence files and voice recordings attached to it.

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fieldbook_shared::entry::keys;
use fieldbook_shared::DocumentId;

use super::session::CurrentDevice;
use super::{ApiError, AppState};

pub async fn delete(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let doc_id = DocumentId::parse(&id).map_err(|_| {
        ApiError::BadRequest(
            "invalid_document_id",
            "That is not a document ID.".to_owned(),
        )
    })?;
    let root = current.user.root_doc;
    if doc_id == root {
        return Err(ApiError::Conflict(
            "root_document",
            "The list of your entries cannot be deleted; delete your account instead.".to_owned(),
        ));
    }
    if !state.hub.delete_document(doc_id, &current.user.id).await? {
        return Err(ApiError::NotFound);
    }
    // Its members' devices were told it is unavailable; their lists of
    // what is shared with them lose it too.
    crate::accounts::shared_list::forget_deleted(&state.hub, &state.accounts, &doc_id).await?;
    let key = doc_id.to_string();
    state
        .hub
        .change_document(root, &current.user.id, |tx| {
            if let Ok(Some((_, entries))) = tx.get(ROOT, keys::ENTRIES) {
                // Absent when another device already removed it: fine.
                let _ = tx.delete(&entries, key.as_str());
            }
        })
        .await?;
    // Its files go with it: delete means delete.
    state
        .evidence
        .store
        .delete_for_document(&current.user.id, &key)
        .await?;
    state
        .transcription
        .audio
        .delete_for_document(&current.user.id, &key)
        .await?;
    tracing::info!(user = %current.user.id, "document deleted");
    Ok(StatusCode::NO_CONTENT)
}
