//! Security: who may reach what. An authorization matrix over every HTTP
//! endpoint (read from the route table, so a new endpoint cannot be left
//! out) and every sync message type, each against no session, another
//! user, a revoked device and an expired session; cross-site request
//! forgery; session fixation and expiry; sign-in throttling (behind a
//! trusted proxy too); password rules; cookie flags; security headers.

mod csrf;
mod endpoints;
mod headers;
mod logs;
mod roles;
mod sessions;
mod sync_access;

use std::time::Duration;

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::support::*;

/// Short enough to wait out in a test, long enough that a fresh session
/// certainly works first on a loaded machine.
const SHORT_SESSION: Duration = Duration::from_millis(1500);

/// How a request tries to prove who it is.
#[derive(Clone, Debug)]
enum Credential {
    Nothing,
    Bearer(String),
    Cookie(String),
}

impl Credential {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Credential::Nothing => request,
            Credential::Bearer(token) => request.bearer_auth(token),
            Credential::Cookie(token) => {
                request.header("cookie", format!("fieldbook_session={token}"))
            }
        }
    }

    /// Both ways a browser or a client would present `token`.
    fn both(token: &str) -> [Credential; 2] {
        [
            Credential::Bearer(token.to_owned()),
            Credential::Cookie(token.to_owned()),
        ]
    }
}

/// Opens `/sync` with `credential` and `extra` headers; the HTTP status of
/// a refused upgrade, or 101 (and the socket is dropped).
async fn upgrade_status(
    server: &TestServer,
    credential: &Credential,
    extra: &[(&'static str, String)],
) -> StatusCode {
    let mut request = server.ws_url().into_client_request().unwrap();
    let headers = request.headers_mut();
    match credential {
        Credential::Nothing => {}
        Credential::Bearer(token) => {
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        Credential::Cookie(token) => {
            headers.insert(
                "cookie",
                format!("fieldbook_session={token}").parse().unwrap(),
            );
        }
    }
    for (name, value) in extra {
        headers.insert(*name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status(),
        Err(other) => panic!("upgrade failed without an HTTP answer: {other}"),
    }
}

/// Signs in and returns the whole response (cookie and body).
async fn login_response(
    server: &TestServer,
    email: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client()
        .post(server.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": password }));
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn me_status(server: &TestServer, credential: &Credential) -> u16 {
    credential
        .apply(client().get(server.url("/api/me")))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
