//! Operations endpoints: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers a read.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.hub.storage_answers() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
    }
}

/// OpenMetrics text, as `prometheus-client` writes it (Prometheus asks for
/// this format first).
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(state.hub.document_counts()),
    )
}
