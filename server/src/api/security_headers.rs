//! Security headers on every response: the fixed ones as tower-http's
//! `SetResponseHeaderLayer`s (see `api::router`), and Strict-Transport-Security
//! here, as it depends on the request (only over https).
//!
//! The content security policy allows only our own origin: no inline script
//! or style, no third-party anything (notes are confidential, so the app must
//! not be able to talk to anyone but this server). `wasm-unsafe-eval` lets the
//! browser compile Automerge's WebAssembly and nothing else.

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::session::is_https;
use super::AppState;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Set on every response, replacing any a handler set.
pub const FIXED: [(HeaderName, HeaderValue); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("microphone=(self), camera=(), geolocation=()"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

/// Strict-Transport-Security, only on responses to requests that came over
/// https (browsers ignore it over plain http, and it must not be promised
/// for a server that is not behind TLS).
pub async fn hsts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let https = is_https(request.headers(), &state);
    let mut response = next.run(request).await;
    if https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
