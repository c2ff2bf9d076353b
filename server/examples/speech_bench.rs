//! Voice-note transcription figures for BENCHMARKS.md: real-time factor and
//! peak memory per job, and throughput with several jobs at once, through
//! the server's own pipeline (decode, resample, whisper.cpp).
//!
//! `make bench-speech` runs it once per concurrency level (1, 2, 4), each in
//! a fresh process so the peak memory is that level's own:
//!
//!     speech_bench --model M --file F --concurrency N [--threads T] [--rounds R]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use fieldbook_server::speech::{self, Model, ModelSettings};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    file: PathBuf,
    /// Jobs running at the same time.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Threads per job (the server's speech_threads).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Jobs each worker runs one after another.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Print the header line first.
    #[arg(long)]
    header: bool,
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU seconds (user + system) this process has used so far.
fn cpu_secs() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second
    // on Linux); the command name (field 2) may hold spaces, so count from
    // its closing parenthesis.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// The machine's one-minute load average: how busy it was with other work.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bytes = std::fs::read(&args.file).with_context(|| args.file.display().to_string())?;
    let mime_type = speech::mime_type_for(&args.file);
    let before_model = peak_rss_mib();
    let model = Arc::new(Model::load(ModelSettings {
        path: args.model.clone(),
        threads: args.threads,
        language: "en".into(),
    })?);
    // One job before timing, so the model's buffers are in memory.
    let warm = speech::transcribe(&model, bytes.clone(), mime_type)?;
    let after_one_job = peak_rss_mib();

    let load = load_average();
    let cpu_before = cpu_secs();
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (model, bytes) = (model.clone(), bytes.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<(f64, f64)>> {
                let mut jobs = Vec::new();
                for _ in 0..args.rounds {
                    let job = Instant::now();
                    let transcript = speech::transcribe(&model, bytes.clone(), mime_type)?;
                    jobs.push((transcript.audio_secs, job.elapsed().as_secs_f64()));
                }
                Ok(jobs)
            })
        })
        .collect();
    let mut jobs = Vec::new();
    for worker in workers {
        jobs.extend(worker.join().expect("worker thread")?);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_before;
    let audio: f64 = jobs.iter().map(|(audio, _)| audio).sum();
    let mean_rtf = jobs.iter().map(|(audio, took)| took / audio).sum::<f64>() / jobs.len() as f64;
    let peak = peak_rss_mib();
    let per_extra_job = if args.concurrency > 1 {
        format!(
            "{:.0}",
            (peak - after_one_job) / (args.concurrency - 1) as f64
        )
    } else {
        "-".to_owned()
    };
    if args.header {
        println!(
            "| jobs at once | threads/job | jobs | audio (s) | wall (s) | real-time factor per job | CPU s per audio s | throughput (audio s per s) | peak RSS (MiB) | model + 1 job (MiB) | each further job (MiB) | load average at start |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    println!(
        "| {} | {} | {} | {:.1} | {:.1} | {:.3} | {:.3} | {:.2} | {:.0} | {:.0} | {} | {} |",
        args.concurrency,
        args.threads,
        jobs.len(),
        audio,
        wall,
        mean_rtf,
        cpu / audio,
        audio / wall,
        peak,
        after_one_job - before_model,
        per_extra_job,
        load,
    );
    eprintln!("transcript: {}", warm.text);
    Ok(())
}
