//! Speech to text on our own server: decode a recording (WebM/Opus from
//! Chromium and Firefox, MP4/AAC from Safari, Ogg/Opus), mix it down to one
//! channel, resample it to the 16 kHz whisper.cpp expects and transcribe it
//! with a local whisper model. Nothing leaves the machine.
//!
//! The pipeline is synchronous and CPU-bound: callers run it on a blocking
//! thread (see `crate::audio::worker`). `fieldbook transcribe` uses the same
//! functions, so an administrator checks exactly what the server runs.

pub mod decode;
pub mod model_file;
pub mod resample;
pub mod whisper;

use std::path::Path;

pub use decode::{decode, DecodeError, Decoded};
pub use model_file::{ModelFile, ModelFileError};
pub use whisper::{Model, ModelError, ModelSettings};

/// The sample rate whisper models are trained on.
pub const WHISPER_RATE: u32 = 16_000;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// What one transcription produced, with the figures benchmarks report.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub text: String,
    /// Length of the audio that was decoded.
    pub audio_secs: f64,
    /// Whether the recording ended early (cut off mid-stream); the text
    /// covers what was there.
    pub truncated: bool,
}

/// Decodes `bytes` (a whole recording; `mime_type` is a hint and may be
/// empty) and transcribes it with `model`.
pub fn transcribe(
    model: &Model,
    bytes: Vec<u8>,
    mime_type: &str,
) -> Result<Transcript, SpeechError> {
    let decoded = decode(bytes, mime_type)?;
    let samples = resample::resample(&decoded.samples, decoded.sample_rate, WHISPER_RATE);
    let audio_secs = samples.len() as f64 / f64::from(WHISPER_RATE);
    let text = model.transcribe(&samples)?;
    Ok(Transcript {
        text,
        audio_secs,
        truncated: decoded.truncated,
    })
}

/// Guesses a recording's MIME type from its file name, for the command line.
pub fn mime_type_for(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("webm" | "mkv") => "audio/webm",
        Some("mp4" | "m4a" | "aac") => "audio/mp4",
        Some("ogg" | "oga" | "opus") => "audio/ogg",
        _ => "",
    }
}
