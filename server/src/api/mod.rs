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
