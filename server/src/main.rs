//! The `fieldbook` command: parses the command line, sets up logging and
//! runs the server library.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use fieldbook_server::admin::cli as admin;
use fieldbook_server::config::Settings;

/// mimalloc returns freed memory to the system and keeps fragmentation low
/// across the many threads of the runtime, where glibc's per-thread arenas
/// grew (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "fieldbook",
    version,
    about = "Fieldbook: capture CPD notes in the field, finish them at the desk."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: the HTTP API and the sync endpoint.
    ///
    /// Settings come from, lowest first: built-in defaults, the TOML file
    /// given with --config, FIELDBOOK_* environment variables, then flags.
    Serve(ServeArgs),
    /// Print the likely identifying details in a text file (names, dates of
    /// birth, addresses, postcodes, phone numbers, NHS numbers, …) as JSON
    /// lines {"kind", "start", "end", "text", "why"}, offsets in characters.
    ///
    /// The same rules as the app's anonymisation check; runs entirely on
    /// this machine. FILE may be - for standard input.
    CheckText {
        /// UTF-8 text file to check, or - for standard input
        file: PathBuf,
    },
    /// Write a consistent backup of the data to a file, while the server
    /// runs and serves (it takes the backup, asked through the admin socket
    /// in the data directory) or while it is stopped.
    Backup(admin::BackupArgs),
    /// Load a backup into a new, empty data directory.
    Restore(admin::RestoreArgs),
    /// Administer accounts: list, disable, enable, delete, export.
    User(admin::UserArgs),
    /// Exit 0 if the server on this machine answers /healthz (for container
    /// health checks).
    Healthcheck(admin::HealthcheckArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML file of settings (keys as the flags, with underscores)
    #[arg(long, env = "FIELDBOOK_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::CheckText { file } => check_text(&file),
        Command::Backup(args) => Ok(admin::backup(args)?),
        Command::Restore(args) => Ok(admin::restore(args)?),
        Command::User(args) => Ok(admin::user(args)?),
        Command::Healthcheck(args) => Ok(admin::healthcheck(args)?),
    }
}

fn check_text(file: &std::path::Path) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input as UTF-8")?
    } else {
        std::fs::read_to_string(file)
            .with_context(|| format!("reading {} as UTF-8 text", file.display()))?
    };
    let mut out = std::io::stdout().lock();
    for flag in fieldbook_shared::anonymise::find_identifying_details(&text) {
        serde_json::to_writer(&mut out, &flag)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => Settings::from_toml_file(path)?,
        None => Settings::default(),
    };
    let config = args.settings.over(file).resolve()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, data_dir = %config.data_dir.display(), "fieldbook listening");
        // Scripts and tests read this line to learn the port.
        println!("listening on http://{addr}");
        std::io::stdout().flush()?;
        fieldbook_server::run(config, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
