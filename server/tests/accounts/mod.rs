//! Accounts: registration, login, sessions and the cookie, unauthenticated
//! requests.

use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn register_login_me_and_devices() {
    let server = TestServer::start().await;
    let account = register(&server, "Sam@Example.org").await;
    let phone = login(&server, "sam@example.org").await;
    let laptop = login(&server, "sam@example.org").await;

    let me: Value = api_get(&server, "/api/me", &phone.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "sam@example.org");
    assert_eq!(me["userId"], account.user_id.as_str());
    assert_eq!(me["rootDocUrl"], account.root.to_url());

    let devices: Value = api_get(&server, "/api/devices", &laptop.token)
        .await
        .json()
        .await
        .unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let current: Vec<bool> = devices
        .iter()
        .map(|d| d["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current.iter().filter(|c| **c).count(), 1);
    let laptop_view = devices
        .iter()
        .find(|d| d["id"] == laptop.device_id.as_str())
        .unwrap();
    assert_eq!(laptop_view["current"], true);
    assert_eq!(laptop_view["name"], "Test phone");
    server.stop().await;
}

#[tokio::test]
async fn registration_errors_are_clear() {
    let server = TestServer::start().await;
    let post = |body: Value| {
        client()
            .post(server.url("/api/auth/register"))
            .json(&body)
            .send()
    };
    let bad_email = post(json!({"email": "not-an-email", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(bad_email.status(), 400);
    assert_eq!(error_code(bad_email).await, "invalid_email");

    let short = post(json!({"email": "a@example.org", "password": "short"}))
        .await
        .unwrap();
    assert_eq!(short.status(), 400);
    let body: Value = short.json().await.unwrap();
    assert_eq!(body["error"]["code"], "password_too_short");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("10 characters"));

    register(&server, "a@example.org").await;
    let duplicate = post(json!({"email": "A@example.org", "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 409);
    assert_eq!(error_code(duplicate).await, "email_taken");

    let missing_field = post(json!({"email": "b@example.org"})).await.unwrap();
    assert_eq!(missing_field.status(), 400);
    assert_eq!(error_code(missing_field).await, "invalid_request");

    let not_json = client()
        .post(server.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(error_code(not_json).await, "invalid_json");

    let huge = post(json!({"email": "c@example.org", "password": "x".repeat(100_000)}))
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(error_code(huge).await, "too_large");
    server.stop().await;
}

#[tokio::test]
async fn wrong_password_is_refused_and_login_is_rate_limited() {
    let server = TestServer::start_with(|c| c.login_attempts_per_minute = 3).await;
    register(&server, "r@example.org").await;
    let attempt = |password: &'static str| {
        client()
            .post(server.url("/api/auth/login"))
            .json(&json!({"email": "r@example.org", "password": password}))
            .send()
    };
    for _ in 0..3 {
        let response = attempt("wrong password!").await.unwrap();
        assert_eq!(response.status(), 401);
    }
    let limited = attempt(PASSWORD).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    assert_eq!(error_code(limited).await, "too_many_requests");
    server.stop().await;
}

#[tokio::test]
async fn session_cookie_authenticates_and_logout_ends_it() {
    let server = TestServer::start().await;
    register(&server, "c@example.org").await;
    let response = client()
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "c@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let me = with_cookie(client().get(server.url("/api/me")), &pair).await;
    assert_eq!(me.status(), 200);
    let logout = with_cookie(client().post(server.url("/api/auth/logout")), &pair).await;
    assert_eq!(logout.status(), 204);
    let me = with_cookie(client().get(server.url("/api/me")), &pair).await;
    assert_eq!(me.status(), 401);
    assert_eq!(error_code(me).await, "unauthorized");

    let secure = client()
        .post(server.url("/api/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "c@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(secure.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_requests_and_upgrades_get_401() {
    let server = TestServer::start().await;
    let me = client().get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401);
    let bogus = api_get(&server, "/api/me", "not-a-token").await;
    assert_eq!(bogus.status(), 401);
    let upgrade = tokio_tungstenite::connect_async(server.ws_url()).await;
    match upgrade {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
    let metrics = metrics_text(&server).await;
    assert!(
        metrics.contains("fieldbook_auth_failures_total 3"),
        "{metrics}"
    );
    server.stop().await;
}
