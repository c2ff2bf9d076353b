//! Security headers on every kind of response the server gives: the app
//! shell and its assets, API answers and errors, refusals, health checks,
//! a refused socket upgrade. HSTS only when the request came over TLS.

use super::*;

/// A built app: a shell and a hashed asset.
fn built_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>Fieldbook</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join("assets/index-abc123.js"), "console.log(1)").unwrap();
    dir
}

fn check_headers(headers: &reqwest::header::HeaderMap, what: &str, https: bool) {
    let get = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = get("content-security-policy");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for wanted in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ] {
        assert!(
            directives.contains(&wanted),
            "{what}: {wanted} missing from {csp}"
        );
    }
    // Scripts and styles only from this origin: nothing inline, no eval
    // ('wasm-unsafe-eval' compiles WebAssembly only), no other hosts.
    let code_directives = directives.iter().filter(|d| {
        ["default-src", "script-src", "style-src"]
            .contains(&d.split_whitespace().next().unwrap_or(""))
    });
    for directive in code_directives {
        for source in directive.split_whitespace().skip(1) {
            assert!(
                ![
                    "'unsafe-inline'",
                    "'unsafe-eval'",
                    "*",
                    "http:",
                    "https:",
                    "data:",
                    "blob:"
                ]
                .contains(&source),
                "{what}: {directive} allows {source}"
            );
        }
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    match headers.get("strict-transport-security") {
        Some(hsts) if https => {
            let hsts = hsts.to_str().unwrap();
            let max_age: u64 = hsts
                .split(';')
                .find_map(|part| part.trim().strip_prefix("max-age="))
                .and_then(|age| age.parse().ok())
                .unwrap_or_else(|| panic!("{what}: {hsts}"));
            assert!(
                max_age >= 180 * 24 * 60 * 60,
                "{what}: HSTS for only {max_age} s"
            );
        }
        None if !https => {}
        other => panic!("{what}: HSTS {other:?} (https: {https})"),
    }
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = built_app();
    let pwa_dir = app.path().to_owned();
    let server = TestServer::start_with(move |c| {
        c.pwa_dir = pwa_dir;
        c.login_attempts_per_minute = 1;
    })
    .await;
    let (_, session) = account_and_session(&server, "h@example.org").await;
    for https in [false, true] {
        let proto = if https { "https" } else { "http" };
        let with_proto =
            |request: reqwest::RequestBuilder| request.header("x-forwarded-proto", proto);
        let requests: Vec<(&str, reqwest::RequestBuilder)> = vec![
            ("app shell", client().get(server.url("/"))),
            ("app route", client().get(server.url("/drafts"))),
            (
                "hashed asset",
                client().get(server.url("/assets/index-abc123.js")),
            ),
            (
                "missing asset",
                client().get(server.url("/assets/gone-000.js")),
            ),
            (
                "api answer",
                client()
                    .get(server.url("/api/me"))
                    .bearer_auth(&session.token),
            ),
            ("api 401", client().get(server.url("/api/me"))),
            ("api 404", client().get(server.url("/api/nothing"))),
            (
                "api 400",
                client()
                    .post(server.url("/api/auth/register"))
                    .json(&json!({"email": 1})),
            ),
            (
                "api 403",
                client()
                    .post(server.url("/api/auth/logout"))
                    .header("origin", "https://evil.example"),
            ),
            ("health", client().get(server.url("/healthz"))),
            (
                "sync without upgrade",
                client()
                    .get(server.url("/sync"))
                    .bearer_auth(&session.token),
            ),
            ("sync 401", client().get(server.url("/sync"))),
        ];
        for (what, request) in requests {
            let response = with_proto(request).send().await.unwrap();
            check_headers(response.headers(), &format!("{what} over {proto}"), https);
        }
        // Throttled sign-in (one failure allowed per minute in this server).
        let mut last = None;
        for _ in 0..2 {
            last = Some(
                login_response(
                    &server,
                    "h@example.org",
                    "wrong password!",
                    &[("x-forwarded-proto", proto)],
                )
                .await,
            );
        }
        let limited = last.unwrap();
        assert_eq!(limited.status(), 429);
        check_headers(limited.headers(), &format!("429 over {proto}"), https);
    }
    server.stop().await;
}
