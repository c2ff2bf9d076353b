//! Cross-site request forgery: another website cannot use a signed-in
//! browser's cookie to change anything, sign it in or out, or open a sync
//! socket; the app's own pages and bearer-token clients are unaffected.

use super::*;

const EVIL: &str = "https://evil.example";

/// A cookie session for a fresh account: (cookie credential, bearer, device id).
async fn cookie_session(server: &TestServer, email: &str) -> (Credential, Session) {
    let (_, session) = account_and_session(server, email).await;
    (Credential::Cookie(session.token.clone()), session)
}

#[tokio::test]
async fn a_cookie_request_from_another_site_changes_nothing() {
    let server = TestServer::start().await;
    let (cookie, session) = cookie_session(&server, "victim@example.org").await;
    let other_device = login(&server, "victim@example.org").await;
    let entry = new_doc_id();
    {
        let mut peer = Peer::join(&server, &session.token, "victim-phone").await;
        let mut replica = Replica::new(entry, with_text(keys::TITLE, "Keep me"));
        replica.sync_until(&mut peer, |_| true).await;
    }
    let same_origin = format!("http://{}", server.addr);
    let state_changing = [
        ("POST", "/api/auth/logout".to_owned()),
        ("DELETE", format!("/api/devices/{}", other_device.device_id)),
        ("DELETE", format!("/api/documents/{entry}")),
    ];
    let foreign_signs: [&[(&str, &str)]; 5] = [
        &[("origin", EVIL)],
        &[("origin", "null")],
        &[("origin", EVIL), ("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "cross-site")],
        // A sibling subdomain is "same-site" but still not this app.
        &[("sec-fetch-site", "same-site")],
    ];
    for (method, path) in &state_changing {
        for signs in foreign_signs {
            let mut request =
                cookie.apply(client().request(method.parse().unwrap(), server.url(path)));
            for (name, value) in signs {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{method} {path} with {signs:?}");
            assert!(response.headers().contains_key("content-security-policy"));
            assert_eq!(error_code(response).await, "cross_origin");
        }
    }
    // Nothing happened: still signed in, the other device and the entry are there.
    assert_eq!(me_status(&server, &cookie).await, 200);
    assert_eq!(
        me_status(&server, &Credential::Bearer(other_device.token.clone())).await,
        200
    );
    let mut peer = Peer::join(&server, &other_device.token, "victim-laptop").await;
    let mut check = Replica::empty(entry);
    assert_eq!(
        check
            .sync_until(&mut peer, |doc| text_of(doc, keys::TITLE).is_some())
            .await,
        Outcome::Synced
    );

    // The app itself (same origin) may, and so may a client with a bearer
    // token whatever it says its origin is (a foreign page cannot set one).
    let bearer_from_anywhere = client()
        .delete(server.url(&format!("/api/documents/{entry}")))
        .bearer_auth(&session.token)
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer_from_anywhere.status(), 204);
    let own_page = cookie
        .apply(client().post(server.url("/api/auth/logout")))
        .header("origin", &same_origin)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(own_page.status(), 204);
    assert_eq!(me_status(&server, &cookie).await, 401);
    server.stop().await;
}

#[tokio::test]
async fn another_site_cannot_sign_a_browser_in_or_register() {
    let server = TestServer::start().await;
    register(&server, "attacker@example.org").await;
    // Login CSRF: signing the victim's browser into the attacker's account,
    // so the victim's notes would sync to it.
    let login = login_response(
        &server,
        "attacker@example.org",
        PASSWORD,
        &[("origin", EVIL)],
    )
    .await;
    assert_eq!(login.status(), 403);
    assert!(
        login.headers().get("set-cookie").is_none(),
        "no session handed out"
    );
    let register = client()
        .post(server.url("/api/auth/register"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"email": "planted@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 403);
    let retry = client()
        .post(server.url("/api/auth/register"))
        .json(&json!({"email": "planted@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 201, "the refused one created nothing");
    let own_page = login_response(
        &server,
        "attacker@example.org",
        PASSWORD,
        &[("origin", &format!("http://{}", server.addr))],
    )
    .await;
    assert_eq!(own_page.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_sync_socket_cannot_be_opened_from_another_site_with_the_cookie() {
    let server = TestServer::start().await;
    let (cookie, session) = cookie_session(&server, "ws@example.org").await;
    for origin in [EVIL, "null", "http://localhost:1"] {
        let status = upgrade_status(&server, &cookie, &[("origin", origin.to_owned())]).await;
        assert_eq!(status, 403, "cookie upgrade from {origin}");
    }
    let same = format!("http://{}", server.addr);
    assert_eq!(
        upgrade_status(&server, &cookie, &[("origin", same)]).await,
        101
    );
    assert_eq!(
        upgrade_status(&server, &cookie, &[]).await,
        101,
        "no Origin: not a browser"
    );
    let bearer = Credential::Bearer(session.token.clone());
    assert_eq!(
        upgrade_status(&server, &bearer, &[("origin", EVIL.to_owned())]).await,
        101,
        "a bearer header is not ambient authority"
    );
    // Basic credentials are: a browser resends them by itself once given.
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("token:{}", session.token));
    let basic_from_evil = [
        ("authorization", format!("Basic {basic}")),
        ("origin", EVIL.to_owned()),
    ];
    assert_eq!(
        upgrade_status(&server, &Credential::Nothing, &basic_from_evil).await,
        403
    );
    let basic_alone = [("authorization", format!("Basic {basic}"))];
    assert_eq!(
        upgrade_status(&server, &Credential::Nothing, &basic_alone).await,
        101,
        "Node clients send Basic credentials and no Origin"
    );
    server.stop().await;
}
