//! Sessions: a session id planted before sign-in is never adopted; cookie
//! flags; sign-in throttling per account and per client, with the client's
//! real address read through a trusted proxy only; password rules.

use super::*;

fn set_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.strip_prefix("fieldbook_session=").unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_issues_a_fresh_token_and_never_adopts_a_planted_one() {
    let server = TestServer::start().await;
    register(&server, "victim@example.org").await;
    register(&server, "attacker@example.org").await;
    // The attacker's own valid session, and a made-up one, planted in the
    // victim's browser before the victim signs in.
    let attackers = login(&server, "attacker@example.org").await.token;
    for planted in [attackers.as_str(), "chosen-by-the-attacker"] {
        let response = login_response(
            &server,
            "victim@example.org",
            PASSWORD,
            &[("cookie", &format!("fieldbook_session={planted}"))],
        )
        .await;
        assert_eq!(response.status(), 200);
        let issued = cookie_value(&set_cookie(&response));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token"], issued.as_str(), "the cookie is the token");
        assert_ne!(issued, planted, "planted session adopted");
        assert!(issued.len() >= 43, "256 random bits: {issued}");
        // The planted value is still whatever it was: never the victim's.
        let planted_me: Value = Credential::Cookie(planted.to_owned())
            .apply(client().get(server.url("/api/me")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(planted_me["email"], "victim@example.org");
    }
    // Every sign-in is a new token, even from the same browser.
    let first = login(&server, "victim@example.org").await.token;
    let second = login(&server, "victim@example.org").await.token;
    assert_ne!(first, second);
    server.stop().await;
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_secure_on_https() {
    let server = TestServer::start().await;
    register(&server, "c@example.org").await;
    let plain = set_cookie(&login_response(&server, "c@example.org", PASSWORD, &[]).await);
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(plain.contains(flag), "{flag} missing: {plain}");
    }
    assert!(!plain.contains("Secure"), "plain http: {plain}");
    assert!(!plain.contains("Domain="), "host-only cookie: {plain}");
    let behind_tls = login_response(
        &server,
        "c@example.org",
        PASSWORD,
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert!(set_cookie(&behind_tls).ends_with("; Secure"));
    let token: Value = behind_tls.json().await.unwrap();
    // Signing out clears it with the same flags.
    let logout = client()
        .post(server.url("/api/auth/logout"))
        .header("x-forwarded-proto", "https")
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let cleared = set_cookie(&logout);
    for flag in [
        "fieldbook_session=;",
        "Max-Age=0",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Secure",
    ] {
        assert!(cleared.contains(flag), "{flag} missing: {cleared}");
    }
    server.stop().await;

    let server = TestServer::start_with(|c| c.secure_cookies = true).await;
    register(&server, "c@example.org").await;
    let forced = set_cookie(&login_response(&server, "c@example.org", PASSWORD, &[]).await);
    assert!(forced.ends_with("; Secure"), "{forced}");
    server.stop().await;
}

/// `count` failed sign-ins for distinct unknown accounts, each from `client`
/// (an `X-Forwarded-For` value, or none).
async fn fail(
    server: &TestServer,
    count: usize,
    forwarded_for: Option<&str>,
    tag: &str,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let email = format!("{tag}-{i}@example.org");
        let headers: Vec<(&str, &str)> = forwarded_for
            .map(|addr| vec![("x-forwarded-for", addr)])
            .unwrap_or_default();
        let response = login_response(server, &email, "wrong password!", &headers).await;
        if response.status() == 429 {
            let wait: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
        }
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn guessing_is_throttled_per_client_and_a_forged_forwarded_for_does_not_escape() {
    // Directly reachable, no trusted proxy: X-Forwarded-For is ignored, so
    // a guesser cannot make each guess look like a new client.
    let server = TestServer::start_with(|c| c.login_attempts_per_minute = 3).await;
    let spoofed = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
    ];
    let mut statuses = Vec::new();
    for (i, addr) in spoofed.iter().enumerate() {
        statuses.extend(fail(&server, 1, Some(addr), &format!("spoof{i}")).await);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    // Even the right password for a real account waits.
    register(&server, "real@example.org").await;
    let blocked = login_response(&server, "real@example.org", PASSWORD, &[]).await;
    assert_eq!(blocked.status(), 429);
    server.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_on_its_own() {
    let server = TestServer::start_with(|c| {
        c.login_attempts_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let guesser = "203.0.113.7";
    assert_eq!(
        fail(&server, 4, Some(guesser), "g").await,
        [401, 401, 401, 429]
    );
    // Another client behind the same proxy is not locked out with it...
    register(&server, "colleague@example.org").await;
    let colleague = login_response(
        &server,
        "colleague@example.org",
        PASSWORD,
        &[("x-forwarded-for", "203.0.113.8")],
    )
    .await;
    assert_eq!(colleague.status(), 200);
    // ...and the guesser cannot escape by writing its own first hop: the
    // proxy appends the address it saw, and that is the one counted.
    let forged_chain = format!("192.0.2.99, {guesser}");
    assert_eq!(fail(&server, 1, Some(&forged_chain), "h").await, [429]);
    server.stop().await;
}

#[tokio::test]
async fn passwords_must_be_long_enough_and_not_guessable() {
    let server = TestServer::start().await;
    let try_register = |email: &'static str, password: String| {
        client()
            .post(server.url("/api/auth/register"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let cases = [
        (
            "short@example.org",
            "nine char".to_owned(),
            "password_too_short",
        ),
        ("long@example.org", "x".repeat(1025), "password_too_long"),
        (
            "same@example.org",
            "Same@Example.org".to_owned(),
            "password_too_guessable",
        ),
        (
            "common@example.org",
            "Password123".to_owned(),
            "password_too_guessable",
        ),
        (
            "repeat@example.org",
            "zzzzzzzzzzzzzzzz".to_owned(),
            "password_too_guessable",
        ),
    ];
    for (email, password, code) in cases {
        let response = try_register(email, password).await.unwrap();
        assert_eq!(response.status(), 400, "{email}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{email}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // Exactly ten characters, any characters at all, is enough.
    let ok = try_register("ok@example.org", "ten chars!".to_owned())
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let unicode = try_register("uni@example.org", "pässwörd ü ☂".to_owned())
        .await
        .unwrap();
    assert_eq!(unicode.status(), 201);
    // A refused password created nothing: the address is still free.
    let later = try_register("common@example.org", PASSWORD.to_owned())
        .await
        .unwrap();
    assert_eq!(later.status(), 201);
    server.stop().await;
}
