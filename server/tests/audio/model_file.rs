//! A speech model file is checked before whisper.cpp reads it: the real test
//! model passes (with its sha256 and kind), and a truncated copy, garbage,
//! or a header that does not fit the tensors is refused with a plain
//! reason instead of reaching whisper.cpp.

use std::path::{Path, PathBuf};

use fieldbook_server::speech::{model_file, Model, ModelSettings};
use sha2::{Digest, Sha256};

use super::fixtures::model_path;

fn load(path: &Path) -> Result<Model, String> {
    Model::load(ModelSettings {
        path: path.to_owned(),
        threads: 1,
        language: "en".into(),
    })
    .map_err(|err| err.to_string())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_test_model_passes_with_its_checksum_and_kind() {
    let bytes = std::fs::read(model_path()).unwrap();
    let file = model_file::check(&model_path()).unwrap();
    assert_eq!(file.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(file.bytes, bytes.len() as u64);
    assert_eq!(file.kind(), "tiny.en");
    assert_eq!(file.hparams.n_audio_layer, 4);
}

#[test]
fn a_truncated_model_is_refused_before_whisper_cpp_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(model_path()).unwrap();
    // Cut in the header, the mel filters, the vocabulary, the first
    // tensor, and one byte short of the end.
    for cut in [10, 30_000, 300_000, 600_000, bytes.len() - 1] {
        let path = write(dir.path(), &format!("cut-{cut}.bin"), &bytes[..cut]);
        let err = load(&path).unwrap_err();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("ends early"), "cut at {cut}: {err}");
        assert!(err.contains("cut off"), "cut at {cut}: {err}");
    }
}

#[test]
fn garbage_and_empty_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut noise = vec![0u8; 64 * 1024];
    let mut x = 0x9e37_79b9_u32;
    for byte in &mut noise {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *byte = x as u8;
    }
    for (name, bytes) in [
        ("noise.bin", noise.as_slice()),
        (
            "page.html",
            b"<!doctype html><title>Not found</title>".as_slice(),
        ),
    ] {
        let err = load(&write(dir.path(), name, bytes)).unwrap_err();
        assert!(
            err.contains("not a whisper.cpp (ggml) model file"),
            "{name}: {err}"
        );
    }
    let err = load(&write(dir.path(), "empty.bin", b"")).unwrap_err();
    assert!(err.contains("ends early, in the magic number"), "{err}");
    let err = load(&dir.path().join("absent.bin")).unwrap_err();
    assert!(err.contains("no such file"), "{err}");
}

/// The test model with the header's int32 number `index` (0 = n_vocab)
/// replaced by `value`.
fn with_hparam(index: usize, value: i32) -> Vec<u8> {
    let mut bytes = std::fs::read(model_path()).unwrap();
    let at = 4 + 4 * index;
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    bytes
}

#[test]
fn a_header_that_does_not_fit_the_tensors_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "huge-vocab.bin",
            with_hparam(0, i32::MAX),
            "its header is not a Whisper model's: dimensions",
        ),
        (
            "negative-width.bin",
            with_hparam(2, -384),
            "its header is not a Whisper model's: dimensions",
        ),
        (
            "wider.bin",
            with_hparam(2, 390),
            "tensor encoder.positional_embedding: has dims [384, 1500], the header calls for [390, 1500]",
        ),
        (
            "deeper.bin",
            with_hparam(4, 5),
            "it lacks the tensor encoder.blocks.4.",
        ),
        ("trailing.bin", {
            let mut bytes = std::fs::read(model_path()).unwrap();
            bytes.extend_from_slice(&[0; 64]);
            bytes
        }, "a tensor of 0 dimensions"),
    ];
    for (name, bytes, reason) in cases {
        let err = load(&write(dir.path(), name, &bytes)).unwrap_err();
        assert!(err.contains(reason), "{name}: {err}");
    }
}
