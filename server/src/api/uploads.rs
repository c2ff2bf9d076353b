//! What the upload endpoints (audio, evidence) share: checking a
//! declaration, appending one piece, and the refusals the contract names
//! (`wrong_offset` with `received`, `hash_mismatch`, `piece_too_large`, …).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_shared::DocumentId;
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::uploads::{Appended, Upload, UploadStore};

/// Largest body of one `PUT` of a piece.
pub const MAX_PIECE_BYTES: usize = 1024 * 1024;

pub type Reply = Result<Response, ApiError>;

#[derive(Deserialize)]
pub struct Offset {
    offset: u64,
}

/// The declared SHA-256 in lowercase, if it is one.
pub fn parse_sha256(sha256: &str) -> Result<String, ApiError> {
    let sha256 = sha256.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(
            "invalid_sha256",
            "sha256 must be the file's SHA-256 as 64 hexadecimal digits.".to_owned(),
        ));
    }
    Ok(sha256)
}

/// Refuses unless `document_id` is a document the user owns, answering
/// another user's document exactly as a missing one.
pub fn require_own_document(
    state: &AppState,
    user_id: &str,
    document_id: &str,
) -> Result<(), ApiError> {
    let owner = DocumentId::parse(document_id)
        .ok()
        .and_then(|doc| state.hub.owner_of(&doc).ok().flatten());
    if owner.as_deref() != Some(user_id) {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// The `?offset=N` and the body of a piece, or the refusal for them.
pub fn piece(
    offset: Result<Query<Offset>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(u64, Bytes), ApiError> {
    let Ok(Query(Offset { offset })) = offset else {
        return Err(ApiError::BadRequest(
            "invalid_offset",
            "Say where this piece starts: ?offset=N.".to_owned(),
        ));
    };
    let body = body.map_err(|_| piece_too_large())?;
    Ok((offset, body))
}

/// A piece over 1 MiB: found by the handler, or declared and refused by the
/// body limit before it (see `api::reshape`).
pub fn piece_too_large() -> ApiError {
    ApiError::PayloadTooLarge(
        "piece_too_large",
        "Send the file in pieces of at most 1 MiB.".to_owned(),
    )
}

/// Appends a piece at `offset`; `complete` runs on the record once the
/// whole file is in and verified. `noun` names the file in messages.
pub async fn append<R: Upload>(
    store: &UploadStore<R>,
    user_id: &str,
    id: &str,
    (offset, body): (u64, Bytes),
    complete: impl FnOnce(&mut R),
    noun: &str,
) -> Result<R, ApiError> {
    match store
        .append(user_id, id, offset, &body, complete)
        .await
        ?
    {
        None => Err(ApiError::NotFound),
        Some(Appended::WrongOffset { received }) => Err(ApiError::WrongOffset { received }),
        Some(Appended::Overflow) => Err(ApiError::BadRequest("too_much_data", format!("This piece goes past the size declared for the {noun}."))),
        Some(Appended::HashMismatch(_)) => Err(ApiError::UnprocessableEntity("hash_mismatch", format!(
                "The {noun} arrived damaged (its checksum does not match). Send it again from the start."
            ))),
        Some(Appended::Stored(record)) => Ok(record),
    }
}

/// A size as people read it: 850 bytes, 12 KB, 3.4 MB.
/// The answer to a declaration: 201 when it made the file's record, 200
/// when the same file (same SHA-256) was already declared (a retry), 409
/// `conflict_code` when another file holds the ID.
pub fn declared<R: Upload>(
    stored: &R,
    created: bool,
    sha256: &str,
    status: impl serde::Serialize,
    conflict_code: &'static str,
    conflict_message: &'static str,
) -> Reply {
    if !created && stored.sha256() != sha256 {
        return Err(ApiError::Conflict(conflict_code, conflict_message.into()));
    }
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(status)).into_response())
}

pub fn megabytes(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.0} KB", bytes as f64 / 1_000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(megabytes(850), "850 bytes");
        assert_eq!(megabytes(2_000), "2 KB");
        assert_eq!(megabytes(104_857_600), "104.9 MB");
    }
}
