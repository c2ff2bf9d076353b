//! Who is calling: the device token from the session cookie (browsers), an
//! `Authorization: Bearer` header, or Basic credentials with the user name
//! `token` (clients such as Node's WebSocket that can only put credentials in
//! the URL). Also the session cookie itself.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use base64::Engine;

use super::{ApiError, AppState};
use crate::accounts::{Device, User};

pub const SESSION_COOKIE: &str = "fieldbook_session";
/// A session cookie lasts a year; signing out or revoking ends it sooner.
const COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 60 * 60;

/// The authenticated user and device of a request.
pub struct CurrentDevice {
    pub user: User,
    pub device: Device,
}

impl FromRequestParts<AppState> for CurrentDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let found = match token_from(&parts.headers) {
            Some(token) => state.accounts.authenticate(&token)?,
            None => None,
        };
        match found {
            Some((user, device)) => {
                // Into the request's span, so its log lines name them.
                let span = tracing::Span::current();
                span.record("user", tracing::field::display(&user.id));
                span.record("device", tracing::field::display(&device.id));
                Ok(CurrentDevice { user, device })
            }
            None => {
                state.metrics.auth_failed();
                Err(ApiError::Unauthorized)
            }
        }
    }
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some(token.trim().to_owned());
        }
        if let Some(encoded) = value.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            return match decoded.split_once(':') {
                Some(("token", token)) => Some(token.to_owned()),
                _ => None,
            };
        }
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.to_owned())
}

/// Whether the client reached us over https (directly configured, or as a
/// trusted proxy in front of us reports).
pub(super) fn is_https(headers: &HeaderMap, state: &AppState) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

pub fn session_cookie(token: &str, headers: &HeaderMap, state: &AppState) -> String {
    let secure = if is_https(headers, state) {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECS}{secure}"
    )
}

pub fn cleared_cookie(headers: &HeaderMap, state: &AppState) -> String {
    let secure = if is_https(headers, state) {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_bearer_basic_or_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(token_from(&headers).as_deref(), Some("abc"));

        let basic = base64::engine::general_purpose::STANDARD.encode("token:xyz");
        headers.insert(AUTHORIZATION, format!("Basic {basic}").parse().unwrap());
        assert_eq!(token_from(&headers).as_deref(), Some("xyz"));

        let other_user = base64::engine::general_purpose::STANDARD.encode("admin:xyz");
        headers.insert(
            AUTHORIZATION,
            format!("Basic {other_user}").parse().unwrap(),
        );
        assert_eq!(token_from(&headers), None);

        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            "theme=dark; fieldbook_session=tok123".parse().unwrap(),
        );
        assert_eq!(token_from(&headers).as_deref(), Some("tok123"));
    }
}
