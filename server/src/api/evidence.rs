//! Evidence files (certificates, slides, photos of handouts): declare,
//! upload in resumable pieces, ask how far it got, download, delete. The
//! same contract as `/api/audio` (see README.md, "HTTP API").
//!
//! A file belongs to the user who declared it; another user's evidence ID
//! answers exactly as a missing one (404). Files are only ever served as
//! downloads with their accepted type and `nosniff`, so an upload can never
//! run as a page on this origin.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::error::ApiJson;
use super::session::CurrentDevice;
use super::uploads::{self, megabytes, parse_sha256, require_own_document, Offset, Reply};
use super::{ApiError, AppState};
use crate::uploads::evidence::{
    canonical_type, is_valid_evidence_id, is_valid_name, EvidenceRecord, MAX_NAME_CHARS,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declare {
    evidence_id: String,
    document_id: String,
    name: String,
    mime_type: String,
    size: u64,
    sha256: String,
}

pub async fn declare(
    State(state): State<AppState>,
    current: CurrentDevice,
    ApiJson(request): ApiJson<Declare>,
) -> Reply {
    let user_id = current.user.id.clone();
    if !is_valid_evidence_id(&request.evidence_id) {
        return Err(ApiError::BadRequest(
            "invalid_evidence_id",
            "The file's ID must be 16 to 64 letters, digits, - or _.".to_owned(),
        ));
    }
    if !is_valid_name(&request.name) {
        return Err(ApiError::BadRequest(
            "invalid_name",
            format!(
                "The file needs a name of at most {MAX_NAME_CHARS} characters, without / or \\."
            ),
        ));
    }
    let sha256 = parse_sha256(&request.sha256)?;
    let Some(mime_type) = canonical_type(&request.mime_type) else {
        return Err(ApiError::UnsupportedMediaType(
            "unsupported_evidence_type",
            "Evidence can be a PDF, a photo (PNG, JPEG, WebP or HEIC), or slides or a document \
             (PowerPoint, Word, or OpenDocument)."
                .to_owned(),
        ));
    };
    if request.size == 0 {
        return Err(ApiError::BadRequest(
            "empty_file",
            "The file is empty.".to_owned(),
        ));
    }
    require_own_document(&state, &user_id, &request.document_id)?;
    let evidence = &state.evidence;
    let limits = evidence.limits;
    if request.size > limits.max_file_bytes {
        return Err(ApiError::PayloadTooLarge(
            "evidence_too_large",
            format!(
                "This file is {}; the server accepts evidence files up to {}.",
                megabytes(request.size),
                megabytes(limits.max_file_bytes)
            ),
        ));
    }
    let record = EvidenceRecord {
        evidence_id: request.evidence_id,
        user_id: user_id.clone(),
        document_id: request.document_id,
        name: request.name,
        mime_type: mime_type.to_owned(),
        size: request.size,
        sha256,
        received: 0,
        created_at: crate::clock::now_secs(),
    };
    let size = record.size;
    let (stored, created) = evidence
        .store
        .declare(record.clone(), |store| {
            let used = store.usage(&user_id)?;
            if used.saturating_add(size) > limits.quota_bytes {
                return Err(ApiError::PayloadTooLarge(
                    "evidence_quota",
                    format!(
                        "Your evidence files already use {} of the {} you may keep on the server. \
                         Remove files you no longer need from your entries.",
                        megabytes(used),
                        megabytes(limits.quota_bytes)
                    ),
                ));
            }
            Ok(())
        })
        .await??;
    uploads::declared(
        &stored,
        created,
        &record.sha256,
        stored.status(),
        "evidence_conflict",
        "A different file was already sent with this ID.",
    )
}

pub async fn upload(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(evidence_id): Path<String>,
    offset: Result<Query<Offset>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let piece = uploads::piece(offset, body)?;
    if !is_valid_evidence_id(&evidence_id) {
        return Err(ApiError::NotFound);
    }
    let record = uploads::append(
        &state.evidence.store,
        &current.user.id,
        &evidence_id,
        piece,
        |_| {},
        "file",
    )
    .await?;
    Ok(Json(record.status()).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(evidence_id): Path<String>,
) -> Reply {
    let record = find(&state, &current, &evidence_id)?;
    Ok(Json(record.status()).into_response())
}

pub async fn file(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(evidence_id): Path<String>,
) -> Reply {
    let record = find(&state, &current, &evidence_id)?;
    let bytes = state
        .evidence
        .store
        .read_bytes(&record)?
        .ok_or(ApiError::NotFound)?;
    // The type is one of the accepted ones, re-checked in case a stored
    // record predates a change to the list; anything else is plain bytes.
    let mime_type = canonical_type(&record.mime_type).unwrap_or("application/octet-stream");
    Ok((
        [
            (header::CONTENT_TYPE, mime_type.to_owned()),
            (header::CONTENT_DISPOSITION, attachment(&record.name)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(evidence_id): Path<String>,
) -> Reply {
    if !is_valid_evidence_id(&evidence_id)
        || !state
            .evidence
            .store
            .delete(&current.user.id, &evidence_id)
            .await?
    {
        return Err(ApiError::NotFound);
    }
    tracing::info!(user = %current.user.id, "evidence file deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn find(
    state: &AppState,
    current: &CurrentDevice,
    evidence_id: &str,
) -> Result<EvidenceRecord, ApiError> {
    if !is_valid_evidence_id(evidence_id) {
        return Err(ApiError::NotFound);
    }
    state
        .evidence
        .store
        .get(&current.user.id, evidence_id)?
        .ok_or(ApiError::NotFound)
}

/// `attachment` with the file name: an ASCII fallback for old clients and
/// the exact name percent-encoded (RFC 6266 / RFC 8187).
fn attachment(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_cannot_break_out_of_the_header() {
        assert_eq!(
            attachment("Certificate (2026).pdf"),
            "attachment; filename=\"Certificate (2026).pdf\"; filename*=UTF-8''Certificate%20%282026%29.pdf"
        );
        let hostile = attachment("a\";b=c é.pdf");
        assert!(hostile.starts_with("attachment; filename=\"a__b_c _.pdf\"; "));
        assert!(hostile.ends_with("filename*=UTF-8''a%22%3Bb%3Dc%20%C3%A9.pdf"));
    }
}
