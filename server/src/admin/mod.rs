//! Keeping a Fieldbook server running for years: the data format version
//! (checked and migrated at start-up), consistent backups and restores, and
//! account administration (list, disable, enable, delete, export).
//!
//! sled lets one process at a time open a data directory, so while the
//! server runs, the `fieldbook backup` and `fieldbook user …` commands ask
//! *it* to do the work, through a Unix socket in the data directory that
//! only the server's own user (and root) can open ([`socket`]). When no
//! server runs, the commands open the data directory themselves and do the
//! same work the same way ([`Context::open`]).

pub mod backup;
pub mod cli;
pub mod format;
pub mod socket;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::accounts::{AccountError, Accounts};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::{Gated, SledStore, Store, StoreError};
use crate::sync::doc_store::{DocStore, DocStoreError};
use crate::sync::hub::Hub;

/// The peer ID of a hub opened for admin work, which syncs with no one.
const ADMIN_PEER_ID: &str = "fieldbook-admin";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no account {0:?} (give an email address or a user ID)")]
    NoSuchUser(String),
    #[error("{} is not empty; restore only into a new, empty directory", .0.display())]
    NotEmpty(PathBuf),
    #[error("{} holds no Fieldbook data", .0.display())]
    NoData(PathBuf),
    #[error(
        "the database in {} is in use by another process, but no Fieldbook server \
         answers on its admin socket; stop that process, or run this command as the \
         user the server runs as",
        .0.display()
    )]
    InUse(PathBuf),
    #[error("the server refused: {0}")]
    Remote(String),
    #[error("the admin socket spoke out of turn: {0}")]
    Protocol(String),
    #[error("{0} already exists and is not empty")]
    OutputExists(String),
    #[error("export failed: {0}")]
    Export(String),
    #[error("{0}")]
    Unconfirmed(String),
    #[error("the server on {0} answered {1:?} instead of 200 OK")]
    Unhealthy(std::net::SocketAddr, String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Backup(#[from] backup::BackupError),
    #[error(transparent)]
    Format(#[from] format::FormatError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Docs(#[from] DocStoreError),
    #[error(transparent)]
    Accounts(#[from] AccountError),
    #[error(transparent)]
    Sharing(#[from] crate::sharing::SharingError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the admin operations work on: the server's own store, hub and
/// accounts (so a deletion also closes sockets and evicts documents), or
/// the same built from a data directory no server has open.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<Gated>,
    pub hub: Arc<Hub>,
    pub accounts: Arc<Accounts>,
}

impl Context {
    /// Opens `data_dir` directly, for when no server runs on it. Runs the
    /// format check and migration, as a server start would; the hub and
    /// accounts have the default settings, and no metrics anyone reads.
    pub fn open(data_dir: &Path) -> Result<Self, AdminError> {
        if !is_data_dir(data_dir) {
            return Err(AdminError::NoData(data_dir.to_owned()));
        }
        let sled = SledStore::open(data_dir).map_err(|err| {
            if err.to_string().contains("lock") {
                AdminError::InUse(data_dir.to_owned())
            } else {
                err.into()
            }
        })?;
        let store = Arc::new(Gated::new(Arc::new(sled)));
        format::prepare(store.as_ref())?;
        let shared: Arc<dyn Store> = store.clone();
        let defaults = Config::default();
        let hub = Hub::new(
            shared.clone(),
            Arc::new(Metrics::default()),
            ADMIN_PEER_ID.to_owned(),
            defaults.doc_idle_timeout,
        );
        let accounts = Accounts::new(shared.clone(), DocStore::new(shared))
            .with_session_idle_timeout(defaults.session_idle_timeout);
        Ok(Self {
            store,
            hub: Arc::new(hub),
            accounts: Arc::new(accounts),
        })
    }

    /// Makes everything done so far durable (for direct use, before exit).
    pub async fn close(&self) -> Result<(), AdminError> {
        self.hub.shutdown().await?;
        self.store.flush().await?;
        Ok(())
    }
}

/// Whether `dir` looks like a sled data directory.
fn is_data_dir(dir: &Path) -> bool {
    dir.join("conf").is_file() || dir.join("db").is_file()
}

/// Whether `dir` exists and has anything in it.
fn has_entries(dir: &Path) -> std::io::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// Creates `dir` (and its parents) readable by its owner only: it will
/// hold password hashes and everyone's notes.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}
