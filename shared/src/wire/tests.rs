//! Tests of the wire codec, against real cbor-x output and hostile input.

use super::*;

const FIXTURES: &str = include_str!("../../tests/fixtures/cbor_x_messages.json");
const DOC: &str = "rbz1S5z2CVx48nJZm4PggB34oZk";

fn fixture(name: &str) -> Vec<u8> {
    let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
    let hex = all[name].as_str().unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Replaces the first occurrence of `from` with `to`, which has the same length.
fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = haystack
        .windows(from.len())
        .position(|w| w == from)
        .unwrap();
    let mut out = haystack.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

fn doc() -> DocumentId {
    DocumentId::parse(DOC).unwrap()
}

#[test]
fn decodes_what_cbor_x_encodes() {
    assert_eq!(
        decode(&fixture("join")).unwrap(),
        Message::Join {
            sender_id: "peer-abc".into(),
            peer_metadata: PeerMetadata {
                storage_id: Some("store-1".into()),
                is_ephemeral: false
            },
            supported_protocol_versions: vec!["1".into()],
        }
    );
    let data = vec![0x42, 0, 1, 2, 3];
    assert_eq!(
        decode(&fixture("sync")).unwrap(),
        Message::Sync {
            sender_id: "peer-abc".into(),
            target_id: "server".into(),
            document_id: doc(),
            data: data.clone()
        }
    );
    assert!(matches!(
        decode(&fixture("request")).unwrap(),
        Message::Request { .. }
    ));
    assert!(matches!(
        decode(&fixture("docUnavailable")).unwrap(),
        Message::DocUnavailable { .. }
    ));
    assert_eq!(
        decode(&fixture("ephemeralBigCount")).unwrap(),
        Message::Ephemeral {
            sender_id: "peer-abc".into(),
            target_id: "server".into(),
            document_id: doc(),
            session_id: "s1".into(),
            count: 1 << 40,
            data
        }
    );
    assert_eq!(
        decode(&fixture("undefinedField")).unwrap(),
        Message::Join {
            sender_id: "peer-abc".into(),
            peer_metadata: PeerMetadata {
                storage_id: None,
                is_ephemeral: true
            },
            supported_protocol_versions: vec!["1".into()],
        }
    );
    let leave = Message::Leave {
        sender_id: "peer-abc".into(),
    };
    assert_eq!(decode(&fixture("unknownNestedKey")).unwrap(), leave);
    assert_eq!(decode(&fixture("leave")).unwrap(), leave);
}

fn every_kind() -> Vec<Message> {
    let (s, t) = ("peer-1".to_owned(), "server-1".to_owned());
    vec![
        Message::Join {
            sender_id: s.clone(),
            peer_metadata: PeerMetadata {
                storage_id: Some("st".into()),
                is_ephemeral: false,
            },
            supported_protocol_versions: vec!["1".into()],
        },
        Message::Peer {
            sender_id: s.clone(),
            target_id: t.clone(),
            peer_metadata: PeerMetadata::default(),
            selected_protocol_version: "1".into(),
        },
        Message::Error {
            sender_id: s.clone(),
            target_id: t.clone(),
            message: "no".into(),
        },
        Message::Leave {
            sender_id: s.clone(),
        },
        Message::Request {
            sender_id: s.clone(),
            target_id: t.clone(),
            document_id: doc(),
            data: vec![1; 300],
        },
        Message::Sync {
            sender_id: s.clone(),
            target_id: t.clone(),
            document_id: doc(),
            data: vec![2; 70_000],
        },
        Message::DocUnavailable {
            sender_id: s.clone(),
            target_id: t.clone(),
            document_id: doc(),
        },
        Message::Ephemeral {
            sender_id: s.clone(),
            target_id: t.clone(),
            document_id: doc(),
            session_id: "x".into(),
            count: u64::from(u32::MAX) + 7,
            data: vec![3],
        },
        Message::RemoteSubscriptionChange {
            sender_id: s.clone(),
            target_id: t.clone(),
        },
        Message::RemoteHeadsChanged {
            sender_id: s,
            target_id: t,
        },
    ]
}

#[test]
fn every_message_round_trips() {
    for message in every_kind() {
        assert_eq!(
            decode(&encode(&message)).unwrap(),
            message,
            "{}",
            message.type_name()
        );
    }
}

#[test]
fn encoding_is_minimal_cbor() {
    let bytes = encode(&Message::Leave {
        sender_id: "peer-abc".into(),
    });
    // Same content as cbor-x's, with a one-byte map header instead of b9 00 02.
    assert_eq!(bytes[0], 0xa2);
    assert_eq!(&bytes[1..], &fixture("leave")[3..]);
}

#[test]
fn refuses_what_is_not_a_message() {
    let cases: Vec<(Vec<u8>, WireError)> = vec![
        (vec![], WireError::Cbor("truncated")),
        (vec![0x83, 1, 2, 3], WireError::NotAMap),
        (vec![0xa0], WireError::MissingField("type")),
        (vec![0xa0, 0x00], WireError::TrailingBytes),
        (vec![0x1c], WireError::Cbor("reserved length")),
        // A map claiming 2^32 entries in a few bytes: refused, not allocated.
        (
            vec![0xba, 0xff, 0xff, 0xff, 0xff],
            WireError::Cbor("truncated"),
        ),
        (vec![0x62, 0xff, 0xfe], WireError::Cbor("text is not UTF-8")),
        (vec![0x63, 0x61], WireError::Cbor("truncated")),
    ];
    for (bytes, expected) in cases {
        assert_eq!(decode(&bytes).unwrap_err(), expected, "{bytes:02x?}");
    }
}

#[test]
fn names_the_field_that_is_wrong() {
    let mut sync = fixture("sync");
    // Turn the data byte string (0x45 + 5 bytes) into a text string.
    let at = sync.len() - 6;
    assert_eq!(sync[at], 0x45);
    sync[at] = 0x65;
    sync.truncate(sync.len() - 5);
    sync.extend(b"hello");
    assert_eq!(
        decode(&sync).unwrap_err(),
        WireError::WrongType {
            field: "data",
            expected: "a byte string"
        }
    );

    let unknown = encode(&Message::Leave {
        sender_id: "p".into(),
    });
    let renamed = replace_bytes(&unknown, b"leave", b"leapt");
    assert_eq!(
        decode(&renamed).unwrap_err(),
        WireError::UnknownType("leapt".into())
    );

    // One digit changed: the checksum no longer matches.
    let bad_doc = replace_bytes(
        &fixture("docUnavailable"),
        DOC.as_bytes(),
        b"rbz1S5z2CVx48nJZm4PggB34oZm",
    );
    assert!(matches!(
        decode(&bad_doc).unwrap_err(),
        WireError::InvalidDocumentId(_)
    ));
}

#[test]
fn accepts_indefinite_lengths_and_tags() {
    // {_ "type": "leave", "senderId": (_ "pe", "er")} with a tag 64 around nothing relevant.
    let mut bytes = vec![0xbf];
    bytes.extend([0x64]);
    bytes.extend(b"type");
    bytes.extend([0xd8, 0x40, 0x65]); // tag 64 around the text "leave"
    bytes.extend(b"leave");
    bytes.extend([0x68]);
    bytes.extend(b"senderId");
    bytes.extend([0x7f, 0x62]);
    bytes.extend(b"pe");
    bytes.extend([0x62]);
    bytes.extend(b"er");
    bytes.extend([0xff, 0xff]);
    assert_eq!(
        decode(&bytes).unwrap(),
        Message::Leave {
            sender_id: "peer".into()
        }
    );
}

#[test]
fn deep_nesting_is_refused() {
    let mut bytes = vec![0xa1, 0x61, b'x'];
    bytes.extend(std::iter::repeat_n(0x81, 10_000));
    bytes.push(0x00);
    assert_eq!(decode(&bytes).unwrap_err(), WireError::TooDeep);
}

#[test]
fn half_floats_decode() {
    assert_eq!(half_to_f64(0x3c00), 1.0);
    assert_eq!(half_to_f64(0xc000), -2.0);
    assert_eq!(half_to_f64(0x7c00), f64::INFINITY);
    assert_eq!(half_to_f64(0x0001), 2f64.powi(-24));
}

/// Every prefix and thousands of random mutations of valid messages decode
/// to a message or an error, never a panic.
#[test]
fn hostile_bytes_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut samples: Vec<Vec<u8>> = every_kind().iter().map(encode).collect();
    for name in ["join", "sync", "ephemeralBigCount", "unknownNestedKey"] {
        samples.push(fixture(name));
    }
    for sample in &samples {
        for end in 0..sample.len().min(400) {
            let _ = decode(&sample[..end]);
        }
        for _ in 0..500 {
            let mut mutated = sample.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % mutated.len();
                mutated[at] = next() as u8;
            }
            let _ = decode(&mutated);
        }
    }
    for _ in 0..2000 {
        let len = (next() % 64) as usize;
        let noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = decode(&noise);
    }
}
