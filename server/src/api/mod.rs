//! The HTTP surface: one route table, one module per resource.

mod auth;
mod devices;
mod documents;
mod error;
mod me;
mod ops;
mod session;
mod sync;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;
use tokio::sync::watch;

use crate::accounts::Accounts;
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::store::Store;

pub use error::ApiError;

/// JSON request bodies are small; anything bigger is refused before parsing.
const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub accounts: Arc<Accounts>,
    pub hub: Arc<Hub>,
    pub metrics: Arc<Metrics>,
    pub login_limiter: Arc<RateLimiter>,
    pub storage_id: Arc<str>,
    pub shutdown: watch::Receiver<bool>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(me::show))
        .route("/devices", get(devices::list))
        .route("/devices/{id}", delete(devices::revoke))
        .route("/documents/{id}", delete(documents::delete))
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES));
    Router::new()
        .nest("/api", api)
        .route("/sync", get(sync::upgrade))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use crate::{build, Config, StorageKind};

    fn app() -> axum::Router {
        build(Config {
            storage: StorageKind::Memory,
            ..Config::default()
        })
        .unwrap()
        .router()
    }

    async fn get(path: &str) -> (StatusCode, String) {
        let response = app()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
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
