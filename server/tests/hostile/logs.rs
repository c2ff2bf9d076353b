//! Hostile input carrying note text, sent to the real binary running with
//! `RUST_LOG=trace`: each is refused, and none of the text reaches the log,
//! neither from our refusals nor from the libraries' frame dumps.

use fieldbook_shared::wire::{self, Message};
use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message as Frame;

use super::cbor::{map, text, V};
use crate::support::*;

const NOTE: &str = "Notes from the hard visit NOTE-b6e0";

#[tokio::test]
async fn refused_input_carrying_note_text_stays_out_of_the_log() {
    let logged = LoggedServer::start("trace").await;
    let server = &logged.server;
    let (_, session) = account_and_session(server, "hostile-log@example.org").await;
    let server_id = Peer::join(server, &session.token, "probe")
        .await
        .server_id
        .clone();

    let frames: Vec<(&str, Frame)> = vec![
        ("a text frame", Frame::Text(NOTE.into())),
        (
            "malformed CBOR around the text",
            Frame::Binary([&[0xa5, 0x78, 0xff][..], NOTE.as_bytes()].concat().into()),
        ),
        (
            "a sync whose payload is the text",
            Frame::Binary(
                wire::encode(&Message::Sync {
                    sender_id: "mallory".into(),
                    target_id: server_id.clone(),
                    document_id: new_doc_id(),
                    data: NOTE.as_bytes().to_vec(),
                })
                .into(),
            ),
        ),
        (
            "the text in a field of the wrong type",
            Frame::Binary(
                map(&[
                    ("type", text("sync")),
                    ("senderId", text("mallory")),
                    ("targetId", text(&server_id)),
                    ("documentId", V::Bytes(NOTE.as_bytes().to_vec())),
                    ("data", V::Bytes(Vec::new())),
                ])
                .encode()
                .into(),
            ),
        ),
    ];
    for (what, frame) in frames {
        let mut peer = Peer::join(server, &session.token, "mallory").await;
        peer.socket.send(frame).await.unwrap();
        let error = peer.expect_error_and_close().await;
        assert!(!error.contains(NOTE), "{what}: the error echoed the text");
    }

    let log = logged.stop().await;
    assert!(
        log.contains("closing sync connection for bad input"),
        "the refusals are logged: {log}"
    );
    assert!(!log_holds(&log, NOTE), "the log holds the note text");
}
