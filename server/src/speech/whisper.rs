//! whisper.cpp through `whisper-rs`: the model is loaded once and shared;
//! each transcription gets its own decoding state, so several jobs can run
//! at once on one model.

use std::path::{Path, PathBuf};

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use super::model_file::{self, ModelFile};
use super::WHISPER_RATE;

/// How a model runs.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    pub path: PathBuf,
    /// CPU threads per transcription.
    pub threads: usize,
    /// Spoken language as a whisper code (`en`), or `auto` to detect it.
    pub language: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the speech model {path} could not be loaded: {reason}")]
    Load { path: String, reason: String },
    #[error("the speech model failed on this recording: {0}")]
    Transcribe(String),
}

pub struct Model {
    context: WhisperContext,
    settings: ModelSettings,
    file: ModelFile,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("settings", &self.settings)
            .field("file", &self.file)
            .finish()
    }
}

impl Model {
    /// Checks the file (see `model_file`), then loads it into whisper.cpp.
    pub fn load(settings: ModelSettings) -> Result<Self, ModelError> {
        // whisper.cpp logs every tensor it loads to stderr; route its logs
        // through our own logging instead (never transcripts: they are not logged).
        whisper_rs::install_logging_hooks();
        let load_error = |reason: String| ModelError::Load {
            path: settings.path.display().to_string(),
            reason,
        };
        if !settings.path.is_file() {
            return Err(load_error("no such file".to_owned()));
        }
        let path = settings
            .path
            .to_str()
            .ok_or_else(|| load_error("the path is not valid UTF-8".to_owned()))?;
        let file = model_file::check(&settings.path).map_err(|err| load_error(err.to_string()))?;
        let context = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|err| load_error(err.to_string()))?;
        Ok(Self {
            context,
            settings,
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.settings.path
    }

    /// The checked file: its dimensions, size and sha256.
    pub fn file(&self) -> &ModelFile {
        &self.file
    }

    /// Transcribes mono 16 kHz samples; returns the text with segments
    /// joined by spaces.
    pub fn transcribe(&self, samples: &[f32]) -> Result<String, ModelError> {
        let failed = |err: whisper_rs::WhisperError| ModelError::Transcribe(err.to_string());
        let mut state = self.context.create_state().map_err(failed)?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.settings.threads.clamp(1, 64) as i32);
        let language = self.settings.language.as_str();
        params.set_language(Some(language));
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        // whisper.cpp refuses less than a second of audio; pad with silence.
        let padded;
        let samples = if samples.len() < WHISPER_RATE as usize + WHISPER_RATE as usize / 10 {
            let mut longer = samples.to_vec();
            longer.resize(WHISPER_RATE as usize * 11 / 10, 0.0);
            padded = longer;
            &padded
        } else {
            samples
        };
        state.full(params, samples).map_err(failed)?;
        let mut text = String::new();
        for segment in state.as_iter() {
            let part = segment.to_str_lossy().map_err(failed)?;
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(part);
        }
        Ok(text)
    }
}
