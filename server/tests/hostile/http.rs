//! Hostile HTTP against the real server: oversized, lying, malformed and
//! deeply nested bodies on every API route, and slow or half-open
//! connections and upgrades held open while a bystander of another account
//! keeps syncing. Every request gets a clear JSON error (or its normal
//! answer, for routes that take no body), the server stays up and the
//! bystander never notices.

use std::time::Instant;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::bystander::Bystander;
use crate::support::*;

/// The server's limit on JSON bodies (api::MAX_JSON_BODY_BYTES).
const JSON_LIMIT: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;

/// A response read off a raw socket: status and body.
#[derive(Debug)]
struct Raw {
    status: u16,
    body: String,
}

impl Raw {
    fn error_code(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("not a JSON error: {self:?}"))
    }
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body` on a fresh connection, reading the response while writing, as a
/// server may answer before the body is all sent. `None` if the server
/// closed without answering.
async fn raw_request(server: &TestServer, head: &str, body: &[u8]) -> Option<Raw> {
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let mut request = format!(
        "{head}\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    )
    .into_bytes();
    request.extend_from_slice(body);
    // No half-close after writing: hyper takes it for the client leaving
    // and may close without answering. `Connection: close` ends the read.
    let write = async move {
        // The server may stop reading once it has refused the body.
        let _ = writer.write_all(&request).await;
        writer
    };
    let read = async {
        let mut response = Vec::new();
        let _ = reader.read_to_end(&mut response).await;
        response
    };
    let (_, response) = tokio::time::timeout(WAIT, async { tokio::join!(write, read) })
        .await
        .expect("the server answered in time");
    parse(&response)
}

fn parse(response: &[u8]) -> Option<Raw> {
    let text = String::from_utf8_lossy(response);
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let (headers, body) = text.split_once("\r\n\r\n")?;
    let body = if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_owned()
    };
    Some(Raw { status, body })
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn post_json(path: &str, length: usize) -> String {
    format!("POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {length}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_bodies_get_clear_errors() {
    let started = Instant::now();
    let server = TestServer::start().await;
    let mut bystander = Bystander::start(&server).await;
    let (_, session) = account_and_session(&server, "mallory-http@example.org").await;
    let auth = format!("Authorization: Bearer {}", session.token);
    let mut tried = 0;

    // Bodies over the limit on the routes that read JSON: a clear 413,
    // whether the length is declared, lied about or chunked. The server
    // stops reading at the limit and closes, so the kernel may reset the
    // connection before the 413 is read: a closed connection is the other
    // acceptable answer (counted, to show most get the 413).
    let mut answered_413 = 0;
    for path in ["/api/auth/register", "/api/auth/login"] {
        let huge_password = json!({"email": "m@example.org", "password": "x".repeat(MIB)});
        let body = serde_json::to_vec(&huge_password).unwrap();
        let cases: Vec<(String, Vec<u8>)> = vec![
            (post_json(path, body.len()), body.clone()),
            (post_json(path, JSON_LIMIT + 1), vec![b' '; JSON_LIMIT + 1]),
            // Declares ten gigabytes, sends a little over the limit.
            (post_json(path, 10 << 30), vec![b' '; 2 * JSON_LIMIT]),
            (
                format!(
                    "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\n\
                     Transfer-Encoding: chunked"
                ),
                chunked(&body),
            ),
        ];
        for (head, body) in cases {
            if let Some(response) = raw_request(&server, &head, &body).await {
                assert_eq!(response.status, 413, "{head}: {response:?}");
                assert_eq!(response.error_code(), "too_large", "{head}");
                answered_413 += 1;
            }
            tried += 1;
        }
    }
    // The voice routes: a recording is declared in JSON and sent in pieces
    // of at most 1 MiB (over that: 413 `piece_too_large`).
    let auth_body = |method: &str, path: &str, kind: &str, length: usize| {
        format!("{method} {path} HTTP/1.1\r\n{auth}\r\nContent-Type: {kind}\r\nContent-Length: {length}")
    };
    let voice = [
        (
            auth_body("POST", "/api/audio", "application/json", 2 * JSON_LIMIT),
            2 * JSON_LIMIT,
            "too_large",
        ),
        (
            auth_body(
                "PUT",
                "/api/audio/hostile-recording-0001?offset=0",
                "audio/webm",
                2 * MIB,
            ),
            2 * MIB,
            "piece_too_large",
        ),
    ];
    for (head, length, code) in voice {
        if let Some(response) = raw_request(&server, &head, &vec![b' '; length]).await {
            assert_eq!(response.status, 413, "{head}: {response:?}");
            assert_eq!(response.error_code(), code, "{head}");
            answered_413 += 1;
        }
        tried += 1;
    }
    bystander.still_syncing_after("oversized JSON bodies").await;

    // Malformed bodies within the limit: 400 or 415, in our JSON shape,
    // never echoing the body.
    // In a field the server ignores, so serde_json's recursion limit is
    // what stops it.
    let nested = format!("{{\"x\": {}", "[".repeat(50_000));
    let bad_bodies: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "not JSON",
            b"email=a&password=b".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "truncated JSON",
            b"{\"email\": \"a@b".to_vec(),
            400,
            "invalid_json",
        ),
        ("empty", Vec::new(), 400, "invalid_json"),
        (
            "invalid UTF-8",
            b"{\"email\": \"\xff\xfe\"}".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "50,000 nested arrays",
            nested.into_bytes(),
            400,
            "invalid_json",
        ),
        ("null", b"null".to_vec(), 400, "invalid_request"),
        ("an array", b"[1, 2]".to_vec(), 400, "invalid_request"),
        (
            "fields of the wrong type",
            br#"{"email": 5, "password": ["SECRET-password"]}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "a password of 60,000 characters",
            serde_json::to_vec(&json!({"email": "a@example.org", "password": "p".repeat(60_000)}))
                .unwrap(),
            400,
            "password_too_long",
        ),
    ];
    for (what, body, status, code) in bad_bodies {
        for path in ["/api/auth/register", "/api/auth/login"] {
            let response = raw_request(&server, &post_json(path, body.len()), &body)
                .await
                .unwrap_or_else(|| panic!("{path} {what}: closed without an answer"));
            if path == "/api/auth/login" && code == "password_too_long" {
                // Login never says why credentials are wrong.
                assert_eq!(response.status, 401, "{path} {what}: {response:?}");
            } else {
                assert_eq!(response.status, status, "{path} {what}: {response:?}");
                assert_eq!(response.error_code(), code, "{path} {what}");
            }
            assert!(!response.body.contains("SECRET"), "{path} {what}: echoed");
            tried += 1;
        }
    }
    for path in ["/api/auth/register", "/api/auth/login"] {
        let head = format!("POST {path} HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2");
        let response = raw_request(&server, &head, b"{}").await.unwrap();
        assert_eq!(response.status, 415, "{path}: {response:?}");
        assert_eq!(response.error_code(), "unsupported_media_type");
        tried += 1;
    }
    bystander.still_syncing_after("malformed JSON bodies").await;

    // A megabyte sent to the routes that take no body: they answer as
    // usual without reading it (or refuse it), and the server stays up.
    let throwaway = login(&server, "mallory-http@example.org").await;
    let megabyte = vec![b'x'; MIB];
    let doc = new_doc_id();
    for (head, expected) in [
        (format!("GET /api/me HTTP/1.1\r\n{auth}"), 200),
        (format!("GET /api/devices HTTP/1.1\r\n{auth}"), 200),
        (
            format!("DELETE /api/devices/no-such-device HTTP/1.1\r\n{auth}"),
            404,
        ),
        (
            format!("DELETE /api/documents/{doc} HTTP/1.1\r\n{auth}"),
            404,
        ),
        (
            format!("DELETE /api/documents/not-an-id HTTP/1.1\r\n{auth}"),
            400,
        ),
        (format!("GET /api/nowhere HTTP/1.1\r\n{auth}"), 404),
        (format!("POST /api/me HTTP/1.1\r\n{auth}"), 405),
        (
            format!(
                "POST /api/auth/logout HTTP/1.1\r\nAuthorization: Bearer {}",
                throwaway.token
            ),
            204,
        ),
    ] {
        let head = format!("{head}\r\nContent-Length: {}", megabyte.len());
        // These answer without reading the body, then close: as above, a
        // reset may overtake the answer.
        if let Some(response) = raw_request(&server, &head, &megabyte).await {
            assert_eq!(response.status, expected, "{head}: {response:?}");
            if expected >= 400 && expected != 405 {
                response.error_code();
            }
        }
        tried += 1;
    }
    bystander
        .still_syncing_after("bodies on routes that take none")
        .await;

    let rounds = bystander.finish(&server).await;
    println!(
        "hostile HTTP bodies: {tried} requests, each answered with a clear status or (for \
         {} of 10 oversized bodies) a closed connection; the bystander synced {rounds} rounds \
         meanwhile and lost nothing ({:.1} s)",
        10 - answered_413,
        started.elapsed().as_secs_f64()
    );
    server.stop().await;
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(16 * 1024) {
        out.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend(chunk);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\n\r\n");
    out
}

/// Connections that stall at every stage: silent, in the request line, in
/// the headers, in the body, after the upgrade (no join). While all are
/// held open, the bystander syncs, a new user signs up and signs in, and
/// refused upgrades get clear answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_half_open_connections_hold_nothing_up() {
    let started = Instant::now();
    let server = TestServer::start().await;
    let mut bystander = Bystander::start(&server).await;
    let (_, session) = account_and_session(&server, "mallory-slow@example.org").await;
    let host = server.addr;
    // Without Host: `raw_request` adds it; the stalls below add their own.
    let upgrade = |auth: &str| {
        format!(
            "GET /sync HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{auth}"
        )
    };
    let bearer = format!("Authorization: Bearer {}", session.token);
    let stalls: Vec<(&str, String)> = vec![
        ("silent", String::new()),
        ("half a request line", "GET /sy".to_owned()),
        (
            "half the headers",
            format!("GET /api/me HTTP/1.1\r\nHost: {host}\r\nAuthor"),
        ),
        ("half an upgrade", upgrade(&bearer)[..90].to_owned()),
        (
            "a body that never comes",
            format!(
                "{}\r\nHost: {host}\r\n\r\n{{\"email\"",
                post_json("/api/auth/login", 100)
            ),
        ),
        (
            "an upgrade and no join",
            upgrade(&format!("{bearer}\r\nHost: {host}\r\n\r\n")),
        ),
    ];
    let mut held = Vec::new();
    for (what, bytes) in &stalls {
        for _ in 0..25 {
            let mut stream = TcpStream::connect(server.addr).await.unwrap();
            stream.write_all(bytes.as_bytes()).await.unwrap();
            held.push((*what, stream));
        }
    }
    // The upgrades went through (101) and wait for a join.
    for (what, stream) in &mut held {
        if *what == "an upgrade and no join" {
            let mut answer = [0; 12];
            tokio::time::timeout(WAIT, stream.read_exact(&mut answer))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&answer, b"HTTP/1.1 101");
        }
    }
    bystander
        .still_syncing_after("150 stalled connections")
        .await;
    let (_, newcomer) = account_and_session(&server, "newcomer@example.org").await;
    let mut fresh = Peer::join(&server, &newcomer.token, "newcomer-phone").await;
    let mut entry = Replica::new(new_doc_id(), automerge::Automerge::new());
    {
        use automerge::transaction::Transactable;
        let mut tx = entry.doc.transaction();
        tx.put(automerge::ROOT, keys::TITLE, "still works").unwrap();
        tx.commit();
    }
    assert_eq!(
        entry.sync_until(&mut fresh, |_| true).await,
        Outcome::Synced
    );

    // Upgrades the server refuses, each with a clear answer.
    let mut tried = held.len() + 1;
    let refused = [
        (upgrade(""), 401),
        (upgrade("Authorization: Bearer not-a-token"), 401),
        (upgrade("Authorization: Basic dG9rZW46bm9wZQ=="), 401),
        (upgrade(&bearer).replace("Version: 13", "Version: 7"), 400),
        (
            upgrade(&bearer).replace("Upgrade: websocket", "Upgrade: h2c"),
            400,
        ),
        (
            format!("GET /sync HTTP/1.1\r\nX-Padding: {}", "a".repeat(MIB)),
            431,
        ),
    ];
    for (head, status) in refused {
        let head = head.trim_end();
        let response = raw_request(&server, head, b"").await;
        match response {
            Some(response) => assert_eq!(response.status, status, "{head:.80}: {response:?}"),
            // hyper closes at once on headers too large to read.
            None => assert_eq!(status, 431, "{head:.80}: closed without an answer"),
        }
        tried += 1;
    }
    bystander.still_syncing_after("refused upgrades").await;

    // The server closes every connection that stalls in its request head
    // once the head deadline passes. (A stalled body waits for the longer
    // idle deadline, an upgrade without a join for the join timeout; unit
    // tests and the connection's own test cover those.)
    let head_deadline = fieldbook_server::api::deadlines::HEAD_DEADLINE;
    let (stalled_heads, rest): (Vec<_>, Vec<_>) = held.into_iter().partition(|(what, _)| {
        matches!(
            *what,
            "silent" | "half a request line" | "half the headers" | "half an upgrade"
        )
    });
    let closing = stalled_heads
        .into_iter()
        .map(|(what, mut stream)| async move {
            let mut rest = Vec::new();
            let read = tokio::time::timeout(head_deadline + WAIT, stream.read_to_end(&mut rest));
            assert!(
                read.await.is_ok(),
                "{what}: still open after the head deadline"
            );
        });
    let waited = Instant::now();
    let closed = futures::future::join_all(closing).await.len();
    let waited = waited.elapsed();
    bystander.still_syncing_after("stalled heads closed").await;

    // Once the stalled connections go, so do their sync connections.
    drop(rest);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = metrics_text(&server).await;
        let open: u64 = metric(&metrics, "fieldbook_connections");
        // The bystander and the newcomer.
        if open == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} sync connections still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let rounds = bystander.finish(&server).await;
    println!(
        "slow and half-open connections: {tried} tried; the {closed} stalled in their request \
         head closed by the server within {:.1} s; the bystander synced {rounds} rounds \
         meanwhile and lost nothing ({:.1} s)",
        waited.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    server.stop().await;
}
