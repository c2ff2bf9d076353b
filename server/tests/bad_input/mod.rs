//! Bad input: a malformed or hostile message closes only the connection
//! that sent it.

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use fieldbook_shared::wire::{self, Message, PeerMetadata};

use crate::support::*;

/// Every kind of bad input closes only the offending connection, with an
/// `error` message; a healthy peer carries on and stored data is intact.
#[tokio::test]
async fn bad_input_closes_only_the_offending_connection() {
    let server = TestServer::start_with(|c| c.max_message_bytes = 64 * 1024).await;
    let (_, session) = account_and_session(&server, "bad@example.org").await;
    let mut healthy = Peer::join(&server, &session.token, "healthy").await;
    let entry_id = new_doc_id();
    let mut entry = Replica::new(entry_id, with_text(keys::TITLE, "keep me"));
    entry.sync_until(&mut healthy, |_| true).await;

    let server_id = healthy.server_id.clone();
    let valid_sync = |sender: &str, doc: &str, data: Vec<u8>| {
        // Built by hand so the document ID can be invalid.
        minimal_cbor_map(&[
            ("type", Cbor::Text("sync".into())),
            ("senderId", Cbor::Text(sender.into())),
            ("targetId", Cbor::Text(server_id.clone())),
            ("documentId", Cbor::Text(doc.into())),
            ("data", Cbor::Bytes(data)),
        ])
    };
    let good_id = entry_id.to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed CBOR", vec![0xa5, 0x64, 0x74, 0x79], "malformed"),
        ("not a map", vec![0x83, 0x01, 0x02, 0x03], "malformed"),
        (
            "unknown message type",
            minimal_cbor_map(&[
                ("type", Cbor::Text("teleport".into())),
                ("senderId", Cbor::Text("bad".into())),
            ]),
            "malformed",
        ),
        (
            "wrong field type",
            minimal_cbor_map(&[
                ("type", Cbor::Text("sync".into())),
                ("senderId", Cbor::Text("bad".into())),
                ("targetId", Cbor::Text(server_id.clone())),
                ("documentId", Cbor::Text(good_id.clone())),
                ("data", Cbor::Text("not bytes".into())),
            ]),
            "malformed",
        ),
        (
            "mismatched senderId",
            valid_sync("someone-else", &good_id, vec![0x42, 0, 0, 0]),
            "senderId",
        ),
        (
            "invalid document ID",
            valid_sync("bad", "not-a-document", vec![0x42]),
            "malformed",
        ),
        (
            "garbage sync payload",
            valid_sync("bad", &good_id, vec![0xde, 0xad, 0xbe, 0xef]),
            "sync message",
        ),
        (
            "message over the size limit",
            valid_sync("bad", &good_id, vec![0u8; 100 * 1024]),
            "over the limit",
        ),
    ];
    for (what, bytes, expected) in cases {
        let mut bad = Peer::join(&server, &session.token, "bad").await;
        bad.send_raw(bytes).await;
        let error = bad.expect_error_and_close().await;
        assert!(error.contains(expected), "{what}: error was {error:?}");
    }

    // A text frame, and a first message that is not a join.
    let mut text = Peer::join(&server, &session.token, "bad").await;
    use futures::SinkExt;
    text.socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            "hello".into(),
        ))
        .await
        .unwrap();
    assert!(text.expect_error_and_close().await.contains("binary"));
    let mut no_join = Peer::unjoined(open_socket(&server, &session.token).await, "x", &server_id);
    no_join
        .send(&no_join.sync_message(entry_id, vec![0x42]))
        .await;
    assert!(no_join.expect_error_and_close().await.contains("join"));
    let mut old_version =
        Peer::unjoined(open_socket(&server, &session.token).await, "x", &server_id);
    old_version
        .send(&Message::Join {
            sender_id: "x".into(),
            peer_metadata: PeerMetadata::default(),
            supported_protocol_versions: vec!["0".into()],
        })
        .await;
    assert!(old_version
        .expect_error_and_close()
        .await
        .contains("version"));

    // The healthy peer still syncs, and the stored entry is intact.
    {
        let mut tx = entry.doc.transaction();
        let (_, title) = tx.get(ROOT, keys::TITLE).unwrap().unwrap();
        tx.splice_text(&title, 7, 0, " safe").unwrap();
        tx.commit();
    }
    assert_eq!(
        entry.sync_until(&mut healthy, |_| true).await,
        Outcome::Synced
    );
    let mut check = Replica::empty(entry_id);
    let mut reader = Peer::join(&server, &session.token, "reader").await;
    check
        .sync_until(&mut reader, |d| {
            text_of(d, keys::TITLE).as_deref() == Some("keep me safe")
        })
        .await;
    let metrics = metrics_text(&server).await;
    let errors: u64 = metric(&metrics, "fieldbook_protocol_errors_total");
    assert_eq!(errors, 11);
    server.stop().await;
}

enum Cbor {
    Text(String),
    Bytes(Vec<u8>),
}

fn cbor_header(major: u8, len: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=255 => out.extend([major | 24, len as u8]),
        256..=65535 => {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

/// A CBOR map written by hand, so tests can send what the encoder never would.
fn minimal_cbor_map(entries: &[(&str, Cbor)]) -> Vec<u8> {
    let mut out = Vec::new();
    cbor_header(5, entries.len(), &mut out);
    for (key, value) in entries {
        cbor_header(3, key.len(), &mut out);
        out.extend(key.as_bytes());
        match value {
            Cbor::Text(text) => {
                cbor_header(3, text.len(), &mut out);
                out.extend(text.as_bytes());
            }
            Cbor::Bytes(bytes) => {
                cbor_header(2, bytes.len(), &mut out);
                out.extend(bytes);
            }
        }
    }
    out
}

#[test]
fn hand_built_cbor_matches_the_wire_encoder() {
    let message = Message::Leave {
        sender_id: "me".into(),
    };
    let ours = minimal_cbor_map(&[
        ("type", Cbor::Text("leave".into())),
        ("senderId", Cbor::Text("me".into())),
    ]);
    assert_eq!(wire::decode(&ours).unwrap(), message);
}
