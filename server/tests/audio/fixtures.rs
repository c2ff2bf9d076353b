//! Real speech for the transcription tests: the LibriVox clips of Debian's
//! `pocketsphinx-testdata` (16 kHz WAVs with reference transcripts) and a
//! real Chromium MediaRecorder recording from `../shared/fixtures/audio/`,
//! converted by ffmpeg into the containers phones record: WebM/Opus
//! (Chromium, Firefox), MP4/AAC (Safari, fragmented as its MediaRecorder
//! writes it) and Ogg/Opus. Conversions are cached in the target directory.
//!
//! `make test` installs ffmpeg and pocketsphinx-testdata when missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use fieldbook_server::speech::{Model, ModelSettings};

pub const LIBRIVOX: &str = "/usr/share/pocketsphinx/test/data/librivox";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The speech model the tests run on: `FIELDBOOK_TEST_SPEECH_MODEL` when
/// set (`make test` sets it to tiny.en as `make model` converts it), else
/// the test model beside the checkout, `../shared/models/ggml-tiny.en.bin`.
pub fn model_path() -> PathBuf {
    match std::env::var_os("FIELDBOOK_TEST_SPEECH_MODEL") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join("../shared/models/ggml-tiny.en.bin"),
    }
}

pub fn chromium_recording() -> PathBuf {
    repo_root().join("../shared/fixtures/audio/chromium156_mediarecorder_librivox0870.webm")
}

/// Held by every test that transcribes, so one whisper job runs at a time:
/// whisper.cpp's threads busy-wait for each other, and several jobs on two
/// cores slow each other down far more than running them in turn.
pub static SPEECH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One model for every test in this binary (loading it takes a moment).
pub fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = model_path();
            assert!(
                path.is_file(),
                "the test speech model is missing: {}",
                path.display()
            );
            Arc::new(
                Model::load(ModelSettings {
                    path,
                    threads: 1,
                    language: "en".into(),
                })
                .expect("the test model loads"),
            )
        })
        .clone()
}

/// (utterance ID, reference transcript) of every LibriVox clip.
pub fn librivox_clips() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(LIBRIVOX).join("transcription"))
        .expect("pocketsphinx-testdata is installed (make test installs it)");
    text.lines()
        .filter_map(|line| {
            let (words, id) = line.rsplit_once(" (")?;
            let words = words.replace("<s>", "").replace("</s>", "");
            Some((id.trim_end_matches(')').to_owned(), words.trim().to_owned()))
        })
        .collect()
}

pub fn reference_for(utterance_suffix: &str) -> String {
    librivox_clips()
        .into_iter()
        .find(|(id, _)| id.ends_with(utterance_suffix))
        .map(|(_, words)| words)
        .expect("the utterance is in the transcription file")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    WebmOpus,
    Mp4Aac,
    OggOpus,
}

impl Container {
    pub const ALL: [Container; 3] = [Container::WebmOpus, Container::Mp4Aac, Container::OggOpus];

    pub fn extension(self) -> &'static str {
        match self {
            Container::WebmOpus => "webm",
            Container::Mp4Aac => "mp4",
            Container::OggOpus => "ogg",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Container::WebmOpus => "audio/webm;codecs=opus",
            Container::Mp4Aac => "audio/mp4",
            Container::OggOpus => "audio/ogg;codecs=opus",
        }
    }

    /// ffmpeg arguments: the bit rates phones record at.
    fn codec_args(self) -> &'static [&'static str] {
        match self {
            Container::WebmOpus | Container::OggOpus => {
                &["-ar", "48000", "-c:a", "libopus", "-b:a", "32k"]
            }
            Container::Mp4Aac => &[
                "-ar",
                "44100",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
                "-movflags",
                "+frag_keyframe+empty_moov+default_base_moof",
            ],
        }
    }
}

/// `source` converted into `container`, made once and cached.
pub fn converted(source: &Path, container: Container) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("speech-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let stem = source.file_stem().unwrap().to_string_lossy();
    let out = dir.join(format!("{stem}.{}", container.extension()));
    if out.is_file() {
        return out;
    }
    // Written beside and renamed, so a parallel test never reads half a file.
    let partial = dir.join(format!(
        "{stem}.{}.{}.part.{}",
        std::process::id(),
        rand_suffix(),
        container.extension()
    ));
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(source)
        .args(container.codec_args())
        .arg(&partial)
        .status()
        .expect("ffmpeg is installed (make test installs it)");
    assert!(
        status.success(),
        "ffmpeg could not convert {}",
        source.display()
    );
    std::fs::rename(&partial, &out).unwrap();
    out
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish()
}

pub fn librivox_wav(id: &str) -> PathBuf {
    Path::new(LIBRIVOX).join(format!("{id}.wav"))
}
