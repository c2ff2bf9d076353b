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
/// grew; built without transparent huge pages (see the workspace
/// Cargo.toml and BENCHMARKS.md).
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
    Serve(Box<ServeArgs>),
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
    /// Print the transcript of a recording (WebM, MP4 or Ogg) through the
    /// same decoding, resampling and speech model as the server's voice
    /// notes, so an administrator can check a model. Runs on this machine.
    Transcribe(TranscribeArgs),
    /// Exit 0 if the server on this machine answers /healthz (for container
    /// health checks).
    Healthcheck(admin::HealthcheckArgs),
}

#[derive(clap::Args)]
struct TranscribeArgs {
    /// The recording
    file: PathBuf,
    /// whisper.cpp model file [default: the speech_model setting]
    #[arg(long, env = "FIELDBOOK_SPEECH_MODEL")]
    model: Option<PathBuf>,
    /// CPU threads [default: 1]
    #[arg(long)]
    threads: Option<usize>,
    /// Spoken language, a whisper code or auto
    #[arg(long, default_value = "en")]
    language: String,
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
    fieldbook_server::logging::init();
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::CheckText { file } => check_text(&file),
        Command::Backup(args) => Ok(admin::backup(args)?),
        Command::Restore(args) => Ok(admin::restore(args)?),
        Command::User(args) => Ok(admin::user(args)?),
        Command::Healthcheck(args) => Ok(admin::healthcheck(args)?),
        Command::Transcribe(args) => transcribe(args),
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

fn transcribe(args: TranscribeArgs) -> anyhow::Result<()> {
    use fieldbook_server::speech;
    let path = args
        .model
        .context("no speech model: give --model PATH (or set FIELDBOOK_SPEECH_MODEL)")?;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let model = speech::Model::load(speech::ModelSettings {
        path,
        threads: args
            .threads
            .unwrap_or(fieldbook_server::Config::default().speech_threads),
        language: args.language,
    })?;
    let started = std::time::Instant::now();
    let transcript = speech::transcribe(&model, bytes, speech::mime_type_for(&args.file))
        .with_context(|| format!("transcribing {}", args.file.display()))?;
    let took = started.elapsed().as_secs_f64();
    if transcript.truncated {
        eprintln!("note: the recording ends early (cut off); this is what was there");
    }
    eprintln!(
        "{:.1} s of audio in {took:.1} s (real-time factor {:.3})",
        transcript.audio_secs,
        took / transcript.audio_secs.max(0.001)
    );
    println!("{}", transcript.text);
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
