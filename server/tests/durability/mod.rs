//! Durability and memory: acknowledged changes survive a restart and a
//! kill; idle documents leave memory; health, readiness and metrics.

use std::time::Duration;

use automerge::{ReadDoc, ROOT};

use crate::support::*;

#[tokio::test]
async fn acknowledged_changes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let (account, session) = account_and_session(&server, "d@example.org").await;
    let entry_id = new_doc_id();
    let mut entry = Replica::new(entry_id, with_text(keys::LEARNING, "What I learnt"));
    {
        let mut peer = Peer::join(&server, &session.token, "phone").await;
        entry.sync_until(&mut peer, |_| true).await;
    }
    server.stop().await;

    let server = TestServer::start_in(dir.path(), |_| {}).await;
    let fresh = login(&server, "d@example.org").await;
    let mut peer = Peer::join(&server, &fresh.token, "new-laptop").await;
    let mut copy = Replica::empty(entry_id);
    copy.sync_until(&mut peer, |doc| text_of(doc, keys::LEARNING).is_some())
        .await;
    assert_eq!(text_of(&copy.doc, keys::LEARNING).unwrap(), "What I learnt");
    let mut root = Replica::empty(account.root);
    assert_eq!(
        root.sync_until(&mut peer, |d| d.get(ROOT, keys::ENTRIES).unwrap().is_some())
            .await,
        Outcome::Synced
    );
    server.stop().await;
}

#[tokio::test]
async fn acknowledged_changes_survive_the_server_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_binary(dir.path());
    let server = child_server(&mut child, dir.path()).await;
    let (_, session) = account_and_session(&server, "kill@example.org").await;
    let entry_id = new_doc_id();
    let mut entry = Replica::new(entry_id, with_text(keys::IMPACT, "Acknowledged words"));
    let mut peer = Peer::join(&server, &session.token, "phone").await;
    entry.sync_until(&mut peer, |_| true).await;
    // The server acknowledged our heads: SIGKILL it, no chance to flush.
    child.kill().await.unwrap();

    let mut child = spawn_binary(dir.path());
    let server = child_server(&mut child, dir.path()).await;
    let mut peer = Peer::join(&server, &session.token, "phone").await;
    let mut copy = Replica::empty(entry_id);
    copy.sync_until(&mut peer, |doc| text_of(doc, keys::IMPACT).is_some())
        .await;
    assert_eq!(
        text_of(&copy.doc, keys::IMPACT).unwrap(),
        "Acknowledged words"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn idle_documents_are_evicted_from_memory() {
    let server = TestServer::start_with(|c| c.doc_idle_timeout = Duration::from_millis(200)).await;
    let (_, session) = account_and_session(&server, "ev@example.org").await;
    {
        let mut peer = Peer::join(&server, &session.token, "p").await;
        for n in 0..5 {
            let mut entry = Replica::new(new_doc_id(), with_text(keys::TITLE, &format!("{n}")));
            entry.sync_until(&mut peer, |_| true).await;
        }
        // Connected, so all five are still in memory, but only as the
        // device's sync states: it has every change, so none is loaded.
        let metrics = metrics_text(&server).await;
        assert!(
            metrics.contains("fieldbook_documents_in_memory 5\n"),
            "{metrics}"
        );
        assert!(
            metrics.contains("fieldbook_documents_loaded 0\n"),
            "{metrics}"
        );
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = metrics_text(&server).await;
        if metrics.contains("fieldbook_documents_in_memory 0") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never evicted: {metrics}"
        );
        tokio::task::yield_now().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start().await;
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let (_, session) = account_and_session(&server, "m@example.org").await;
    let mut peer = Peer::join(&server, &session.token, "p").await;
    let mut entry = Replica::new(new_doc_id(), with_text(keys::TITLE, "m"));
    entry.sync_until(&mut peer, |_| true).await;
    let metrics = metrics_text(&server).await;
    for name in [
        "fieldbook_connections 1",
        "fieldbook_messages_in_total",
        "fieldbook_bytes_out_total",
        "fieldbook_flush_seconds_count",
        "fieldbook_auth_failures_total",
        "fieldbook_sync_message_handling_seconds_count",
        "fieldbook_sync_message_in_bytes_bucket",
        "fieldbook_sync_message_out_bytes_bucket",
    ] {
        assert!(metrics.contains(name), "{name} missing from {metrics}");
    }
    let count: u64 = metric(&metrics, "fieldbook_flush_seconds_count");
    assert!(count >= 1, "a flush was measured");
    let handled: u64 = metric(&metrics, "fieldbook_sync_message_handling_seconds_count");
    assert!(handled >= 1, "the handling of a message was measured");
    server.stop().await;
}
