//! Transcription jobs: a queue of recordings whose bytes are complete, run
//! by at most `concurrency` jobs at once (each on a blocking thread, since
//! whisper.cpp holds the CPU), and a periodic sweep.
//!
//! Jobs live in the records themselves (state `queued` / `transcribing`),
//! so a restart finds them and queues them again; one that was
//! `transcribing` when the server stopped simply starts over.
//!
//! The transcript goes into the entry document through the hub, as a change
//! made by the server: `notes[i].transcript` becomes an Automerge text of
//! the transcript for the note whose `id` is the recording's `noteId`.
//! Automerge merges it with whatever the user typed meanwhile. If the note
//! is not in the document yet (the device that made it has not synced), the
//! transcript waits in the record (state `done`) and the sweep tries again
//! every minute until the note is there.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use fieldbook_shared::entry::keys;
use fieldbook_shared::DocumentId;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use super::record::{AudioRecord, AudioState};
use super::AudioStore;
use crate::clock::now_secs;
use crate::speech::{self, Model, SpeechError};
use crate::sync::hub::Hub;
use crate::uploads::UploadStoreError;

/// How often the sweep runs.
const SWEEP_PERIOD: Duration = Duration::from_secs(60);

/// Upload limits and retention, from the configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
    /// Audio is deleted this long after its transcript is done; None keeps it.
    pub retention: Option<Duration>,
}

type JobKey = (String, String);

/// The transcription service: shared by the HTTP handlers (which queue
/// jobs) and the workers.
pub struct Transcription {
    pub audio: Arc<AudioStore>,
    hub: Arc<Hub>,
    model: Option<Arc<Model>>,
    concurrency: usize,
    pub limits: Limits,
    queue: mpsc::UnboundedSender<JobKey>,
    /// Taken by [`Transcription::run`].
    receiver: Mutex<Option<mpsc::UnboundedReceiver<JobKey>>>,
}

impl Transcription {
    pub fn new(
        audio: Arc<AudioStore>,
        hub: Arc<Hub>,
        model: Option<Arc<Model>>,
        concurrency: usize,
        limits: Limits,
    ) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        Self {
            audio,
            hub,
            model,
            concurrency: concurrency.max(1),
            limits,
            queue,
            receiver: Mutex::new(Some(receiver)),
        }
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// The state a completely uploaded recording starts in.
    pub fn complete_state(&self) -> AudioState {
        if self.has_model() {
            AudioState::Queued
        } else {
            AudioState::NoModel
        }
    }

    /// Queues a recording whose record says `queued`.
    pub fn enqueue(&self, user_id: &str, audio_id: &str) {
        // Fails only once the workers have stopped (server shutting down);
        // the job stays queued in its record and resumes at the next start.
        let _ = self.queue.send((user_id.to_owned(), audio_id.to_owned()));
    }

    /// Runs the workers and the sweep until `stop` turns true. Called once,
    /// by the serving server. At the stop, jobs in progress are abandoned:
    /// their records still say `transcribing`, so the next start runs them
    /// again; nothing here outlives the server's storage.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let Some(mut receiver) = self
            .receiver
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
        else {
            return;
        };
        match &self.model {
            Some(model) => tracing::info!(
                model = %model.path().display(),
                kind = %model.file().kind(),
                bytes = model.file().bytes,
                sha256 = %model.file().sha256,
                concurrency = self.concurrency,
                "voice notes are transcribed on this server"
            ),
            None => tracing::warn!(
                "no speech model loaded (speech_model): voice notes are stored but not transcribed"
            ),
        }
        if let Err(err) = self.resume().await {
            tracing::error!(error = %err, "could not resume transcription jobs");
        }
        let mut tasks = JoinSet::new();
        tasks.spawn(self.clone().sweep_periodically());
        let permits = Arc::new(Semaphore::new(self.concurrency));
        while !*stop.borrow() {
            let (user_id, audio_id) = tokio::select! {
                next = receiver.recv() => match next {
                    Some(job) => job,
                    None => break,
                },
                // Reaps finished jobs so the set does not grow.
                Some(_) = tasks.join_next() => continue,
                _ = stop.changed() => break,
            };
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                _ = stop.changed() => break,
            };
            let this = self.clone();
            tasks.spawn(async move {
                if let Err(err) = this.process(&user_id, &audio_id).await {
                    tracing::error!(user = %user_id, error = %err, "transcription job failed to store its result");
                }
                drop(permit);
            });
        }
        tasks.shutdown().await;
    }

    /// Queues again every job that was queued or running when the server
    /// stopped, and (now that a model is configured) every recording that
    /// arrived while there was none.
    async fn resume(&self) -> Result<(), UploadStoreError> {
        let mut resumed = 0;
        for record in self.audio.list_all()? {
            let waiting = match record.state {
                AudioState::Queued | AudioState::Transcribing => true,
                AudioState::NoModel => self.has_model(),
                _ => false,
            };
            if !waiting {
                continue;
            }
            let state = self.complete_state();
            if record.state != state {
                self.audio
                    .update(&record.user_id, &record.audio_id, |r| r.state = state)
                    .await?;
            }
            if state == AudioState::Queued {
                self.enqueue(&record.user_id, &record.audio_id);
                resumed += 1;
            }
        }
        if resumed > 0 {
            tracing::info!(jobs = resumed, "transcription jobs resumed");
        }
        Ok(())
    }

    /// One job: queued → transcribing → done (transcript written) or failed.
    async fn process(&self, user_id: &str, audio_id: &str) -> Result<(), UploadStoreError> {
        let Some(record) = self.audio.get(user_id, audio_id)? else {
            return Ok(()); // deleted while it waited
        };
        if record.state != AudioState::Queued {
            return Ok(());
        }
        let Some(model) = self.model.clone() else {
            self.audio
                .update(user_id, audio_id, |r| r.state = AudioState::NoModel)
                .await?;
            return Ok(());
        };
        let Some(record) = self
            .audio
            .update(user_id, audio_id, |r| r.state = AudioState::Transcribing)
            .await?
        else {
            return Ok(());
        };
        let Some(bytes) = self.audio.read_bytes(&record)? else {
            self.fail(
                &record,
                "The recording is missing on the server; upload it again.",
            )
            .await?;
            return Ok(());
        };
        let mime_type = record.mime_type.clone();
        let started = std::time::Instant::now();
        let result =
            tokio::task::spawn_blocking(move || speech::transcribe(&model, bytes, &mime_type))
                .await;
        let transcript = match result {
            Ok(Ok(transcript)) => transcript,
            Ok(Err(err)) => {
                tracing::info!(user = %user_id, reason = %err, "recording not transcribed");
                return self.fail(&record, &failure_reason(&err)).await;
            }
            Err(_) => {
                return self
                    .fail(
                        &record,
                        "The speech model stopped unexpectedly on this recording.",
                    )
                    .await
            }
        };
        tracing::info!(
            user = %user_id,
            audio_secs = format!("{:.1}", transcript.audio_secs),
            took_secs = format!("{:.1}", started.elapsed().as_secs_f64()),
            truncated = transcript.truncated,
            "recording transcribed"
        );
        let Some(record) = self
            .audio
            .update(user_id, audio_id, |r| {
                r.state = AudioState::Done;
                r.error = None;
                r.transcript = Some(transcript.text);
                r.transcript_written = false;
                r.done_at = Some(now_secs());
            })
            .await?
        else {
            return Ok(());
        };
        self.write_transcript(&record).await
    }

    async fn fail(&self, record: &AudioRecord, reason: &str) -> Result<(), UploadStoreError> {
        self.audio
            .update(&record.user_id, &record.audio_id, |r| {
                r.state = AudioState::Failed;
                r.error = Some(reason.to_owned());
            })
            .await?;
        Ok(())
    }

    /// Puts the transcript into its note, if the note is in the document.
    async fn write_transcript(&self, record: &AudioRecord) -> Result<(), UploadStoreError> {
        let (Some(text), Ok(doc_id)) = (
            record.transcript.as_deref(),
            DocumentId::parse(&record.document_id),
        ) else {
            return Ok(());
        };
        let mut written = false;
        let result = self
            .hub
            .change_document(doc_id, &record.user_id, |tx| {
                written = put_transcript(tx, &record.note_id, text);
            })
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not write a transcript; the sweep retries");
            return Ok(());
        }
        if written {
            self.audio
                .update(&record.user_id, &record.audio_id, |r| {
                    r.transcript_written = true
                })
                .await?;
        }
        Ok(())
    }

    async fn sweep_periodically(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(SWEEP_PERIOD);
        loop {
            ticker.tick().await;
            if let Err(err) = self.sweep(now_secs()).await {
                tracing::error!(error = %err, "audio sweep failed");
            }
        }
    }

    /// Writes transcripts whose note has arrived since, and deletes audio
    /// past its retention (`now` in seconds since the Unix epoch). Returns
    /// how many recordings were deleted.
    pub async fn sweep(&self, now: u64) -> Result<usize, UploadStoreError> {
        let mut deleted = 0;
        for record in self.audio.list_all()? {
            if record.state != AudioState::Done {
                continue;
            }
            let expired = match (self.limits.retention, record.done_at) {
                (Some(keep), Some(done_at)) => done_at.saturating_add(keep.as_secs()) <= now,
                _ => false,
            };
            if expired {
                // The note keeps its transcript (if it ever arrived); the
                // recording itself goes.
                self.audio.delete(&record.user_id, &record.audio_id).await?;
                deleted += 1;
            } else if !record.transcript_written {
                self.write_transcript(&record).await?;
            }
        }
        if deleted > 0 {
            tracing::info!(
                recordings = deleted,
                "audio removed after its retention period"
            );
        }
        Ok(deleted)
    }
}

/// A reason a social worker can read, for a failed job.
fn failure_reason(err: &SpeechError) -> String {
    match err {
        SpeechError::Decode(err) => format!("{}.", capitalise(&err.to_string())),
        SpeechError::Model(_) => {
            "The speech model could not transcribe this recording. Try again, or type the note."
                .to_owned()
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Sets `transcript` on the note whose `id` is `note_id`; false if there is
/// no such note.
fn put_transcript(tx: &mut Transaction<'_>, note_id: &str, text: &str) -> bool {
    let Ok(Some((Value::Object(ObjType::List), notes))) = tx.get(ROOT, keys::NOTES) else {
        return false;
    };
    for index in 0..tx.length(&notes) {
        let Ok(Some((Value::Object(ObjType::Map), note))) = tx.get(&notes, index) else {
            continue;
        };
        if read_string(tx, &note, keys::ID).as_deref() != Some(note_id) {
            continue;
        }
        // Text, as the PWA writes strings, so later edits merge by character.
        let Ok(transcript) = tx.put_object(&note, keys::TRANSCRIPT, ObjType::Text) else {
            return false;
        };
        return tx.splice_text(&transcript, 0, 0, text).is_ok();
    }
    false
}

/// A string property stored either as Automerge text or as a plain string.
fn read_string(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(scalar), _) => match scalar.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::store::{MemoryStore, Store};

    const DAY: u64 = 24 * 60 * 60;

    fn service(store: Arc<dyn Store>) -> Transcription {
        let hub = Arc::new(Hub::new(
            store.clone(),
            Arc::new(Metrics::default()),
            "server".into(),
            Duration::from_secs(60),
        ));
        Transcription::new(
            Arc::new(AudioStore::new(store)),
            hub,
            None,
            1,
            Limits {
                max_file_bytes: 1000,
                quota_bytes: 1000,
                retention: Some(Duration::from_secs(30 * DAY)),
            },
        )
    }

    fn record(id: &str, state: AudioState, done_at: Option<u64>) -> AudioRecord {
        AudioRecord {
            audio_id: id.into(),
            user_id: "user".into(),
            document_id: "not-a-document".into(),
            note_id: "note".into(),
            mime_type: "audio/webm".into(),
            size: 3,
            sha256: String::new(),
            received: 3,
            state,
            error: None,
            transcript: done_at.map(|_| "words".into()),
            transcript_written: true,
            created_at: 0,
            done_at,
        }
    }

    #[tokio::test]
    async fn audio_is_removed_once_its_retention_has_passed_and_not_before() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let service = service(store.clone());
        let done_at = 1_000_000;
        for (id, state, done) in [
            ("done-recording-0001", AudioState::Done, Some(done_at)),
            ("waiting-recording-01", AudioState::NoModel, None),
        ] {
            let (_, created) = service
                .audio
                .declare::<()>(record(id, state, done), |_| Ok(()))
                .await
                .unwrap()
                .unwrap();
            assert!(created);
        }
        assert_eq!(service.sweep(done_at + 30 * DAY - 1).await.unwrap(), 0);
        assert!(service
            .audio
            .get("user", "done-recording-0001")
            .unwrap()
            .is_some());
        assert_eq!(service.sweep(done_at + 30 * DAY).await.unwrap(), 1);
        assert!(service
            .audio
            .get("user", "done-recording-0001")
            .unwrap()
            .is_none());
        assert!(
            service
                .audio
                .get("user", "waiting-recording-01")
                .unwrap()
                .is_some(),
            "audio without a transcript is kept"
        );
    }

    #[test]
    fn failure_reasons_are_sentences() {
        let reason = failure_reason(&SpeechError::Decode(speech::DecodeError::UnknownFormat));
        assert!(reason.starts_with("The recording is not"), "{reason}");
        assert!(reason.ends_with('.'), "{reason}");
    }
}
