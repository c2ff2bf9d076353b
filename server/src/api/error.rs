//! The one error type at the HTTP edge: each variant maps to a status and the
//! JSON body `{"error": {"code", "message"}}`. Internal details are logged
//! here, once, and never sent to the client.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::accounts::AccountError;
use crate::sync::doc_store::DocStoreError;
use crate::uploads::UploadStoreError;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(&'static str, String),
    Unauthorized,
    Forbidden(&'static str, String),
    NotFound,
    Conflict(&'static str, String),
    /// An upload's piece that does not start where the server's copy ends:
    /// the client resumes from `received`, which the body carries.
    WrongOffset {
        received: u64,
    },
    /// A body over its limit ([`ApiError::too_large`]), or a file over its
    /// limit or its owner's quota, with its own code.
    PayloadTooLarge(&'static str, String),
    /// The request did not finish in time (a body trickled in, a stall).
    Timeout,
    /// A body that is not JSON ([`ApiError::not_json`]), or a file of a
    /// type the server does not take, with its own code.
    UnsupportedMediaType(&'static str, String),
    /// Well-formed but unusable: a file that arrived damaged.
    UnprocessableEntity(&'static str, String),
    TooManyRequests {
        retry_after_secs: u64,
    },
    Internal(String),
}

impl ApiError {
    /// A request body over the route's limit.
    pub fn too_large() -> Self {
        ApiError::PayloadTooLarge("too_large", "The request is too large.".to_owned())
    }

    /// A JSON route's body sent without a JSON content type.
    pub fn not_json() -> Self {
        ApiError::UnsupportedMediaType(
            "unsupported_media_type",
            "Send the request body as JSON (Content-Type: application/json).".to_owned(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::BadRequest(code, message) => (StatusCode::BAD_REQUEST, code, message),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in to continue.".to_owned(),
            ),
            ApiError::Forbidden(code, message) => (StatusCode::FORBIDDEN, code, message),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found.".to_owned()),
            ApiError::Conflict(code, message) => (StatusCode::CONFLICT, code, message),
            ApiError::WrongOffset { received } => {
                let body = json!({
                    "error": {
                        "code": "wrong_offset",
                        "message": format!(
                            "The server has {received} bytes of this file; continue from there."
                        ),
                        "received": received,
                    },
                    "received": received,
                });
                return (StatusCode::CONFLICT, Json(body)).into_response();
            }
            ApiError::PayloadTooLarge(code, message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, code, message)
            }
            ApiError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "The request took too long. Nothing was changed unless it says so; try again."
                    .to_owned(),
            ),
            ApiError::UnsupportedMediaType(code, message) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, code, message)
            }
            ApiError::UnprocessableEntity(code, message) => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                let body = error_body(
                    "too_many_requests",
                    &format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                );
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, retry_after_secs.to_string())],
                    body,
                )
                    .into_response();
            }
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on the server. Nothing was changed; try again."
                        .to_owned(),
                )
            }
        };
        (status, error_body(code, &message)).into_response()
    }
}

fn error_body(code: &str, message: &str) -> Json<serde_json::Value> {
    Json(json!({ "error": { "code": code, "message": message } }))
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        let message = err.to_string();
        match err {
            AccountError::InvalidEmail => ApiError::BadRequest("invalid_email", message),
            AccountError::PasswordTooShort => ApiError::BadRequest("password_too_short", message),
            AccountError::PasswordTooLong => ApiError::BadRequest("password_too_long", message),
            AccountError::PasswordTooGuessable => {
                ApiError::BadRequest("password_too_guessable", message)
            }
            AccountError::EmailTaken => ApiError::Conflict("email_taken", message),
            AccountError::BadCredentials => ApiError::Unauthorized,
            AccountError::DeviceNotFound => ApiError::NotFound,
            AccountError::Store(_) | AccountError::Docs(_) | AccountError::Hashing(_) => {
                ApiError::Internal(message)
            }
        }
    }
}

impl From<DocStoreError> for ApiError {
    fn from(err: DocStoreError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<UploadStoreError> for ApiError {
    fn from(err: UploadStoreError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

/// `Json` whose rejections use our error shape and never echo the body back.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::not_json()),
            Err(JsonRejection::JsonSyntaxError(_)) => Err(ApiError::BadRequest(
                "invalid_json",
                "The request body is not valid JSON.".to_owned(),
            )),
            Err(JsonRejection::JsonDataError(_)) => Err(ApiError::BadRequest(
                "invalid_request",
                "The request body is missing a field or has a field of the wrong type.".to_owned(),
            )),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::too_large()),
            Err(other) => Err(ApiError::BadRequest("invalid_request", other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(err: ApiError) -> (StatusCode, serde_json::Value) {
        let response = err.into_response();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn the_upload_refusals_keep_the_contracts_bodies() {
        let (status, body) = answer(ApiError::WrongOffset { received: 1024 }).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            body,
            json!({
                "error": {
                    "code": "wrong_offset",
                    "message": "The server has 1024 bytes of this file; continue from there.",
                    "received": 1024,
                },
                "received": 1024,
            })
        );
        let (status, body) = answer(ApiError::UnprocessableEntity(
            "hash_mismatch",
            "damaged".to_owned(),
        ))
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            json!({ "error": { "code": "hash_mismatch", "message": "damaged" } })
        );
    }

    #[tokio::test]
    async fn the_generic_refusals_keep_their_codes() {
        let (status, body) = answer(ApiError::too_large()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "too_large");
        let (status, body) = answer(ApiError::not_json()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["error"]["code"], "unsupported_media_type");
        let (status, body) =
            answer(ApiError::PayloadTooLarge("audio_quota", "full".to_owned())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "audio_quota");
    }
}
