//! Voice notes: the speech pipeline on real recordings with the real test
//! model, and the upload API and transcription jobs against the real server.

mod api;
mod fixtures;
mod model_file;
mod transcribe;
mod wer;
