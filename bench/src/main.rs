//! `fieldbook-bench`: runs the benchmark scenarios against Fieldbook,
//! automerge-repo's reference sync server (Node) and samod's (Rust), side
//! by side on this machine, and prints one table. See BENCHMARKS.md.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use std::time::Duration;

use fieldbook_bench::report::{table, Outcome, Row};
use fieldbook_bench::scenarios;
use fieldbook_bench::target::{Kind, MemoryPeak, Target};

#[derive(Parser)]
#[command(
    name = "fieldbook-bench",
    about = "Benchmarks for the Fieldbook sync server"
)]
struct Cli {
    /// The Fieldbook server binary to measure
    #[arg(long, default_value = "target/release/fieldbook", global = true)]
    fieldbook_bin: PathBuf,
    /// Folder of the reference server script, with `npm ci` done
    #[arg(long, default_value = "bench/reference", global = true)]
    reference_dir: PathBuf,
    /// samod's sync server (`bench/reference-samod`, built by `make bench-build`)
    #[arg(
        long,
        default_value = "target/reference-samod/release/samod-sync-server",
        global = true
    )]
    samod_bin: PathBuf,
    /// Longest one scenario may run on one server before it is reported
    /// as not done (its time is then a lower bound)
    #[arg(long, default_value_t = 150, global = true)]
    cap_secs: u64,
    /// Which servers to measure
    #[arg(long, value_enum, default_value_t = Which::All, global = true)]
    against: Which,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    /// Fieldbook and both reference servers
    All,
    Fieldbook,
    /// automerge-repo's Node sync server
    Reference,
    Samod,
}

#[derive(Subcommand, Clone)]
enum Scenario {
    /// Every scenario at the sizes of BENCHMARKS.md
    All,
    /// Devices holding drafts written offline connect at once
    MorningSync {
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        #[arg(long, default_value_t = 20)]
        drafts: usize,
    },
    /// Pairs of devices typing into shared entries
    SteadyTyping {
        #[arg(long, default_value_t = 200)]
        editors: usize,
        /// Edits per second per device
        #[arg(long, default_value_t = 2.0)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Idle connected devices
    IdleFleet {
        #[arg(long, default_value_t = 1000)]
        connections: usize,
    },
    /// A new device fetching an account's entries
    NewLaptop {
        #[arg(long, default_value_t = 500)]
        entries: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let scenarios = match cli.scenario.clone() {
        Scenario::All => vec![
            Scenario::MorningSync {
                devices: 1000,
                drafts: 20,
            },
            // Small enough that the Node reference finishes too, so
            // peak memory and CPU time can be compared.
            Scenario::MorningSync {
                devices: 200,
                drafts: 10,
            },
            Scenario::SteadyTyping {
                editors: 200,
                rate: 2.0,
                seconds: 10.0,
            },
            Scenario::IdleFleet { connections: 1000 },
            Scenario::NewLaptop { entries: 500 },
        ],
        one => vec![one],
    };
    let mut rows = Vec::new();
    for scenario in scenarios {
        let name = describe(&scenario);
        eprintln!("running {name}");
        let mut outcomes = Vec::new();
        for kind in [Kind::Fieldbook, Kind::Reference, Kind::Samod] {
            outcomes.push(if cli.against.includes(kind) {
                measure(&cli, kind, &scenario).await?
            } else {
                Outcome::NotRun
            });
        }
        let [fieldbook, reference, samod] = outcomes.try_into().expect("three servers");
        let row = Row {
            scenario: name,
            fieldbook,
            reference,
            samod,
        };
        // Each scenario's rows as soon as they are known, the whole table at the end.
        eprint!("{}", table(std::slice::from_ref(&row)));
        rows.push(row);
    }
    println!("{}", table(&rows));
    Ok(())
}

impl Which {
    fn includes(self, kind: Kind) -> bool {
        match self {
            Which::All => true,
            Which::Fieldbook => kind == Kind::Fieldbook,
            Which::Reference => kind == Kind::Reference,
            Which::Samod => kind == Kind::Samod,
        }
    }
}

fn describe(scenario: &Scenario) -> String {
    match scenario {
        Scenario::All => "all".into(),
        Scenario::MorningSync { devices, drafts } => format!("morning sync {devices}×{drafts}"),
        Scenario::SteadyTyping { editors, rate, .. } => {
            format!("steady typing {editors} editors at {rate}/s")
        }
        Scenario::IdleFleet { connections } => format!("idle fleet {connections}"),
        Scenario::NewLaptop { entries } => format!("new laptop {entries} entries"),
    }
}

/// Runs one scenario on a fresh server of `kind`, for at most the time cap.
async fn measure(cli: &Cli, kind: Kind, scenario: &Scenario) -> anyhow::Result<Outcome> {
    let target = start(cli, kind).await?;
    let cap = Duration::from_secs(cli.cap_secs);
    let run = async {
        match *scenario {
            Scenario::MorningSync { devices, drafts } => {
                scenarios::morning_sync(&target, devices, drafts).await
            }
            Scenario::SteadyTyping {
                editors,
                rate,
                seconds,
            } => scenarios::steady_typing(&target, editors, rate, seconds).await,
            Scenario::IdleFleet { connections } => {
                scenarios::idle_fleet(&target, connections).await
            }
            Scenario::NewLaptop { entries } => scenarios::new_laptop(&target, entries).await,
            Scenario::All => unreachable!("expanded above"),
        }
    };
    // Kept for a run stopped at the cap, whose own figures are lost.
    let peak = MemoryPeak::start(&target);
    let outcome = match tokio::time::timeout(cap, run).await {
        Ok(figures) => Outcome::Measured(
            figures.with_context(|| format!("{} on {}", describe(scenario), kind.name()))?,
        ),
        Err(_) => Outcome::TimedOut {
            cap,
            peak_memory: peak.finish().await as f64 / (1024.0 * 1024.0),
        },
    };
    target.stop().await?;
    Ok(outcome)
}

async fn start(cli: &Cli, kind: Kind) -> anyhow::Result<Target> {
    match kind {
        Kind::Fieldbook => Target::start_fieldbook(&cli.fieldbook_bin).await,
        Kind::Reference => Target::start_reference(Path::new(&cli.reference_dir)).await,
        Kind::Samod => Target::start_samod(&cli.samod_bin).await,
    }
}
