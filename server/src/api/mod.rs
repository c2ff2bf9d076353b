//! The HTTP surface: one route table, one module per resource.

mod audio;
mod auth;
pub mod client_addr;
pub mod deadlines;
mod devices;
mod documents;
mod error;
mod evidence;
mod me;
mod ops;
mod origin_check;
mod security_headers;
mod session;
mod sharing;
mod sync;
mod uploads;
mod web_app;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::handler::Handler;
use axum::http::{header, Request, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::accounts::rate_limit::RateLimiter;
use crate::accounts::Accounts;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::sync::hub::Hub;

pub use error::ApiError;

/// JSON request bodies are small; anything bigger is refused before parsing.
const MAX_JSON_BODY_BYTES: usize = 64 * 1024;
/// How long a request may take until its handler answers: a recording
/// piece of 1 MiB on a poor mobile link, with room to spare. The WebSocket
/// after an upgrade is not a request any more (its keep-alive looks after
/// it), and a client that stalls before its request head is complete, or
/// stops reading, meets the connection deadlines (`crate::api::deadlines`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub accounts: Arc<Accounts>,
    pub hub: Arc<Hub>,
    pub metrics: Arc<Metrics>,
    pub login_limiter: Arc<RateLimiter>,
    pub storage_id: Arc<str>,
    pub shutdown: watch::Receiver<bool>,
    pub transcription: Arc<crate::audio::Transcription>,
    pub evidence: Arc<crate::uploads::evidence::Evidence>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/auth/register",
            post(auth::register.layer(json_body_limit())),
        )
        .route("/auth/login", post(auth::login.layer(json_body_limit())))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(me::show))
        .route("/devices", get(devices::list))
        .route("/devices/{id}", delete(devices::revoke))
        .route("/documents/{id}", delete(documents::delete))
        .route(
            "/documents/{id}/invitations",
            post(sharing::create_invitation.layer(json_body_limit()))
                .get(sharing::list_invitations),
        )
        .route(
            "/invitations/accept",
            post(sharing::accept.layer(json_body_limit())),
        )
        .route("/invitations/{id}", delete(sharing::revoke_invitation))
        .route(
            "/documents/{id}/members",
            get(sharing::members).post(sharing::grant_member.layer(json_body_limit())),
        )
        .route(
            "/documents/{id}/members/{user_id}",
            delete(sharing::remove_member),
        )
        .route("/shared", get(sharing::shared_with_me))
        .route("/audio", post(audio::declare.layer(json_body_limit())))
        .route(
            "/audio/{id}",
            get(audio::show)
                .put(audio::upload.layer(piece_body_limit()))
                .delete(audio::delete),
        )
        .route("/audio/{id}/file", get(audio::file))
        .route("/audio/{id}/retry", post(audio::retry))
        .route(
            "/evidence",
            post(evidence::declare.layer(json_body_limit())),
        )
        .route(
            "/evidence/{id}",
            get(evidence::show)
                .put(evidence::upload.layer(piece_body_limit()))
                .delete(evidence::delete),
        )
        .route("/evidence/{id}/file", get(evidence::file))
        .fallback(|| async { ApiError::NotFound });
    with_layers(
        Router::new()
            .nest("/api", api)
            .route("/sync", get(sync::upgrade))
            .route("/healthz", get(ops::healthz))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics))
            .fallback(web_app::serve),
        state,
    )
}

/// The limit on a JSON body, on the routes that read one (a route that
/// takes no body answers as usual whatever is sent).
fn json_body_limit() -> RequestBodyLimitLayer {
    RequestBodyLimitLayer::new(MAX_JSON_BODY_BYTES)
}

/// The limit on a piece of an upload (a recording or an evidence file).
fn piece_body_limit() -> RequestBodyLimitLayer {
    RequestBodyLimitLayer::new(uploads::MAX_PIECE_BYTES)
}

/// tower-http's layers around every route, innermost first.
fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let routes = routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(in_our_error_shape))
        .layer(middleware::from_fn(origin_check::refuse_cross_site))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers::hsts,
        ));
    security_headers::FIXED
        .into_iter()
        .fold(routes, |routes, (name, value)| {
            routes.layer(SetResponseHeaderLayer::overriding(name, value))
        })
        // Outermost: every request gets an ID (a proxy's own is kept) and a
        // span carrying it, and the response says which it was.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The span of one HTTP request: its ID, method and path (never the query,
/// headers or body); the session records the user and device once known.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        user = tracing::field::Empty,
        device = tracing::field::Empty,
    )
}

/// tower-http's layers refuse with a bare status (a body over the limit, a
/// request past its deadline); those get our JSON error body too, a piece
/// of an upload the same refusal as its handler gives.
async fn in_our_error_shape(request: axum::extract::Request, next: middleware::Next) -> Response {
    let is_piece = request.method() == axum::http::Method::PUT
        && ["/api/audio/", "/api/evidence/"]
            .iter()
            .any(|prefix| request.uri().path().starts_with(prefix));
    reshape(next.run(request).await, is_piece)
}

fn reshape(response: Response, is_piece: bool) -> Response {
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !ours && is_piece => {
            uploads::piece_too_large().into_response()
        }
        StatusCode::PAYLOAD_TOO_LARGE if !ours => ApiError::too_large().into_response(),
        StatusCode::REQUEST_TIMEOUT if !ours => ApiError::Timeout.into_response(),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode};
    use axum::response::IntoResponse;
    use tower::ServiceExt;

    use crate::{build, Config, StorageKind};

    fn app() -> axum::Router {
        app_serving(std::path::Path::new("/nonexistent"))
    }

    fn app_serving(pwa_dir: &std::path::Path) -> axum::Router {
        build(Config {
            storage: StorageKind::Memory,
            pwa_dir: pwa_dir.to_owned(),
            ..Config::default()
        })
        .unwrap()
        .router()
    }

    async fn send(router: axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn get(path: &str) -> (StatusCode, String) {
        let (status, _, body) = send(app(), Request::get(path).body(Body::empty()).unwrap()).await;
        (status, body)
    }

    /// A built app with a hashed asset, in a temporary directory.
    fn built_app() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<!doctype html><title>Fieldbook</title>",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sw.js"),
            "self.addEventListener('fetch', () => {})",
        )
        .unwrap();
        std::fs::write(dir.path().join("assets/index-abc123.js"), "console.log(1)").unwrap();
        dir
    }

    #[tokio::test]
    async fn the_app_shell_must_be_revalidated_and_hashed_assets_are_immutable() {
        let dir = built_app();
        let (status, headers, body) = send(
            app_serving(dir.path()),
            Request::get("/").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<title>Fieldbook</title>"));
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["cache-control"], "no-cache");

        let (_, headers, _) = send(
            app_serving(dir.path()),
            Request::get("/sw.js").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(headers["cache-control"], "no-cache");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));

        let (status, headers, body) = send(
            app_serving(dir.path()),
            Request::get("/assets/index-abc123.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "console.log(1)");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }

    #[tokio::test]
    async fn a_gzipped_copy_goes_to_browsers_that_accept_gzip() {
        let dir = built_app();
        std::fs::write(dir.path().join("assets/index-abc123.js.gz"), b"gzip bytes").unwrap();
        let (_, headers, body) = send(
            app_serving(dir.path()),
            Request::get("/assets/index-abc123.js")
                .header("accept-encoding", "gzip, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["vary"], "accept-encoding");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        assert_eq!(body, "gzip bytes");

        let (_, headers, body) = send(
            app_serving(dir.path()),
            Request::get("/assets/index-abc123.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body, "console.log(1)");
    }

    async fn fetch(dir: &std::path::Path, path: &str, accept: Option<&str>) -> (HeaderMap, String) {
        let mut request = Request::get(path);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let (status, headers, body) =
            send(app_serving(dir), request.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        (headers, body)
    }

    #[tokio::test]
    async fn the_brotli_copy_is_preferred_and_q0_refuses_a_coding() {
        let dir = built_app();
        std::fs::write(dir.path().join("assets/index-abc123.js.gz"), b"gzip bytes").unwrap();
        std::fs::write(
            dir.path().join("assets/index-abc123.js.br"),
            b"brotli bytes",
        )
        .unwrap();
        let js = "/assets/index-abc123.js";
        let (headers, body) = fetch(dir.path(), js, Some("gzip, deflate, br")).await;
        assert_eq!(headers["content-encoding"], "br");
        assert_eq!(body, "brotli bytes");
        assert_eq!(headers["vary"], "accept-encoding");
        let (headers, body) = fetch(dir.path(), js, Some("br;q=0, GZIP;q=0.5")).await;
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(body, "gzip bytes");
        let (headers, body) = fetch(dir.path(), js, Some("gzip;q=0")).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body, "console.log(1)");
        // The app shell, served for an app route, has its copies too.
        std::fs::write(dir.path().join("index.html.br"), b"brotli shell").unwrap();
        let (headers, body) = fetch(dir.path(), "/entries", Some("br")).await;
        assert_eq!(headers["content-encoding"], "br");
        assert_eq!(body, "brotli shell");
        assert_eq!(headers["cache-control"], "no-cache");
    }

    #[tokio::test]
    async fn a_compressed_copy_older_than_its_file_is_not_sent() {
        let dir = built_app();
        let sw = dir.path().join("sw.js");
        std::fs::write(dir.path().join("sw.js.gz"), b"gzip of version 1").unwrap();
        std::fs::write(dir.path().join("sw.js.br"), b"brotli of version 1").unwrap();
        let (headers, body) = fetch(dir.path(), "/sw.js", Some("br, gzip")).await;
        assert_eq!(headers["content-encoding"], "br");
        assert_eq!(body, "brotli of version 1");

        // Replaced without a rebuild (an operator's hot fix).
        std::fs::write(&sw, "version 2").unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        let file = std::fs::File::options().append(true).open(&sw).unwrap();
        file.set_modified(later).unwrap();
        let (headers, body) = fetch(dir.path(), "/sw.js", Some("br, gzip")).await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body, "version 2");
    }

    #[tokio::test]
    async fn a_rebuilt_file_gets_a_new_etag_and_last_modified_is_sent() {
        let dir = built_app();
        let (headers, _) = fetch(dir.path(), "/index.html", None).await;
        assert!(headers.contains_key("last-modified"));
        let before = headers["etag"].clone();
        let shell = dir.path().join("index.html");
        std::fs::write(&shell, "<!doctype html><title>Fieldbook 2</title>").unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        let file = std::fs::File::options().append(true).open(&shell).unwrap();
        file.set_modified(later).unwrap();
        let (headers, body) = fetch(dir.path(), "/index.html", None).await;
        assert_ne!(headers["etag"], before);
        assert!(body.contains("Fieldbook 2"));
    }

    #[tokio::test]
    async fn revalidation_with_a_matching_etag_is_a_304() {
        let dir = built_app();
        let (_, headers, _) = send(
            app_serving(dir.path()),
            Request::get("/index.html").body(Body::empty()).unwrap(),
        )
        .await;
        let etag = headers["etag"].clone();
        let (status, _, body) = send(
            app_serving(dir.path()),
            Request::get("/index.html")
                .header("if-none-match", etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert_eq!(body, "");
    }

    #[tokio::test]
    async fn app_pages_fall_back_to_the_shell_but_missing_files_are_404() {
        let dir = built_app();
        let (status, _, body) = send(
            app_serving(dir.path()),
            Request::get("/drafts").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<title>Fieldbook</title>"));
        let (status, _, _) = send(
            app_serving(dir.path()),
            Request::get("/assets/gone-000.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = send(
            app_serving(dir.path()),
            Request::get("/../Cargo.toml").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn an_unbuilt_app_says_how_to_build_it() {
        let (status, body) = get("/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("npm run build"), "{body}");
    }

    #[tokio::test]
    async fn every_response_carries_the_security_headers() {
        let dir = built_app();
        for path in ["/", "/api/me", "/healthz"] {
            let (_, headers, _) = send(
                app_serving(dir.path()),
                Request::get(path).body(Body::empty()).unwrap(),
            )
            .await;
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert!(
                !headers.contains_key("strict-transport-security"),
                "{path}: HSTS on plain http"
            );
        }
        let (_, headers, _) = send(
            app_serving(dir.path()),
            Request::get("/")
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
    }

    #[tokio::test]
    async fn the_layers_bare_refusals_get_our_error_body() {
        for (status, code) in [
            (StatusCode::REQUEST_TIMEOUT, "timeout"),
            (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        ] {
            let response = super::reshape(status.into_response(), false);
            assert_eq!(response.status(), status);
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], code);
        }
        let piece = super::reshape(StatusCode::PAYLOAD_TOO_LARGE.into_response(), true);
        let body = axum::body::to_bytes(piece.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("piece_too_large"));
        let ours = super::ApiError::NotFound.into_response();
        let passed = super::reshape(ours, true);
        assert_eq!(passed.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn unknown_api_paths_get_a_json_404() {
        let (status, body) = get("/api/nothing-here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }

    #[tokio::test]
    async fn health_and_readiness_answer() {
        assert_eq!(get("/healthz").await, (StatusCode::OK, "ok".to_owned()));
        assert_eq!(get("/readyz").await, (StatusCode::OK, "ready".to_owned()));
    }

    #[tokio::test]
    async fn register_validates_through_the_router() {
        let response = app()
            .oneshot(
                Request::post("/api/auth/register")
                    .header("content-type", "application/json")
                    .body(Body::from(
                        r#"{"email":"nope","password":"long enough password"}"#,
                    ))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
