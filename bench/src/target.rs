//! The server under test: Fieldbook (the `fieldbook` binary, or an
//! in-process server in tests), automerge-repo's reference server (Node) or
//! samod's (Rust, `bench/reference-samod/`), started on 127.0.0.1 with a
//! fresh data directory, with its resource use read from /proc.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

const PASSWORD: &str = "benchmark password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fieldbook,
    Reference,
    Samod,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Fieldbook => "fieldbook",
            Kind::Reference => "reference",
            Kind::Samod => "samod",
        }
    }
}

/// What a simulated device needs to reach its account.
#[derive(Clone, Debug)]
pub struct Login {
    pub token: Option<String>,
    /// Fieldbook's server-made root document; the reference servers have none.
    pub root: Option<fieldbook_shared::DocumentId>,
}

pub struct Target {
    pub kind: Kind,
    addr: String,
    child: Option<Child>,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    pub async fn start_fieldbook(bin: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut command = Command::new(bin);
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--login-attempts-per-minute",
                "100000",
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn");
        Self::spawn(Kind::Fieldbook, command, dir, bin).await
    }

    /// `script_dir` holds `server.mjs` with its npm packages installed.
    pub async fn start_reference(script_dir: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut command = Command::new("node");
        command
            .arg(script_dir.join("server.mjs"))
            .args(["--port", "0", "--data-dir"])
            .arg(dir.path());
        Self::spawn(Kind::Reference, command, dir, script_dir).await
    }

    /// `bin` is `bench/reference-samod`'s `samod-sync-server`.
    pub async fn start_samod(bin: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut command = Command::new(bin);
        command.args(["--port", "0", "--data-dir"]).arg(dir.path());
        Self::spawn(Kind::Samod, command, dir, bin).await
    }

    async fn spawn(
        kind: Kind,
        mut command: Command,
        dir: tempfile::TempDir,
        what: &Path,
    ) -> anyhow::Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", what.display()))?;
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
        Ok(Self {
            kind,
            addr,
            child: Some(child),
            http: reqwest::Client::new(),
            _dir: Some(dir),
        })
    }

    /// A Fieldbook server already running at `addr` (in-process, in tests).
    pub fn running_fieldbook(addr: String) -> Self {
        Self {
            kind: Kind::Fieldbook,
            addr,
            child: None,
            http: reqwest::Client::new(),
            _dir: None,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// Logins for `devices` devices, `per_account` devices to an account.
    /// Devices of one account share its one login (one token), each with
    /// its own peer ID, so setting up thousands of devices does not cost
    /// thousands of password hashes.
    pub async fn logins(&self, devices: usize, per_account: usize) -> anyhow::Result<Vec<Login>> {
        // The reference servers have no accounts: every device just connects.
        if self.kind != Kind::Fieldbook {
            return Ok(vec![
                Login {
                    token: None,
                    root: None
                };
                devices
            ]);
        }
        let per_account = per_account.max(1);
        let mut logins = Vec::with_capacity(devices);
        for account in 0..devices.div_ceil(per_account) {
            let email = format!("bench-{account}-{}@example.org", std::process::id());
            let login = self.account(&email).await?;
            for _ in 0..per_account.min(devices - logins.len()) {
                logins.push(login.clone());
            }
        }
        Ok(logins)
    }

    async fn account(&self, email: &str) -> anyhow::Result<Login> {
        let base = format!("http://{}", self.addr);
        let response = self
            .http
            .post(format!("{base}/api/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await?;
        if response.status() != 201 {
            bail!("register failed: {}", response.status());
        }
        let body: Value = self
            .http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Login {
            token: Some(body["token"].as_str().context("token")?.to_owned()),
            root: Some(fieldbook_shared::DocumentId::parse(
                body["rootDocUrl"].as_str().context("rootDocUrl")?,
            )?),
        })
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Resident memory now, in bytes (0 for an in-process server).
    pub fn rss(&self) -> u64 {
        self.pid().and_then(rss_bytes).unwrap_or(0)
    }

    /// User plus system CPU time so far (zero for an in-process server).
    pub fn cpu(&self) -> Duration {
        self.pid().and_then(cpu_time).unwrap_or_default()
    }

    /// CPU time used so far by this process, the load generator itself, so
    /// a figure can say how much of the machine the simulated devices took.
    pub fn load_generator_cpu() -> Duration {
        cpu_time(std::process::id()).unwrap_or_default()
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill").arg(pid.to_string()).status().await;
            }
            if tokio::time::timeout(Duration::from_secs(15), child.wait())
                .await
                .is_err()
            {
                child.kill().await?;
            }
        }
        Ok(())
    }
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in brackets and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
    Some(Duration::from_millis(ticks * 10))
}

/// Samples a target's resident memory every 5 ms while a scenario runs.
pub struct MemoryPeak {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<u64>,
}

impl MemoryPeak {
    pub fn start(target: &Target) -> Self {
        let pid = target.pid();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut peak = 0;
            loop {
                peak = peak.max(pid.and_then(rss_bytes).unwrap_or(0));
                tokio::select! {
                    _ = &mut stopped => return peak,
                    _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
            }
        });
        Self { stop, task }
    }

    pub async fn finish(self) -> u64 {
        let _ = self.stop.send(());
        self.task.await.unwrap_or(0)
    }
}
