//! The user's signed-in devices: list them, revoke one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::session::CurrentDevice;
use super::{ApiError, AppState};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    id: String,
    name: String,
    created_at: String,
    last_seen_at: String,
    current: bool,
}

pub async fn list(
    State(state): State<AppState>,
    current: CurrentDevice,
) -> Result<Json<Vec<DeviceView>>, ApiError> {
    let devices = state.accounts.devices(&current.user.id)?;
    Ok(Json(
        devices
            .into_iter()
            .map(|device| DeviceView {
                current: device.id == current.device.id,
                id: device.id,
                name: device.name,
                created_at: device.created_at,
                last_seen_at: device.last_seen_at,
            })
            .collect(),
    ))
}

/// Revokes a device: its token stops working at once and its sockets close.
pub async fn revoke(
    State(state): State<AppState>,
    current: CurrentDevice,
    Path(device_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .revoke_device(&current.user.id, &device_id)
        .await?;
    state.hub.disconnect_device(&device_id);
    tracing::info!(user = %current.user.id, device = %device_id, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}
