//! Registration, login and logout.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::client_addr::client_ip;
use super::error::ApiJson;
use super::session::{cleared_cookie, session_cookie, CurrentDevice};
use super::{ApiError, AppState};
use crate::accounts::AccountError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterResponse {
    user_id: String,
    root_doc_url: String,
}

pub async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user = state
        .accounts
        .register(&request.email, &request.password)
        .await?;
    tracing::info!(user = %user.id, "account registered");
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user_id: user.id,
            root_doc_url: user.root_doc.to_url(),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    email: String,
    password: String,
    device_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    token: String,
    user_id: String,
    device_id: String,
    root_doc_url: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let client = client_ip(client.ip(), &headers, &state.config.trusted_proxies);
    let keys = [
        format!("ip:{client}"),
        format!("email:{}", request.email.trim().to_lowercase()),
    ];
    for key in &keys {
        if let Err(wait) = state.login_limiter.check(key) {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
    }
    let result = state
        .accounts
        .login(
            &request.email,
            &request.password,
            request.device_name.as_deref(),
        )
        .await;
    let (user, device, token) = match result {
        Err(AccountError::BadCredentials) => {
            keys.iter()
                .for_each(|key| state.login_limiter.record_failure(key));
            state.metrics.auth_failed();
            return Err(AccountError::BadCredentials.into());
        }
        other => other?,
    };
    tracing::info!(user = %user.id, device = %device.id, "signed in");
    let cookie = session_cookie(&token, &headers, &state);
    Ok((
        [(SET_COOKIE, cookie)],
        Json(LoginResponse {
            token,
            user_id: user.id,
            device_id: device.id,
            root_doc_url: user.root_doc.to_url(),
        }),
    ))
}

/// Signs this device out: its token stops working and its sockets close.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentDevice,
) -> Result<impl IntoResponse, ApiError> {
    state
        .accounts
        .revoke_device(&current.user.id, &current.device.id)
        .await?;
    state.hub.disconnect_device(&current.device.id);
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, cleared_cookie(&headers, &state))],
    ))
}
