//! Fieldbook's server as a library: build it from a [`Config`], hand it an
//! already-bound listener and a shutdown signal, and it serves the HTTP API
//! and the automerge-repo sync protocol until the signal fires, then closes
//! connections, finishes in-flight writes and flushes.
//!
//! `main.rs` only parses the command line and calls [`run`]; tests call it
//! on `127.0.0.1:0`.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod audio;
pub mod clock;
pub mod config;
pub mod logging;
pub mod metrics;
pub mod sharing;
pub mod speech;
pub mod store;
pub mod sync;
pub mod tokens;
pub mod uploads;
#[cfg(test)]
mod walls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{Config, StorageKind};

use accounts::rate_limit::RateLimiter;
use accounts::Accounts;
use api::AppState;
use metrics::Metrics;
use store::{keys, MemoryStore, SledStore, Store, StoreError};
use sync::doc_store::{self, DocStore};
use sync::hub::Hub;

/// How long shutdown waits for open sync connections to finish what they
/// are doing and close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("final flush failed: {0}")]
    Flush(#[from] doc_store::DocStoreError),
    #[error(transparent)]
    Format(#[from] admin::format::FormatError),
}

/// A built server: storage open, state ready, not yet listening.
pub struct App {
    state: AppState,
    stop: watch::Sender<bool>,
    /// The store again, as the wrapper that lets backups run while serving.
    gate: Arc<store::Gated>,
}

/// Opens storage and builds the server's state from `config`.
pub fn build(config: Config) -> Result<App, ServerError> {
    let gate = Arc::new(store::Gated::new(open_store(&config)?));
    admin::format::prepare(gate.as_ref())?;
    let store: Arc<dyn Store> = gate.clone();
    let storage_id = storage_id(store.as_ref())?;
    let metrics = Arc::new(Metrics::default());
    let hub = Arc::new(
        Hub::new(
            store.clone(),
            metrics.clone(),
            format!("fieldbook-server-{}", random_suffix()),
            config.doc_idle_timeout,
        )
        .with_invitation_expiry(config.invitation_expiry),
    );
    let transcription = Arc::new(transcription_service(&config, &store, &hub));
    let evidence = Arc::new(uploads::evidence::Evidence {
        store: uploads::evidence::EvidenceStore::new(store.clone()),
        limits: uploads::evidence::Limits {
            max_file_bytes: config.evidence_max_bytes,
            quota_bytes: config.evidence_quota_bytes,
        },
    });
    let (stop, stopped) = watch::channel(false);
    let state = AppState {
        accounts: Arc::new(
            Accounts::new(store.clone(), DocStore::new(store.clone()))
                .with_session_idle_timeout(config.session_idle_timeout),
        ),
        login_limiter: Arc::new(RateLimiter::new(
            config.login_attempts_per_minute,
            Duration::from_secs(60),
        )),
        config: Arc::new(config),
        hub,
        metrics,
        storage_id: storage_id.into(),
        shutdown: stopped,
        transcription,
        evidence,
    };
    Ok(App { state, stop, gate })
}

impl App {
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// The admin operations' view of this server.
    fn admin_context(&self) -> admin::Context {
        admin::Context {
            store: self.gate.clone(),
            hub: self.state.hub.clone(),
            accounts: self.state.accounts.clone(),
        }
    }

    /// Serves on `listener` until `shutdown` resolves, then closes sync
    /// connections once the message in hand (and its flush) is finished,
    /// keeps peers' sync state and flushes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        // Backups and account changes for `fieldbook backup` / `user`.
        let admin_socket = match self.state.config.storage {
            StorageKind::Sled => {
                admin::socket::start(self.admin_context(), &self.state.config.data_dir)
            }
            StorageKind::Memory => None,
        };
        let App { state, stop, .. } = self;
        let (hub, metrics) = (state.hub.clone(), state.metrics.clone());
        let transcription = tokio::spawn(state.transcription.clone().run(state.shutdown.clone()));
        let releaser = tokio::spawn(release_periodically(hub.clone()));
        let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let stopping = async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop.send(true);
        };
        // Deadlines for clients that stall (hyper has no timer here). `tap_io`
        // only so that axum hands handlers the client's `SocketAddr`, which
        // it does for its own listener types.
        let listener = api::deadlines::Listener::new(listener).tap_io(|_| {});
        axum::serve(listener, app)
            .with_graceful_shutdown(stopping)
            .await?;
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while metrics.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Awaited, so its handle on the database is gone when this returns.
        releaser.abort();
        let _ = releaser.await;
        // Stops with the shutdown signal; a job cut short stays
        // `transcribing` in its record and starts over at the next start.
        let _ = transcription.await;
        drop(admin_socket);
        hub.shutdown().await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Runs the server on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    build(config)?.serve(listener, shutdown).await
}

/// Voice-note transcription: the speech model is loaded here, once. A
/// configured model that is missing, cut off or not a whisper.cpp model is
/// refused with a plain message and the server runs without one: voice
/// notes are kept (state `no-model`) and queued at the first start with a
/// good model.
fn transcription_service(
    config: &Config,
    store: &Arc<dyn Store>,
    hub: &Arc<Hub>,
) -> audio::Transcription {
    let model = config.speech_model.as_ref().and_then(|path| {
        let settings = speech::ModelSettings {
            path: path.clone(),
            threads: config.speech_threads,
            language: config.speech_language.clone(),
        };
        match speech::Model::load(settings) {
            Ok(model) => Some(Arc::new(model)),
            Err(err) => {
                tracing::error!(
                    "{err}; voice notes are stored but not transcribed until a good model is configured"
                );
                None
            }
        }
    });
    audio::Transcription::new(
        Arc::new(audio::AudioStore::new(store.clone())),
        hub.clone(),
        model,
        config.speech_concurrency,
        audio::Limits {
            max_file_bytes: config.audio_max_bytes,
            quota_bytes: config.audio_quota_bytes,
            retention: config.audio_retention,
        },
    )
}

fn open_store(config: &Config) -> Result<Arc<dyn Store>, ServerError> {
    Ok(match config.storage {
        StorageKind::Memory => Arc::new(MemoryStore::new()),
        StorageKind::Sled => {
            std::fs::create_dir_all(&config.data_dir)
                .map_err(|err| ServerError::DataDir(config.data_dir.display().to_string(), err))?;
            Arc::new(SledStore::open(&config.data_dir)?)
        }
    })
}

/// The server's storageId, made once and kept, so peers can keep their
/// sync state with it across restarts.
fn storage_id(store: &dyn Store) -> Result<String, StoreError> {
    let fresh = format!("fieldbook-{}", random_suffix());
    store.put_if_absent(keys::SERVER_STORAGE_ID.as_bytes(), fresh.as_bytes())?;
    let stored = store
        .get(keys::SERVER_STORAGE_ID.as_bytes())?
        .ok_or_else(|| StoreError::new("storage ID vanished"))?;
    Ok(String::from_utf8_lossy(&stored).into_owned())
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    hex::encode(bytes)
}

async fn release_periodically(hub: Arc<Hub>) {
    let period = (hub.unload_after() / 2).max(Duration::from_millis(100));
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        hub.release_idle();
    }
}
