//! The server under test: a child process on 127.0.0.1 with a fresh data
//! directory, its HTTP API, and its resource use read from /proc and /metrics.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "benchmark password";

pub struct Server {
    child: Child,
    pid: u32,
    addr: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Counters read at one moment.
pub struct Sample {
    pub cpu: Duration,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Server {
    pub async fn start(bin: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--login-attempts-per-minute",
                "100000",
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (build it with cargo build --release)",
                    bin.display()
                )
            })?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = lines
            .next_line()
            .await?
            .context("server exited before listening")?;
        let addr = line
            .strip_prefix("listening on http://")
            .context("unexpected first line from the server")?
            .to_owned();
        let pid = child.id().context("server pid")?;
        Ok(Self {
            child,
            pid,
            addr,
            http: reqwest::Client::new(),
            _dir: dir,
        })
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    pub async fn register(&self, email: &str) -> anyhow::Result<()> {
        let response = self
            .http
            .post(format!("http://{}/api/auth/register", self.addr))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await?;
        if response.status() != 201 {
            bail!("register failed: {}", response.status());
        }
        Ok(())
    }

    /// Returns the new device's token.
    pub async fn login(&self, email: &str) -> anyhow::Result<String> {
        let body: Value = self
            .http
            .post(format!("http://{}/api/auth/login", self.addr))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(body["token"].as_str().context("token")?.to_owned())
    }

    pub async fn sample(&self) -> anyhow::Result<Sample> {
        let metrics = self
            .http
            .get(format!("http://{}/metrics", self.addr))
            .send()
            .await?
            .text()
            .await?;
        let counter = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or(0)
        };
        Ok(Sample {
            cpu: cpu_time(self.pid)?,
            messages_in: counter("fieldbook_messages_in_total"),
            messages_out: counter("fieldbook_messages_out_total"),
            bytes_in: counter("fieldbook_bytes_in_total"),
            bytes_out: counter("fieldbook_bytes_out_total"),
        })
    }

    /// Samples the server's resident memory every 5 ms until stopped.
    pub fn start_memory_sampler(&self) -> MemorySampler {
        let peak = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let pid = self.pid;
        let task = {
            let (peak, running) = (peak.clone(), running.clone());
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    if let Some(rss) = rss_bytes(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        MemorySampler {
            peak,
            running,
            task,
            pid,
        }
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        // SIGTERM for a graceful stop; the child is killed if that hangs.
        let _ = Command::new("kill")
            .arg(self.pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }
}

pub struct MemorySampler {
    peak: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
    pid: u32,
}

impl MemorySampler {
    /// The highest resident set size seen, in bytes.
    pub async fn stop(self) -> u64 {
        if let Some(rss) = rss_bytes(self.pid) {
            self.peak.fetch_max(rss, Ordering::Relaxed);
        }
        self.running.store(false, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// User plus system CPU time of the process so far.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) in brackets.
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
    Ok(Duration::from_millis(ticks * 10))
}
