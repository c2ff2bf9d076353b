//! The HTTP authorization matrix. The endpoints are read from the route
//! table itself (src/api/mod.rs), so adding a route without adding it here
//! fails `the_matrix_names_every_routed_endpoint`; each endpoint then needs
//! its answer for no session, a bogus or revoked or expired session, and
//! another user's session.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::*;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Access {
    /// Anyone may call it (sign-up, sign-in, health for load balancers).
    Public,
    /// Only a signed-in device, and only about its own user.
    Device,
}

/// Every endpoint, who may call it. `/metrics` is public on the server's
/// own port; deploy/Caddyfile keeps it off the internet, and
/// `public_endpoints_reveal_nobody` checks it names no one.
const MATRIX: &[(&str, &str, Access)] = &[
    ("POST", "/api/auth/register", Access::Public),
    ("POST", "/api/auth/login", Access::Public),
    ("POST", "/api/auth/logout", Access::Device),
    ("GET", "/api/me", Access::Device),
    ("GET", "/api/devices", Access::Device),
    ("DELETE", "/api/devices/{id}", Access::Device),
    ("DELETE", "/api/documents/{id}", Access::Device),
    ("POST", "/api/documents/{id}/invitations", Access::Device),
    ("GET", "/api/documents/{id}/invitations", Access::Device),
    ("POST", "/api/invitations/accept", Access::Device),
    ("DELETE", "/api/invitations/{id}", Access::Device),
    ("GET", "/api/documents/{id}/members", Access::Device),
    ("POST", "/api/documents/{id}/members", Access::Device),
    (
        "DELETE",
        "/api/documents/{id}/members/{user_id}",
        Access::Device,
    ),
    ("GET", "/api/shared", Access::Device),
    ("POST", "/api/audio", Access::Device),
    ("GET", "/api/audio/{id}", Access::Device),
    ("PUT", "/api/audio/{id}", Access::Device),
    ("DELETE", "/api/audio/{id}", Access::Device),
    ("GET", "/api/audio/{id}/file", Access::Device),
    ("POST", "/api/audio/{id}/retry", Access::Device),
    ("POST", "/api/evidence", Access::Device),
    ("GET", "/api/evidence/{id}", Access::Device),
    ("PUT", "/api/evidence/{id}", Access::Device),
    ("DELETE", "/api/evidence/{id}", Access::Device),
    ("GET", "/api/evidence/{id}/file", Access::Device),
    ("GET", "/sync", Access::Device),
    ("GET", "/healthz", Access::Public),
    ("GET", "/readyz", Access::Public),
    ("GET", "/metrics", Access::Public),
];

fn api_source_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// (method, path) of every `.route(...)` in the router, with `.nest`
/// prefixes applied. Refuses route-building it does not understand, so a
/// route cannot hide from the matrix.
fn routed_endpoints() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(api_source_dir().join("api/mod.rs")).unwrap();
    let body = &source[source.find("pub fn router(").expect("api::router exists")..];
    let body = &body[..body.find("\n}\n").expect("router ends")];
    for unknown in [
        ".merge(",
        ".route_service(",
        ".nest_service(",
        ".route_layer(",
    ] {
        assert!(
            !body.contains(unknown),
            "api::router uses `{unknown}`, which this test cannot read: teach \
             routed_endpoints about it so those routes are in the security matrix"
        );
    }
    // Routes per router variable ("" for the one returned), and nestings.
    let mut groups: Vec<(String, String, String)> = Vec::new();
    let mut nests: Vec<(String, String)> = Vec::new();
    let mut current = String::new();
    let mut rest = body;
    loop {
        let next_router = rest.find("Router::new()");
        let next_route = rest.find(".route(");
        let next_nest = rest.find(".nest(");
        let Some(at) = [next_router, next_route, next_nest]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        if Some(at) == next_router {
            // `let NAME = Router::new()` starts a group; a bare one is the root.
            let before = rest[..at].trim_end();
            current = before
                .strip_suffix('=')
                .and_then(|b| b.trim_end().rsplit(|c: char| c.is_whitespace()).next())
                .unwrap_or_default()
                .to_owned();
            rest = &rest[at + "Router::new()".len()..];
        } else {
            let is_route = Some(at) == next_route;
            let open = at + if is_route { ".route(" } else { ".nest(" }.len();
            let call = balanced(&rest[open..]);
            let (first, second) = call.split_once(',').expect("two arguments");
            let path = first.trim().trim_matches('"').to_owned();
            if is_route {
                for method in methods_in(second) {
                    groups.push((current.clone(), method, path.clone()));
                }
            } else {
                nests.push((path, second.trim().to_owned()));
            }
            rest = &rest[open + call.len()..];
        }
    }
    groups
        .into_iter()
        .map(|(group, method, path)| {
            if group.is_empty() {
                return (method, path);
            }
            let prefix = nests
                .iter()
                .find(|(_, name)| *name == group)
                .map(|(prefix, _)| prefix.clone())
                .unwrap_or_else(|| panic!("router `{group}` is never nested"));
            (method, prefix + &path)
        })
        .collect()
}

/// The text up to the parenthesis that closes the one just opened.
fn balanced(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return &text[..i],
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced parentheses in the route table")
}

/// `get(a)`, `post(b).delete(c)`, `axum::routing::put(d)` -> methods.
fn methods_in(handlers: &str) -> Vec<String> {
    let mut methods = Vec::new();
    for name in [
        "get", "post", "put", "patch", "delete", "head", "options", "any",
    ] {
        let mut from = 0;
        while let Some(at) = handlers[from..].find(&format!("{name}(")) {
            let at = from + at;
            let preceded_ok = handlers[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            if preceded_ok {
                methods.push(name.to_uppercase());
            }
            from = at + name.len();
        }
    }
    assert!(
        !methods.is_empty(),
        "no method in route handler `{handlers}`"
    );
    methods
}

#[test]
fn the_matrix_names_every_routed_endpoint() {
    let routed = routed_endpoints();
    assert!(
        routed.len() >= 10,
        "the parser found too little: {routed:?}"
    );
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    let missing: Vec<_> = routed.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "endpoints with no row in the security matrix (server/tests/security/endpoints.rs): \
         {missing:?}; add each to MATRIX and to the checks below"
    );
    let stale: Vec<_> = listed.difference(&routed).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes that are gone: {stale:?}"
    );

    // Routes built anywhere else would escape the parser.
    let mut stack = vec![api_source_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("api/mod.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains("Router::new()") && !text.contains(".route("),
                    "{} builds routes outside api::router; keep the route table in one \
                     place so the security matrix sees it",
                    path.display()
                );
            }
        }
    }
}

/// What the owner has, for requests that name a resource.
struct Owner {
    account: Account,
    phone: Session,
    laptop: Session,
    entry: fieldbook_shared::DocumentId,
    /// A recording of a note in `entry`, part uploaded (so never transcribed).
    audio_id: String,
    /// An evidence file of `entry`, part uploaded.
    evidence_id: String,
    /// An open invitation to `entry`.
    invitation_id: String,
}

/// The recording every owner has: 4 bytes declared, 2 sent.
const AUDIO_BYTES: &[u8] = b"\x1aE\xdf\xa3";

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn declaration(audio_id: &str, document: &str) -> Value {
    serde_json::json!({
        "audioId": audio_id,
        "documentId": document,
        "noteId": "note-1",
        "mimeType": "audio/webm",
        "size": AUDIO_BYTES.len(),
        "sha256": sha256_hex(AUDIO_BYTES),
    })
}

fn evidence_declaration(evidence_id: &str, document: &str) -> Value {
    serde_json::json!({
        "evidenceId": evidence_id,
        "documentId": document,
        "name": "Certificate.pdf",
        "mimeType": "application/pdf",
        "size": AUDIO_BYTES.len(),
        "sha256": sha256_hex(AUDIO_BYTES),
    })
}

/// How much of `audio_id` the server holds for `token`'s user.
async fn audio_received(server: &TestServer, token: &str, audio_id: &str) -> Value {
    received(server, token, &format!("/api/audio/{audio_id}")).await
}

/// How much of evidence file `id` the server holds for `token`'s user.
async fn evidence_received(server: &TestServer, token: &str, id: &str) -> Value {
    received(server, token, &format!("/api/evidence/{id}")).await
}

async fn received(server: &TestServer, token: &str, path: &str) -> Value {
    let response = client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["received"].clone()
}

async fn owner_with_an_entry(server: &TestServer, email: &str) -> Owner {
    let (account, phone) = account_and_session(server, email).await;
    let laptop = login(server, email).await;
    let mut peer = Peer::join(server, &phone.token, &format!("{email}-phone")).await;
    let entry = new_doc_id();
    let mut replica = Replica::new(entry, with_text(keys::TITLE, "Confidential"));
    assert_eq!(
        replica.sync_until(&mut peer, |_| true).await,
        Outcome::Synced
    );
    let audio_id = format!("owner-recording-{}", &entry.to_string()[..8]);
    let declared = client()
        .post(server.url("/api/audio"))
        .bearer_auth(&phone.token)
        .json(&declaration(&audio_id, &entry.to_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 201, "{}", declared.text().await.unwrap());
    let piece = client()
        .put(server.url(&format!("/api/audio/{audio_id}?offset=0")))
        .bearer_auth(&phone.token)
        .body(&AUDIO_BYTES[..2])
        .send()
        .await
        .unwrap();
    assert_eq!(piece.status(), 200);
    let evidence_id = format!("owner-evidence-{}", &entry.to_string()[..8]);
    let declared = client()
        .post(server.url("/api/evidence"))
        .bearer_auth(&phone.token)
        .json(&evidence_declaration(&evidence_id, &entry.to_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 201, "{}", declared.text().await.unwrap());
    let piece = client()
        .put(server.url(&format!("/api/evidence/{evidence_id}?offset=0")))
        .bearer_auth(&phone.token)
        .body(&AUDIO_BYTES[..2])
        .send()
        .await
        .unwrap();
    assert_eq!(piece.status(), 200);
    let invited = client()
        .post(server.url(&format!("/api/documents/{entry}/invitations")))
        .bearer_auth(&phone.token)
        .json(&serde_json::json!({ "role": "writer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), 201);
    let invitation_id = invited.json::<Value>().await.unwrap()["invitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    Owner {
        account,
        phone,
        laptop,
        entry,
        audio_id,
        evidence_id,
        invitation_id,
    }
}

/// The request for an endpoint, `{id}` naming one of the owner's things.
/// Granting the owner (as if a member of `via`) a role on a document: only
/// the owner of both may, and never the owner role.
fn grant_body(owner: &Owner, via: &fieldbook_shared::DocumentId) -> Value {
    serde_json::json!({ "userId": owner.account.user_id, "role": "reader", "via": via.to_string() })
}

fn request_for(
    server: &TestServer,
    method: &str,
    path: &str,
    owner: &Owner,
) -> reqwest::RequestBuilder {
    let path = match path {
        "/api/devices/{id}" => format!("/api/devices/{}", owner.laptop.device_id),
        "/api/documents/{id}" => format!("/api/documents/{}", owner.entry),
        "/api/documents/{id}/invitations" => format!("/api/documents/{}/invitations", owner.entry),
        "/api/invitations/{id}" => format!("/api/invitations/{}", owner.invitation_id),
        "/api/documents/{id}/members" => format!("/api/documents/{}/members", owner.entry),
        "/api/documents/{id}/members/{user_id}" => format!(
            "/api/documents/{}/members/{}",
            owner.entry, owner.account.user_id
        ),
        "/api/audio/{id}" if method == "PUT" => {
            format!("/api/audio/{}?offset=2", owner.audio_id)
        }
        "/api/audio/{id}" => format!("/api/audio/{}", owner.audio_id),
        "/api/audio/{id}/file" => format!("/api/audio/{}/file", owner.audio_id),
        "/api/audio/{id}/retry" => format!("/api/audio/{}/retry", owner.audio_id),
        "/api/evidence/{id}" if method == "PUT" => {
            format!("/api/evidence/{}?offset=2", owner.evidence_id)
        }
        "/api/evidence/{id}" => format!("/api/evidence/{}", owner.evidence_id),
        "/api/evidence/{id}/file" => format!("/api/evidence/{}/file", owner.evidence_id),
        other => other.to_owned(),
    };
    assert!(
        !path.contains('{'),
        "no resource for {path}: add one in request_for"
    );
    let request = client().request(method.parse().unwrap(), server.url(&path));
    match (method, path.as_str()) {
        ("POST", "/api/audio") => request.json(&declaration(
            "another-recording-0001",
            &owner.entry.to_url(),
        )),
        ("POST", "/api/evidence") => request.json(&evidence_declaration(
            "another-evidence-0001",
            &owner.entry.to_url(),
        )),
        ("PUT", _) => request.body(&AUDIO_BYTES[2..]),
        ("POST", "/api/invitations/accept") => {
            request.json(&serde_json::json!({ "token": "a-forged-invitation-token" }))
        }
        ("POST", _) if path.ends_with("/invitations") => {
            request.json(&serde_json::json!({ "role": "reader" }))
        }
        ("POST", _) if path.ends_with("/members") => request.json(&grant_body(owner, &owner.entry)),
        _ => request,
    }
}

/// Every device-only endpoint refuses `credential` with 401 and no data.
/// Returns how many requests were refused.
async fn refused_everywhere(server: &TestServer, owner: &Owner, credential: &Credential) -> usize {
    let mut refused = 0;
    for (method, path, access) in MATRIX {
        if *access != Access::Device {
            continue;
        }
        if *path == "/sync" {
            assert_eq!(
                upgrade_status(server, credential, &[]).await,
                401,
                "{credential:?} opened /sync"
            );
            refused += 1;
            continue;
        }
        let response = credential
            .apply(request_for(server, method, path, owner))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{credential:?} on {method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{method} {path}");
        assert_eq!(body.as_object().unwrap().len(), 1, "only the error: {body}");
        refused += 1;
    }
    refused
}

/// The owner's things are all still there and still theirs.
async fn owner_untouched(server: &TestServer, owner: &Owner) {
    for token in [&owner.phone.token, &owner.laptop.token] {
        assert_eq!(
            me_status(server, &Credential::Bearer(token.clone())).await,
            200
        );
    }
    let mut peer = Peer::join(server, &owner.laptop.token, "owner-check").await;
    let mut check = Replica::empty(owner.entry);
    let outcome = check
        .sync_until(&mut peer, |doc| text_of(doc, keys::TITLE).is_some())
        .await;
    assert_eq!(outcome, Outcome::Synced);
    assert_eq!(text_of(&check.doc, keys::TITLE).unwrap(), "Confidential");
    let received = audio_received(server, &owner.phone.token, &owner.audio_id).await;
    assert_eq!(received, 2, "the recording is as the owner left it");
    let received = evidence_received(server, &owner.phone.token, &owner.evidence_id).await;
    assert_eq!(received, 2, "the evidence file is as the owner left it");
    let invitations: Value = client()
        .get(server.url(&format!("/api/documents/{}/invitations", owner.entry)))
        .bearer_auth(&owner.phone.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        invitations[0]["state"], "open",
        "the invitation is still open"
    );
    let members: Value = client()
        .get(server.url(&format!("/api/documents/{}/members", owner.entry)))
        .bearer_auth(&owner.phone.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(members, serde_json::json!([]), "nobody joined the entry");
}

#[tokio::test]
async fn no_bogus_revoked_or_expired_session_reaches_any_endpoint() {
    let server = TestServer::start().await;
    let owner = owner_with_an_entry(&server, "owner@example.org").await;

    let mut credentials = vec![Credential::Nothing];
    credentials.extend(Credential::both("not-a-real-token"));
    credentials.extend(Credential::both(""));
    // A revoked device: signed in, then removed from another device.
    let revoked = login(&server, "owner@example.org").await;
    let revoke = client()
        .delete(server.url(&format!("/api/devices/{}", revoked.device_id)))
        .bearer_auth(&owner.phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    credentials.extend(Credential::both(&revoked.token));
    // Signed out.
    let signed_out = login(&server, "owner@example.org").await;
    let logout = client()
        .post(server.url("/api/auth/logout"))
        .bearer_auth(&signed_out.token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    credentials.extend(Credential::both(&signed_out.token));
    // Basic credentials with another user name than `token`.
    let basic = Credential::Nothing.apply(client().get(server.url("/api/me")));
    let basic = basic.basic_auth("admin", Some(&owner.phone.token));
    assert_eq!(basic.send().await.unwrap().status(), 401);

    let mut refused = 0;
    for credential in &credentials {
        refused += refused_everywhere(&server, &owner, credential).await;
    }
    owner_untouched(&server, &owner).await;
    server.stop().await;

    // Expired: a device unseen for longer than the idle limit.
    let server = TestServer::start_with(|c| c.session_idle_timeout = SHORT_SESSION).await;
    let (_, session) = account_and_session(&server, "idle@example.org").await;
    let started = std::time::Instant::now();
    for credential in Credential::both(&session.token) {
        assert_eq!(
            me_status(&server, &credential).await,
            200,
            "fresh session works"
        );
    }
    tokio::time::sleep(SHORT_SESSION.saturating_sub(started.elapsed()) + SHORT_SESSION / 4).await;
    let owner = Owner {
        audio_id: "expired-session-recording".to_owned(),
        evidence_id: "expired-session-evidence".to_owned(),
        invitation_id: "0123456789abcdef0123456789abcdef".to_owned(),
        entry: new_doc_id(),
        laptop: Session {
            token: session.token.clone(),
            device_id: session.device_id.clone(),
        },
        phone: session,
        account: Account {
            email: "idle@example.org".to_owned(),
            // Any: nothing is reached before the session is refused.
            user_id: "idle-user".to_owned(),
            root: new_doc_id(),
        },
    };
    for credential in Credential::both(&owner.phone.token) {
        refused += refused_everywhere(&server, &owner, &credential).await;
    }
    // Signing in again works, and the expired device is gone from the list.
    let fresh = login(&server, "idle@example.org").await;
    let devices: Value = client()
        .get(server.url("/api/devices"))
        .bearer_auth(&fresh.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [fresh.device_id.as_str()]);
    server.stop().await;
    let endpoints = MATRIX.iter().filter(|(.., a)| *a == Access::Device).count();
    println!(
        "security matrix: {endpoints} signed-in endpoints x {} credentials (none, bogus, \
         empty, revoked, signed out, expired; bearer and cookie): {refused} requests refused",
        credentials.len() + 2
    );
}

#[tokio::test]
async fn another_users_session_reaches_nothing_of_the_owners() {
    let server = TestServer::start().await;
    let owner = owner_with_an_entry(&server, "owner@example.org").await;
    let (intruder_account, intruder) = account_and_session(&server, "intruder@example.org").await;
    let as_intruder = Credential::Bearer(intruder.token.clone());
    let owner_secrets = [
        owner.account.email.as_str(),
        owner.account.user_id.as_str(),
        owner.phone.device_id.as_str(),
        owner.laptop.device_id.as_str(),
        &owner.entry.to_string(),
        &owner.account.root.to_string(),
    ]
    .map(str::to_owned);
    let leaks = |text: &str| {
        owner_secrets
            .iter()
            .filter(|secret| text.contains(secret.as_str()))
            .cloned()
            .collect::<Vec<_>>()
    };

    for (method, path, access) in MATRIX {
        if *access != Access::Device {
            continue;
        }
        match (*method, *path) {
            ("GET", "/sync") => {
                // The socket opens (it is the intruder's own session); what it
                // may do there is sync_access's matrix.
                assert_eq!(upgrade_status(&server, &as_intruder, &[]).await, 101);
            }
            ("GET", "/api/me") | ("GET", "/api/devices") => {
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{path}");
                let text = response.text().await.unwrap();
                assert!(leaks(&text).is_empty(), "{path} leaked {:?}", leaks(&text));
                assert!(text.contains(&intruder_account.user_id) || path == &"/api/devices");
            }
            ("DELETE", "/api/devices/{id}") | ("DELETE", "/api/documents/{id}") => {
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 404, "{method} {path}");
                let owners = response.text().await.unwrap();
                // The same answer as for something that does not exist, so
                // the intruder learns nothing about what the owner has.
                let unknown = match *path {
                    "/api/devices/{id}" => "/api/devices/0123456789abcdef0123456789abcdef".into(),
                    _ => format!("/api/documents/{}", new_doc_id()),
                };
                let response = as_intruder
                    .apply(client().delete(server.url(&unknown)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 404);
                assert_eq!(response.text().await.unwrap(), owners);
                // Nor the owner's root document.
                if *path == "/api/documents/{id}" {
                    let root = format!("/api/documents/{}", owner.account.root);
                    let response = as_intruder
                        .apply(client().delete(server.url(&root)))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 404);
                }
            }
            ("POST", "/api/audio") => {
                // A recording for the owner's document: as if it did not exist.
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 404, "declaring on the owner's entry");
                // Reusing the owner's recording ID makes the intruder's own,
                // separate recording (on the intruder's own entry).
                let mut own_peer = Peer::join(&server, &intruder.token, "intruder-phone").await;
                let own_entry = new_doc_id();
                let mut replica = Replica::new(own_entry, with_text(keys::TITLE, "Mine"));
                replica.sync_until(&mut own_peer, |_| true).await;
                let response = as_intruder
                    .apply(client().post(server.url("/api/audio")))
                    .json(&declaration(&owner.audio_id, &own_entry.to_url()))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                assert_eq!(
                    audio_received(&server, &intruder.token, &owner.audio_id).await,
                    0
                );
                // Removed again, so the checks below meet only the owner's recording.
                let response = as_intruder
                    .apply(client().delete(server.url(&format!("/api/audio/{}", owner.audio_id))))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 204);
            }
            ("POST", "/api/evidence") => {
                // Evidence for the owner's document: as if it did not exist.
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 404, "declaring on the owner's entry");
                // The owner's evidence ID on the intruder's own entry is the
                // intruder's own, separate file.
                let mut own_peer = Peer::join(&server, &intruder.token, "intruder-laptop").await;
                let own_entry = new_doc_id();
                let mut replica = Replica::new(own_entry, with_text(keys::TITLE, "Mine"));
                replica.sync_until(&mut own_peer, |_| true).await;
                let response = as_intruder
                    .apply(client().post(server.url("/api/evidence")))
                    .json(&evidence_declaration(
                        &owner.evidence_id,
                        &own_entry.to_url(),
                    ))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                assert_eq!(
                    evidence_received(&server, &intruder.token, &owner.evidence_id).await,
                    0
                );
                let response = as_intruder
                    .apply(
                        client()
                            .delete(server.url(&format!("/api/evidence/{}", owner.evidence_id))),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 204);
            }
            (_, "/api/audio/{id}")
            | (_, "/api/audio/{id}/file")
            | (_, "/api/audio/{id}/retry")
            | (_, "/api/evidence/{id}")
            | (_, "/api/evidence/{id}/file") => {
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 404, "{method} {path}");
                let owners = response.text().await.unwrap();
                assert!(leaks(&owners).is_empty(), "{method} {path}: {owners}");
                // The same as for a recording nobody has.
                let unknown = path.replace("{id}", "nobody-has-this-file-id");
                let unknown = if *method == "PUT" {
                    unknown + "?offset=2"
                } else {
                    unknown
                };
                let request = client().request(method.parse().unwrap(), server.url(&unknown));
                let request = if *method == "PUT" {
                    request.body(&AUDIO_BYTES[2..])
                } else {
                    request
                };
                let response = as_intruder.apply(request).send().await.unwrap();
                assert_eq!(response.status(), 404, "{method} {unknown}");
                assert_eq!(response.text().await.unwrap(), owners);
            }
            ("POST", "/api/documents/{id}/invitations")
            | ("GET", "/api/documents/{id}/invitations")
            | ("GET", "/api/documents/{id}/members")
            | ("POST", "/api/documents/{id}/members")
            | ("DELETE", "/api/documents/{id}/members/{user_id}")
            | ("DELETE", "/api/invitations/{id}") => {
                // Sharing the owner's entry, seeing who shares it or its
                // invitations, removing its owner, withdrawing its
                // invitation: the same 404 as for things nobody has.
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 404, "{method} {path}");
                let owners = response.text().await.unwrap();
                assert!(leaks(&owners).is_empty(), "{method} {path}: {owners}");
                let unknown = path
                    .replace("/documents/{id}", &format!("/documents/{}", new_doc_id()))
                    .replace("{user_id}", &intruder_account.user_id)
                    .replace("{id}", "0123456789abcdef0123456789abcdef");
                let request = client().request(method.parse().unwrap(), server.url(&unknown));
                let request = match (*method, *path) {
                    ("POST", "/api/documents/{id}/members") => {
                        request.json(&grant_body(&owner, &new_doc_id()))
                    }
                    ("POST", _) => request.json(&serde_json::json!({ "role": "reader" })),
                    _ => request,
                };
                let response = as_intruder.apply(request).send().await.unwrap();
                assert_eq!(response.status(), 404, "{method} {unknown}");
                assert_eq!(response.text().await.unwrap(), owners);
            }
            ("POST", "/api/invitations/accept") => {
                // A forged link makes nobody a member of anything.
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 400);
                let text = response.text().await.unwrap();
                assert!(text.contains("invitation_invalid"), "{text}");
                assert!(leaks(&text).is_empty(), "{text}");
            }
            ("GET", "/api/shared") => {
                let response = as_intruder
                    .apply(request_for(&server, method, path, &owner))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                assert_eq!(response.text().await.unwrap(), "[]");
            }
            ("POST", "/api/auth/logout") => {
                // Signs out the intruder's device, nobody else's; run last.
            }
            other => panic!(
                "no cross-user check for {other:?}: add one to \
                 another_users_session_reaches_nothing_of_the_owners"
            ),
        }
    }
    let logout = as_intruder
        .apply(client().post(server.url("/api/auth/logout")))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(me_status(&server, &as_intruder).await, 401);
    owner_untouched(&server, &owner).await;
    server.stop().await;
}

#[tokio::test]
async fn public_endpoints_reveal_nobody() {
    let server = TestServer::start().await;
    let owner = owner_with_an_entry(&server, "owner@example.org").await;
    for (method, path, access) in MATRIX {
        if *access != Access::Public || *method != "GET" {
            continue;
        }
        let text = client()
            .get(server.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for secret in [
            &owner.account.email,
            &owner.account.user_id,
            &owner.phone.token,
        ] {
            assert!(!text.contains(secret.as_str()), "{path} shows {secret}");
        }
    }
    // Sign-in says the same for a wrong password and an unknown account.
    let wrong_password =
        login_response(&server, "owner@example.org", "not the password", &[]).await;
    let no_such_account = login_response(&server, "nobody@example.org", PASSWORD, &[]).await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(no_such_account.status(), 401);
    assert_eq!(
        wrong_password.text().await.unwrap(),
        no_such_account.text().await.unwrap()
    );
    server.stop().await;
}
