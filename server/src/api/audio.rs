//! Voice-note recordings: declare, upload in resumable pieces, follow the
//! transcription job, play back, retry, delete. The contract the PWA codes
//! against is in README.md ("Voice notes").
//!
//! A recording belongs to the user who declared it; another user's audio ID
//! answers exactly as a missing one (404).

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
use crate::audio::{is_valid_audio_id, AudioRecord, AudioState};

const ACCEPTED_TYPES: [&str; 3] = ["audio/webm", "audio/mp4", "audio/ogg"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declare {
    audio_id: String,
    document_id: String,
    note_id: String,
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
    if !is_valid_audio_id(&request.audio_id) {
        return Err(ApiError::BadRequest(
            "invalid_audio_id",
            "The recording's ID must be 16 to 64 letters, digits, - or _.".to_owned(),
        ));
    }
    if request.note_id.is_empty() || request.note_id.len() > 128 {
        return Err(ApiError::BadRequest(
            "invalid_note_id",
            "The recording must name the note it belongs to.".to_owned(),
        ));
    }
    let sha256 = parse_sha256(&request.sha256)?;
    if !is_accepted_type(&request.mime_type) {
        return Err(ApiError::UnsupportedMediaType(
            "unsupported_audio_type",
            "The server accepts recordings in WebM, MP4 or Ogg (audio/webm, audio/mp4, audio/ogg)."
                .to_owned(),
        ));
    }
    if request.size == 0 {
        return Err(ApiError::BadRequest(
            "empty_recording",
            "The recording is empty.".to_owned(),
        ));
    }
    require_own_document(&state, &user_id, &request.document_id)?;
    let service = &state.transcription;
    let limits = service.limits.clone();
    if request.size > limits.max_file_bytes {
        return Err(ApiError::PayloadTooLarge(
            "audio_too_large",
            format!(
                "This recording is {}; the server accepts recordings up to {}.",
                megabytes(request.size),
                megabytes(limits.max_file_bytes)
            ),
        ));
    }
    let record = AudioRecord {
        audio_id: request.audio_id,
        user_id: user_id.clone(),
        document_id: request.document_id,
        note_id: request.note_id,
        mime_type: request.mime_type,
        size: request.size,
        sha256,
        received: 0,
        state: AudioState::Uploading,
        error: None,
        transcript: None,
        transcript_written: false,
        created_at: crate::clock::now_secs(),
        done_at: None,
    };
    let size = record.size;
    let declared = service
        .audio
        .declare(record.clone(), |audio| {
            let used = audio.usage(&user_id)?;
            if used.saturating_add(size) > limits.quota_bytes {
                return Err(ApiError::PayloadTooLarge("audio_quota", format!(
                        "Your recordings already use {} of the {} you may keep on the server. \
                         Delete recordings you no longer need, or wait until transcribed ones are removed.",
                        megabytes(used),
                        megabytes(limits.quota_bytes)
                    )));
            }
            Ok(())
        })
        .await
        ??;
    let (stored, created) = declared;
    uploads::declared(
        &stored,
        created,
        &record.sha256,
        stored.status(),
        "audio_conflict",
        "A different recording was already sent with this ID.",
    )
}

pub async fn upload(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(audio_id): Path<String>,
    offset: Result<Query<Offset>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let piece = uploads::piece(offset, body)?;
    if !is_valid_audio_id(&audio_id) {
        return Err(ApiError::NotFound);
    }
    let service = &state.transcription;
    let complete = service.complete_state();
    let record = uploads::append(
        &service.audio,
        &current.user.id,
        &audio_id,
        piece,
        |r| r.state = complete,
        "recording",
    )
    .await?;
    if record.state == AudioState::Queued && record.received == record.size {
        service.enqueue(&record.user_id, &record.audio_id);
    }
    Ok(Json(record.status()).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(audio_id): Path<String>,
) -> Reply {
    let record = find(&state, &current, &audio_id)?;
    Ok(Json(record.status()).into_response())
}

pub async fn file(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(audio_id): Path<String>,
) -> Reply {
    let record = find(&state, &current, &audio_id)?;
    let bytes = state
        .transcription
        .audio
        .read_bytes(&record)?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, record.mime_type.clone()),
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(audio_id): Path<String>,
) -> Reply {
    let record = find(&state, &current, &audio_id)?;
    let service = &state.transcription;
    if !matches!(record.state, AudioState::Failed | AudioState::NoModel) {
        return Ok(Json(record.status()).into_response());
    }
    let next = service.complete_state();
    let record = service
        .audio
        .update(&record.user_id, &record.audio_id, |r| {
            r.state = next;
            r.error = None;
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    if next == AudioState::Queued {
        service.enqueue(&record.user_id, &record.audio_id);
    }
    Ok(Json(record.status()).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(audio_id): Path<String>,
) -> Reply {
    if !is_valid_audio_id(&audio_id)
        || !state
            .transcription
            .audio
            .delete(&current.user.id, &audio_id)
            .await?
    {
        return Err(ApiError::NotFound);
    }
    tracing::info!(user = %current.user.id, "recording deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn find(
    state: &AppState,
    current: &CurrentDevice,
    audio_id: &str,
) -> Result<AudioRecord, ApiError> {
    if !is_valid_audio_id(audio_id) {
        return Err(ApiError::NotFound);
    }
    state
        .transcription
        .audio
        .get(&current.user.id, audio_id)?
        .ok_or(ApiError::NotFound)
}

fn is_accepted_type(mime_type: &str) -> bool {
    let essence = mime_type.split(';').next().unwrap_or("").trim();
    ACCEPTED_TYPES
        .iter()
        .any(|accepted| essence.eq_ignore_ascii_case(accepted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_types_with_parameters_are_accepted() {
        assert!(is_accepted_type("audio/webm;codecs=opus"));
        assert!(is_accepted_type("audio/mp4"));
        assert!(is_accepted_type("Audio/Ogg; codecs=\"opus\""));
        assert!(!is_accepted_type("audio/wav"));
        assert!(!is_accepted_type("video/webm2"));
    }
}
