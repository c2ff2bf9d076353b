//! Voice notes on the server: recordings uploaded by the PWA (resumable,
//! hash-checked, per user, within a size limit and a quota), the jobs that
//! transcribe them with the local speech model, and the transcript written
//! into the note as an Automerge change by the server.
//!
//! - `record`: one recording's metadata and job state (the HTTP contract's states).
//! - `worker`: the bounded pool of transcription jobs, resumed after a
//!   restart, and the periodic sweep (retention; transcripts whose note had
//!   not arrived yet).
//!
//! Records and bytes are kept by `crate::uploads`, as [`AudioStore`].

pub mod record;
pub mod worker;

pub use record::{is_valid_audio_id, AudioRecord, AudioState, AudioStatus};
pub use worker::{Limits, Transcription};

/// Recordings and their bytes.
pub type AudioStore = crate::uploads::UploadStore<AudioRecord>;
