//! The `fieldbook backup`, `restore` and `user` subcommands: arguments and
//! what each does. Every command asks the server running on the data
//! directory through its admin socket, or, when none runs, opens the
//! directory itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::{Args, Subcommand};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::socket::{self, Request};
use super::users::{Deleted, Export, Toggled, UserSummary};
use super::{backup, AdminError, Context};
use crate::config::Settings;

/// Where the data is: the same settings `serve` reads.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// TOML file of settings; its data_dir is used
    #[arg(long, env = "FIELDBOOK_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The server's data directory [default: ./data]
    #[arg(long, env = "FIELDBOOK_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

impl DataDirArgs {
    fn resolve(&self) -> Result<PathBuf, AdminError> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        if let Some(path) = &self.config {
            let settings = Settings::from_toml_file(path)?;
            if let Some(dir) = settings.data_dir {
                return Ok(dir);
            }
        }
        Ok(PathBuf::from("./data"))
    }
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    dir: DataDirArgs,
    /// The backup file to write (it must not exist yet), or - for standard
    /// output
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file to load
    #[arg(long)]
    from: PathBuf,
    /// A new, empty (or absent) data directory to load it into
    #[arg(long)]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    dir: DataDirArgs,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List every account: email, ID, status, devices and documents
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its devices are signed out, its sockets close,
    /// and it can neither sign in nor sync until enabled again
    Disable {
        /// Email address or user ID
        user: String,
    },
    /// Re-enable a disabled account (its devices sign in again)
    Enable {
        /// Email address or user ID
        user: String,
    },
    /// Delete an account for good: every document it owns, its devices and
    /// sessions, and the account itself
    Delete {
        /// Email address or user ID
        user: String,
        /// Confirm: nothing of the account can be recovered afterwards
        /// (except from a backup)
        #[arg(long)]
        yes: bool,
    },
    /// Export everything held about one user, for their right of access:
    /// the account, its devices, and every document as Automerge binary
    /// (full history) and as JSON
    Export {
        /// Email address or user ID
        user: String,
        /// A new directory to write the export into, or - for one JSON
        /// document on standard output
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The server's listen address; a wildcard address is checked on
    /// loopback [default: 127.0.0.1:8080]
    #[arg(long, env = "FIELDBOOK_LISTEN")]
    listen: Option<std::net::SocketAddr>,
}

/// How a command reached the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Server,
    Direct,
}

impl Via {
    fn describe(self) -> &'static str {
        match self {
            Via::Server => "by the running server",
            Via::Direct => "from the data directory directly (no server was running)",
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AdminError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Asks the server on this machine for `/healthz`, for container health
/// checks in images with no HTTP client (a plain HTTP/1.0 request is all
/// it takes).
pub fn healthcheck(args: HealthcheckArgs) -> Result<(), AdminError> {
    use std::io::Read;
    use std::time::Duration;
    let mut addr = args
        .listen
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let timeout = Duration::from_secs(5);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut reply = Vec::new();
    stream.take(4096).read_to_end(&mut reply)?;
    let status_line = String::from_utf8_lossy(&reply)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        println!("healthy: {addr}");
        Ok(())
    } else {
        Err(AdminError::Unhealthy(addr, status_line))
    }
}

pub fn backup(args: BackupArgs) -> Result<(), AdminError> {
    let data_dir = args.dir.resolve()?;
    let runtime = runtime()?;
    if args.out == Path::new("-") {
        // For `docker compose exec -T … backup --out - > file`: the bytes
        // on standard output, the report on standard error.
        let mut out = backup::Verifying::new(std::io::stdout().lock());
        let via = runtime.block_on(take_backup(&data_dir, &mut out))?;
        let (_, summary) = out.finish()?;
        eprintln!("{}", report("standard output", &summary, via));
        return Ok(());
    }
    if args.out.exists() {
        return Err(AdminError::OutputExists(args.out.display().to_string()));
    }
    // Written beside the target and renamed once whole and checked, so a
    // file under the chosen name is always a complete backup.
    let partial = partial_path(&args.out);
    let mut out = backup::Verifying::new(std::io::BufWriter::new(private_file(&partial)?));
    let result = runtime
        .block_on(take_backup(&data_dir, &mut out))
        .and_then(|via| {
            let (file, summary) = out.finish()?;
            file.into_inner()
                .map_err(|err| err.into_error())?
                .sync_all()?;
            std::fs::rename(&partial, &args.out)?;
            Ok((via, summary))
        });
    let (via, summary) = match result {
        Ok(done) => done,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    println!("{}", report(&args.out.display().to_string(), &summary, via));
    Ok(())
}

fn report(to: &str, summary: &backup::Summary, via: Via) -> String {
    format!(
        "backup written to {to}: {} accounts, {} documents, {} records, data format {}, taken {}",
        summary.users,
        summary.documents,
        summary.records,
        summary.header.data_format,
        via.describe()
    )
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    out.with_file_name(name)
}

async fn take_backup(data_dir: &Path, out: &mut dyn Write) -> Result<Via, AdminError> {
    if let Some(stream) = socket::connect(data_dir).await? {
        socket::fetch_backup(stream, out).await?;
        return Ok(Via::Server);
    }
    let ctx = Context::open(data_dir)?;
    backup::write(&ctx.store, out)?;
    ctx.close().await?;
    Ok(Via::Direct)
}

/// A new file only its owner can read: a backup or an export holds notes.
fn private_file(path: &Path) -> Result<std::fs::File, AdminError> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("cannot create {}: {err}", path.display()),
            )
        })?)
}

pub fn restore(args: RestoreArgs) -> Result<(), AdminError> {
    let summary = runtime()?.block_on(backup::restore(&args.from, &args.data_dir))?;
    println!(
        "restored {} into {}: {} accounts, {} documents, {} records, data format {} (taken {}); \
         start the server on it; each device syncs in full once",
        args.from.display(),
        args.data_dir.display(),
        summary.users,
        summary.documents,
        summary.records,
        summary.header.data_format,
        summary.header.created_at,
    );
    Ok(())
}

pub fn user(args: UserArgs) -> Result<(), AdminError> {
    let data_dir = args.dir.resolve()?;
    let runtime = runtime()?;
    match args.command {
        UserCommand::List { json } => {
            let (users, _): (Vec<UserSummary>, _) =
                runtime.block_on(ask(&data_dir, Request::ListUsers))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&users).expect("summaries serialise")
                );
            } else {
                print_table(&users);
            }
        }
        UserCommand::Disable { user } => {
            let (done, via): (Toggled, _) =
                runtime.block_on(ask(&data_dir, Request::Disable { user }))?;
            let how = if done.changed {
                "disabled"
            } else {
                "was already disabled"
            };
            println!(
                "{} ({}) {how}; every device signed out, {}",
                done.user.email,
                done.user.id,
                via.describe()
            );
        }
        UserCommand::Enable { user } => {
            let (done, via): (Toggled, _) =
                runtime.block_on(ask(&data_dir, Request::Enable { user }))?;
            let how = if done.changed {
                "enabled"
            } else {
                "was not disabled"
            };
            println!(
                "{} ({}) {how}, {}",
                done.user.email,
                done.user.id,
                via.describe()
            );
        }
        UserCommand::Delete { user, yes } => {
            if !yes {
                return Err(AdminError::Unconfirmed(format!(
                    "deleting {user} removes every document it owns for good; \
                     run again with --yes to confirm"
                )));
            }
            let (done, via): (Deleted, _) =
                runtime.block_on(ask(&data_dir, Request::Delete { user }))?;
            println!(
                "deleted account {}: {} documents, {} devices, {} recordings and {} evidence files purged, {} shares with it ended, {}",
                done.id,
                done.documents,
                done.devices,
                done.recordings,
                done.evidence_files,
                done.memberships,
                via.describe()
            );
        }
        UserCommand::Export { user, out } => {
            let to_stdout = out == Path::new("-");
            if !to_stdout && super::has_entries(&out)? {
                return Err(AdminError::OutputExists(out.display().to_string()));
            }
            let (export, via): (Export, _) =
                runtime.block_on(ask(&data_dir, Request::Export { user }))?;
            if to_stdout {
                // One JSON document (binaries in base64), for
                // `docker compose exec -T … export USER --out - > file`.
                std::io::stdout().lock().write_all(&pretty(
                    &serde_json::to_value(&export).expect("exports serialise"),
                ))?;
                eprintln!(
                    "exported {} ({}): {} documents to standard output, {}",
                    export.account.email,
                    export.account.id,
                    export.documents.len(),
                    via.describe()
                );
                return Ok(());
            }
            write_export(&export, &out)?;
            println!(
                "exported {} ({}): {} documents, {} shared with them, {} recordings and {} evidence files into {}, {}",
                export.account.email,
                export.account.id,
                export.documents.len(),
                export.shared.len(),
                export.audio.len(),
                export.evidence.len(),
                out.display(),
                via.describe()
            );
        }
    }
    Ok(())
}

/// Sends `request` to the running server, or carries it out directly.
async fn ask<T: DeserializeOwned>(
    data_dir: &Path,
    request: Request,
) -> Result<(T, Via), AdminError> {
    let (value, via) = match socket::connect(data_dir).await? {
        Some(stream) => (socket::call(stream, &request).await?, Via::Server),
        None => {
            let ctx = Context::open(data_dir)?;
            let result = socket::perform(&ctx, request).await;
            ctx.close().await?;
            (result?, Via::Direct)
        }
    };
    let parsed =
        serde_json::from_value(value).map_err(|err| AdminError::Protocol(err.to_string()))?;
    Ok((parsed, via))
}

fn print_table(users: &[UserSummary]) {
    let width = users
        .iter()
        .map(|u| u.email.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "{:width$}  {:32}  {:8}  {:>7}  {:>9}  created",
        "email", "user id", "status", "devices", "documents"
    );
    for user in users {
        let status = match user.status {
            super::users::Status::Active => "active",
            super::users::Status::Disabled => "disabled",
        };
        println!(
            "{:width$}  {:32}  {:8}  {:>7}  {:>9}  {}",
            user.email, user.id, status, user.devices, user.documents, user.created_at
        );
    }
    println!("{} accounts", users.len());
}

const EXPORT_README: &str = "\
This is everything the Fieldbook server holds about one account.

account.json      the account (email, ID, status, when created), its devices
                  (name, when added, when last seen), and when this was exported
documents/ID.json the current content of each document, as JSON
documents/ID.automerge
                  the same document with its whole editing history, in
                  Automerge's binary format (https://automerge.org), which any
                  Automerge library can open
recordings.json   the voice recordings held on the server (which note each
                  belongs to, type, size, SHA-256, transcript)
evidence.json     the evidence files held on the server (certificates,
                  slides, photos: name, type, size, SHA-256, which entry)
shared.json       the documents others share with this account: which, with
                  what role (writer or reader), the names chosen for the
                  share, and since when
shared/ID.json, shared/ID.automerge
                  each of those documents, as for documents/ above

The document named in account.json as rootDocUrl lists the entries; each
other document is one entry or draft.
";

fn write_export(export: &Export, out: &Path) -> Result<(), AdminError> {
    super::create_private_dir(&out.join("documents"))?;
    super::create_private_dir(&out.join("shared"))?;
    let write = |path: PathBuf, bytes: &[u8]| -> Result<(), AdminError> {
        private_file(&path)?.write_all(bytes)?;
        Ok(())
    };
    let account = serde_json::json!({
        "account": export.account,
        "devices": export.device_list,
        "exportedAt": export.exported_at,
    });
    write(out.join("account.json"), &pretty(&account))?;
    write(out.join("README.txt"), EXPORT_README.as_bytes())?;
    write(
        out.join("recordings.json"),
        &pretty(&serde_json::json!(export.audio)),
    )?;
    write(
        out.join("evidence.json"),
        &pretty(&serde_json::json!(export.evidence)),
    )?;
    let memberships: Vec<_> = export.shared.iter().map(|s| &s.membership).collect();
    write(
        out.join("shared.json"),
        &pretty(&serde_json::json!(memberships)),
    )?;
    let owned = export.documents.iter().map(|doc| ("documents", doc));
    let shared = export.shared.iter().map(|s| ("shared", &s.document));
    for (dir, doc) in owned.chain(shared) {
        let binary = base64::engine::general_purpose::STANDARD
            .decode(&doc.automerge)
            .map_err(|err| AdminError::Protocol(err.to_string()))?;
        // IDs are base58: safe as file names.
        write(out.join(dir).join(format!("{}.automerge", doc.id)), &binary)?;
        write(
            out.join(dir).join(format!("{}.json", doc.id)),
            &pretty(&doc.content),
        )?;
    }
    Ok(())
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values serialise");
    bytes.push(b'\n');
    bytes
}
