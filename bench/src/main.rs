//! `fieldbook-bench`: starts a real `fieldbook` server as a child process and
//! drives it with many simulated devices speaking the automerge-repo
//! protocol, then prints what it measured (wall time, server CPU time, peak
//! server memory, messages and bytes moved).

mod device;
mod server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fieldbook-bench",
    about = "Benchmarks for the Fieldbook sync server"
)]
struct Cli {
    /// The server binary to measure
    #[arg(long, default_value = "target/release/fieldbook", global = true)]
    server_bin: PathBuf,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Devices that each hold drafts made offline connect at once and sync
    /// them; timed until the server has acknowledged every draft.
    Sync {
        #[arg(long, default_value_t = 100)]
        devices: usize,
        #[arg(long, default_value_t = 10)]
        docs: usize,
        /// Devices per account (each account is registered once)
        #[arg(long, default_value_t = 5)]
        devices_per_user: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        match cli.scenario {
            Scenario::Sync {
                devices,
                docs,
                devices_per_user,
            } => sync_scenario(&cli.server_bin, devices, docs, devices_per_user).await,
        }
    })
}

async fn sync_scenario(
    bin: &std::path::Path,
    devices: usize,
    docs: usize,
    devices_per_user: usize,
) -> anyhow::Result<()> {
    let server = server::Server::start(bin).await?;
    let users = devices.div_ceil(devices_per_user.max(1));
    let mut sessions = Vec::with_capacity(devices);
    for user in 0..users {
        let email = format!("bench-{user}@example.org");
        server.register(&email).await?;
        for _ in 0..devices_per_user.min(devices - sessions.len()) {
            sessions.push(server.login(&email).await?);
        }
    }
    let prepared: Vec<device::Device> = sessions
        .into_iter()
        .enumerate()
        .map(|(n, token)| device::Device::with_offline_drafts(format!("device-{n}"), token, docs))
        .collect();

    let before = server.sample().await?;
    let sampler = server.start_memory_sampler();
    let started = Instant::now();
    let url = server.ws_url();
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|device| tokio::spawn(device.sync_all(url.clone())))
        .collect();
    let mut slowest = Duration::ZERO;
    for task in tasks {
        slowest = slowest.max(task.await??);
    }
    let elapsed = started.elapsed();
    let peak_rss = sampler.stop().await;
    let after = server.sample().await?;
    server.stop().await?;

    println!("scenario: sync, {devices} devices x {docs} drafts ({users} accounts)");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| time until every draft is acknowledged | {:.0} ms |",
        elapsed.as_secs_f64() * 1e3
    );
    println!("| slowest device | {:.0} ms |", slowest.as_secs_f64() * 1e3);
    println!(
        "| server CPU time | {:.0} ms |",
        (after.cpu - before.cpu).as_secs_f64() * 1e3
    );
    println!(
        "| server peak memory (RSS) | {:.1} MiB |",
        peak_rss as f64 / 1048576.0
    );
    println!(
        "| messages in / out | {} / {} |",
        after.messages_in - before.messages_in,
        after.messages_out - before.messages_out
    );
    println!(
        "| bytes in / out | {} / {} |",
        after.bytes_in - before.bytes_in,
        after.bytes_out - before.bytes_out
    );
    Ok(())
}
