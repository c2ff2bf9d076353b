//! The WebSocket upgrade at `/sync`: authenticated before upgrading, then
//! handed to a connection task.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use tracing::Instrument;

use super::session::CurrentDevice;
use super::AppState;
use crate::sync::connection::{self, ConnectionContext, Identity};

const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    current: CurrentDevice,
    upgrade: WebSocketUpgrade,
) -> Response {
    let ctx = ConnectionContext {
        hub: state.hub.clone(),
        metrics: state.metrics.clone(),
        storage_id: state.storage_id.to_string(),
        max_message_bytes: state.config.max_message_bytes,
        keepalive: state.config.keepalive_interval,
        shutdown: state.shutdown.clone(),
    };
    let identity = Identity {
        user_id: current.user.id,
        device_id: current.device.id,
        conn_id: state.hub.next_conn_id(),
    };
    let span = connection::span(&identity);
    // Let frames a little over our limit through the WebSocket layer so the
    // connection can answer with an `error` message instead of a bare close.
    let frame_limit = state.config.max_message_bytes.saturating_mul(2);
    upgrade
        // Small socket buffers (tungstenite reserves 128 KiB to read by
        // default): most devices sit idle, and memory should follow messages
        // in flight, not connections open. Buffers grow for large messages.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(frame_limit)
        .max_frame_size(frame_limit)
        .on_upgrade(move |socket| connection::run(socket, ctx, identity).instrument(span))
}
