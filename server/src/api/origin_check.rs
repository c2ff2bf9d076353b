//! Cross-site request forgery protection: a browser on another site must not
//! be able to make a signed-in user's browser change anything here, or open
//! a sync socket with the user's cookie.
//!
//! The session cookie is already `SameSite=Strict`; this is the second lock,
//! for browsers that ignore SameSite and for "same-site" subdomains. Every
//! state-changing request (any method but GET, HEAD, OPTIONS) and every
//! `/sync` upgrade is refused with 403 when the browser says it comes from
//! elsewhere: an `Origin` whose host is not the one the request was sent to,
//! or `Sec-Fetch-Site` other than `same-origin`/`none`. Requests that say
//! nothing (curl, Node clients) pass, as do requests with an
//! `Authorization: Bearer` header, which a foreign page cannot add without a
//! CORS preflight this server never grants.

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let guarded = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.uri().path() == "/sync";
    if guarded && !has_bearer(request.headers()) {
        if let Some(why) = cross_site(request.headers()) {
            tracing::warn!(
                method = %request.method(),
                path = request.uri().path(),
                why,
                "cross-site request refused"
            );
            return ApiError::Forbidden(
                "cross_origin",
                "This request came from another website, so it was refused. \
                 Open Fieldbook itself and try again."
                    .to_owned(),
            )
            .into_response();
        }
    }
    next.run(request).await
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
}

/// Why the browser's own headers say this request is from another site, if
/// they do.
fn cross_site(headers: &HeaderMap) -> Option<&'static str> {
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        if !matches!(site.to_str(), Ok("same-origin") | Ok("none")) {
            return Some("sec-fetch-site");
        }
    }
    let origin = headers.get(ORIGIN)?;
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| authority.trim_end_matches('/'));
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => None,
        // "null" (sandboxed frames, file: pages), unreadable, or another host.
        _ => Some("origin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn same_origin_and_silent_requests_pass() {
        assert_eq!(cross_site(&headers(&[])), None);
        assert_eq!(cross_site(&headers(&[("host", "fb.example.org")])), None);
        let same = [
            ("host", "fb.example.org"),
            ("origin", "https://fb.example.org"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert_eq!(cross_site(&headers(&same)), None);
        let with_port = [
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080"),
        ];
        assert_eq!(cross_site(&headers(&with_port)), None);
    }

    #[test]
    fn other_sites_are_named() {
        let foreign = [
            ("host", "fb.example.org"),
            ("origin", "https://evil.example"),
        ];
        assert_eq!(cross_site(&headers(&foreign)), Some("origin"));
        let other_port = [
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8081"),
        ];
        assert_eq!(cross_site(&headers(&other_port)), Some("origin"));
        let null = [("host", "fb.example.org"), ("origin", "null")];
        assert_eq!(cross_site(&headers(&null)), Some("origin"));
        let sibling = [("host", "fb.example.org"), ("sec-fetch-site", "same-site")];
        assert_eq!(cross_site(&headers(&sibling)), Some("sec-fetch-site"));
        let no_host = [("origin", "https://fb.example.org")];
        assert_eq!(cross_site(&headers(&no_host)), Some("origin"));
    }
}
