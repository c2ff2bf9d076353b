//! Server configuration, layered: embedded defaults < optional TOML file <
//! `FIELDBOOK_*` environment variables < command-line flags. Validated once at
//! start-up so a bad value stops the server with a clear message.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

/// The effective configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub storage: StorageKind,
    /// Voice notes: the whisper.cpp model (ggml file) that transcribes them;
    /// with none, recordings are kept untranscribed (state `no-model`).
    pub speech_model: Option<PathBuf>,
    /// CPU threads one transcription uses.
    pub speech_threads: usize,
    /// Transcriptions run at the same time; more wait in the queue.
    pub speech_concurrency: usize,
    /// Spoken language, as a whisper code (`en`), or `auto`.
    pub speech_language: String,
    /// Largest recording accepted, in bytes.
    pub audio_max_bytes: u64,
    /// Recordings stored per user, in bytes.
    pub audio_quota_bytes: u64,
    /// Audio is deleted this long after its transcript is done (None: kept).
    pub audio_retention: Option<Duration>,
    /// Largest evidence file (certificate, slides, photo) accepted, in bytes.
    pub evidence_max_bytes: u64,
    /// Evidence files stored per user, in bytes.
    pub evidence_quota_bytes: u64,
    /// Largest sync message accepted; larger ones close the connection.
    pub max_message_bytes: usize,
    /// How often the server pings each WebSocket; a peer that misses one
    /// whole interval without answering is disconnected.
    pub keepalive_interval: Duration,
    /// How long a document with no connected peer stays in memory.
    pub doc_idle_timeout: Duration,
    /// Login attempts allowed per minute for one email address or one client address.
    pub login_attempts_per_minute: u32,
    /// Mark the session cookie `Secure` even when the request did not arrive
    /// through a proxy that says it was https.
    pub secure_cookies: bool,
    /// The built PWA (`pwa/dist`), served at `/`.
    pub pwa_dir: PathBuf,
    /// Proxies whose `X-Forwarded-For` names the real client (for the
    /// per-client sign-in limit). Nobody by default: the header is trivially
    /// forged by anyone who can reach the server directly.
    pub trusted_proxies: Vec<IpRange>,
    /// A device that has not been seen for this long must sign in again.
    pub session_idle_timeout: Duration,
    /// An invitation to a shared document can be accepted for this long.
    pub invitation_expiry: Duration,
}

/// One: whisper.cpp's threads busy-wait for each other, and on a machine
/// that is also serving (or shared) a second thread per job cost four times
/// the CPU per second of audio (BENCHMARKS.md, "Voice notes"); more jobs at
/// once (`speech_concurrency`) use more cores without that waste.
fn default_speech_threads() -> usize {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// The embedded sled database in the data directory (durable).
    Sled,
    /// Memory only: everything is lost when the server stops. For tests.
    Memory,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            storage: StorageKind::Sled,
            speech_model: None,
            speech_threads: default_speech_threads(),
            speech_concurrency: 1,
            speech_language: "en".to_owned(),
            audio_max_bytes: 100 * 1024 * 1024,
            audio_quota_bytes: 1024 * 1024 * 1024,
            audio_retention: Some(Duration::from_secs(30 * 24 * 60 * 60)),
            evidence_max_bytes: 50_000_000,
            evidence_quota_bytes: 1024 * 1024 * 1024,
            max_message_bytes: 16 * 1024 * 1024,
            keepalive_interval: Duration::from_secs(20),
            doc_idle_timeout: Duration::from_secs(60),
            login_attempts_per_minute: 10,
            secure_cookies: false,
            pwa_dir: PathBuf::from("./pwa/dist"),
            trusted_proxies: Vec::new(),
            session_idle_timeout: Duration::from_secs(DEFAULT_SESSION_IDLE_DAYS * SECS_PER_DAY),
            invitation_expiry: crate::sharing::DEFAULT_INVITATION_EXPIRY,
        }
    }
}

const DEFAULT_SESSION_IDLE_DAYS: u64 = 90;
const SECS_PER_DAY: u64 = 24 * 60 * 60;

/// One address or a CIDR block (`10.0.0.5`, `172.30.80.0/24`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn contains(&self, addr: IpAddr) -> bool {
        // An IPv4 client reaching a dual-stack socket arrives as ::ffff:a.b.c.d.
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
            v4 => v4,
        };
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One layer of settings: every field optional, so layers can be stacked.
/// The same struct is read from the TOML file and from flags/environment.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Settings {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "FIELDBOOK_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the embedded database [default: ./data]
    #[arg(long, env = "FIELDBOOK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Storage engine [default: sled]
    #[arg(long, env = "FIELDBOOK_STORAGE", value_enum)]
    pub storage: Option<StorageKind>,
    /// whisper.cpp model file that transcribes voice notes [default: none:
    /// recordings are kept but not transcribed]
    #[arg(long, env = "FIELDBOOK_SPEECH_MODEL")]
    pub speech_model: Option<PathBuf>,
    /// CPU threads per transcription [default: 1]
    #[arg(long, env = "FIELDBOOK_SPEECH_THREADS")]
    pub speech_threads: Option<usize>,
    /// Transcriptions running at once [default: 1]
    #[arg(long, env = "FIELDBOOK_SPEECH_CONCURRENCY")]
    pub speech_concurrency: Option<usize>,
    /// Spoken language of voice notes, a whisper code or auto [default: en]
    #[arg(long, env = "FIELDBOOK_SPEECH_LANGUAGE")]
    pub speech_language: Option<String>,
    /// Largest recording accepted, in bytes [default: 104857600]
    #[arg(long, env = "FIELDBOOK_AUDIO_MAX_BYTES")]
    pub audio_max_bytes: Option<u64>,
    /// Recording storage per user, in bytes [default: 1073741824]
    #[arg(long, env = "FIELDBOOK_AUDIO_QUOTA_BYTES")]
    pub audio_quota_bytes: Option<u64>,
    /// Days a recording is kept after its transcript is done; 0 keeps it
    /// [default: 30]
    #[arg(long, env = "FIELDBOOK_AUDIO_RETENTION_DAYS")]
    pub audio_retention_days: Option<u64>,
    /// Largest evidence file accepted, in bytes [default: 50000000]
    #[arg(long, env = "FIELDBOOK_EVIDENCE_MAX_BYTES")]
    pub evidence_max_bytes: Option<u64>,
    /// Evidence file storage per user, in bytes [default: 1073741824]
    #[arg(long, env = "FIELDBOOK_EVIDENCE_QUOTA_BYTES")]
    pub evidence_quota_bytes: Option<u64>,
    /// Largest sync message accepted, in bytes [default: 16777216]
    #[arg(long, env = "FIELDBOOK_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Seconds between WebSocket keep-alive pings [default: 20]
    #[arg(long, env = "FIELDBOOK_KEEPALIVE_SECS")]
    pub keepalive_secs: Option<u64>,
    /// Seconds an unused document stays in memory [default: 60]
    #[arg(long, env = "FIELDBOOK_DOC_IDLE_SECS")]
    pub doc_idle_secs: Option<u64>,
    /// Login attempts allowed per minute per email and per client [default: 10]
    #[arg(long, env = "FIELDBOOK_LOGIN_ATTEMPTS_PER_MINUTE")]
    pub login_attempts_per_minute: Option<u32>,
    /// Always mark the session cookie Secure [default: false]
    #[arg(long, env = "FIELDBOOK_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Directory of the built web app, served at / [default: ./pwa/dist]
    #[arg(long, env = "FIELDBOOK_PWA_DIR")]
    pub pwa_dir: Option<PathBuf>,
    /// Reverse proxies (addresses or CIDR blocks, comma-separated) whose
    /// X-Forwarded-For header is believed [default: none]
    #[arg(long, env = "FIELDBOOK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<IpRange>>,
    /// Days a device may go unseen before it must sign in again [default: 90]
    #[arg(long, env = "FIELDBOOK_SESSION_IDLE_DAYS")]
    pub session_idle_days: Option<u64>,
    /// Days an invitation to a shared document can be accepted [default: 7]
    #[arg(long, env = "FIELDBOOK_INVITATION_EXPIRY_DAYS")]
    pub invitation_expiry_days: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting {name}: {message}")]
    Invalid { name: &'static str, message: String },
}

impl Settings {
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string(),
        })
    }

    /// This layer over `lower`: a value set here wins.
    pub fn over(self, lower: Settings) -> Settings {
        Settings {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            storage: self.storage.or(lower.storage),
            speech_model: self.speech_model.or(lower.speech_model),
            speech_threads: self.speech_threads.or(lower.speech_threads),
            speech_concurrency: self.speech_concurrency.or(lower.speech_concurrency),
            speech_language: self.speech_language.or(lower.speech_language),
            audio_max_bytes: self.audio_max_bytes.or(lower.audio_max_bytes),
            audio_quota_bytes: self.audio_quota_bytes.or(lower.audio_quota_bytes),
            audio_retention_days: self.audio_retention_days.or(lower.audio_retention_days),
            evidence_max_bytes: self.evidence_max_bytes.or(lower.evidence_max_bytes),
            evidence_quota_bytes: self.evidence_quota_bytes.or(lower.evidence_quota_bytes),
            max_message_bytes: self.max_message_bytes.or(lower.max_message_bytes),
            keepalive_secs: self.keepalive_secs.or(lower.keepalive_secs),
            doc_idle_secs: self.doc_idle_secs.or(lower.doc_idle_secs),
            login_attempts_per_minute: self
                .login_attempts_per_minute
                .or(lower.login_attempts_per_minute),
            secure_cookies: self.secure_cookies.or(lower.secure_cookies),
            pwa_dir: self.pwa_dir.or(lower.pwa_dir),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            session_idle_days: self.session_idle_days.or(lower.session_idle_days),
            invitation_expiry_days: self.invitation_expiry_days.or(lower.invitation_expiry_days),
        }
    }

    /// Fills what no layer set from the defaults and validates the result.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let config = Config {
            listen: self.listen.unwrap_or(defaults.listen),
            data_dir: self.data_dir.unwrap_or(defaults.data_dir),
            storage: self.storage.unwrap_or(defaults.storage),
            speech_model: self.speech_model.or(defaults.speech_model),
            speech_threads: self.speech_threads.unwrap_or(defaults.speech_threads),
            speech_concurrency: self
                .speech_concurrency
                .unwrap_or(defaults.speech_concurrency),
            speech_language: self.speech_language.unwrap_or(defaults.speech_language),
            audio_max_bytes: self.audio_max_bytes.unwrap_or(defaults.audio_max_bytes),
            audio_quota_bytes: self.audio_quota_bytes.unwrap_or(defaults.audio_quota_bytes),
            audio_retention: match self.audio_retention_days {
                Some(0) => None,
                Some(days) => Some(Duration::from_secs(days.saturating_mul(24 * 60 * 60))),
                None => defaults.audio_retention,
            },
            evidence_max_bytes: self
                .evidence_max_bytes
                .unwrap_or(defaults.evidence_max_bytes),
            evidence_quota_bytes: self
                .evidence_quota_bytes
                .unwrap_or(defaults.evidence_quota_bytes),
            max_message_bytes: self.max_message_bytes.unwrap_or(defaults.max_message_bytes),
            keepalive_interval: self
                .keepalive_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.keepalive_interval),
            doc_idle_timeout: self
                .doc_idle_secs
                .map(Duration::from_secs)
                .unwrap_or(defaults.doc_idle_timeout),
            login_attempts_per_minute: self
                .login_attempts_per_minute
                .unwrap_or(defaults.login_attempts_per_minute),
            secure_cookies: self.secure_cookies.unwrap_or(defaults.secure_cookies),
            pwa_dir: self.pwa_dir.unwrap_or(defaults.pwa_dir),
            trusted_proxies: self.trusted_proxies.unwrap_or(defaults.trusted_proxies),
            session_idle_timeout: self
                .session_idle_days
                .map(|days| Duration::from_secs(days.saturating_mul(SECS_PER_DAY)))
                .unwrap_or(defaults.session_idle_timeout),
            invitation_expiry: self
                .invitation_expiry_days
                .map(|days| Duration::from_secs(days.saturating_mul(SECS_PER_DAY)))
                .unwrap_or(defaults.invitation_expiry),
        };
        config.validate()?;
        Ok(config)
    }
}

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1024..=256 * 1024 * 1024).contains(&self.max_message_bytes) {
            return Err(ConfigError::Invalid {
                name: "max_message_bytes",
                message: "must be between 1024 and 268435456".into(),
            });
        }
        if !(1..=64).contains(&self.speech_threads) {
            return Err(ConfigError::Invalid {
                name: "speech_threads",
                message: "must be between 1 and 64".into(),
            });
        }
        if !(1..=64).contains(&self.speech_concurrency) {
            return Err(ConfigError::Invalid {
                name: "speech_concurrency",
                message: "must be between 1 and 64".into(),
            });
        }
        if self.speech_language.is_empty()
            || !self.speech_language.bytes().all(|b| b.is_ascii_lowercase())
        {
            return Err(ConfigError::Invalid {
                name: "speech_language",
                message: "must be a whisper language code such as en, or auto".into(),
            });
        }
        if self.audio_max_bytes == 0 || self.audio_quota_bytes < self.audio_max_bytes {
            return Err(ConfigError::Invalid {
                name: "audio_quota_bytes",
                message: "audio_max_bytes must be at least 1 and audio_quota_bytes at least audio_max_bytes".into(),
            });
        }
        if self.evidence_max_bytes == 0 || self.evidence_quota_bytes < self.evidence_max_bytes {
            return Err(ConfigError::Invalid {
                name: "evidence_quota_bytes",
                message: "evidence_max_bytes must be at least 1 and evidence_quota_bytes at least evidence_max_bytes".into(),
            });
        }
        if self.keepalive_interval.is_zero() {
            return Err(ConfigError::Invalid {
                name: "keepalive_secs",
                message: "must be at least 1".into(),
            });
        }
        if self.login_attempts_per_minute == 0 {
            return Err(ConfigError::Invalid {
                name: "login_attempts_per_minute",
                message: "must be at least 1".into(),
            });
        }
        if self.session_idle_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                name: "session_idle_days",
                message: "must be at least 1".into(),
            });
        }
        if self.invitation_expiry.is_zero() {
            return Err(ConfigError::Invalid {
                name: "invitation_expiry_days",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win_and_defaults_fill_the_rest() {
        let file: Settings =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndoc_idle_secs = 5").unwrap();
        let flags = Settings {
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            ..Settings::default()
        };
        let config = flags.over(file).resolve().unwrap();
        assert_eq!(config.listen, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(config.doc_idle_timeout, Duration::from_secs(5));
        assert_eq!(config.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<Settings>("lisen = \"x\"").is_err());
        let err = Settings {
            max_message_bytes: Some(10),
            ..Settings::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("max_message_bytes"), "{err}");
        let err = toml::from_str::<Settings>("trusted_proxies = [\"10.0.0.0/33\"]").unwrap_err();
        assert!(err.to_string().contains("prefix length"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        let file: Settings =
            toml::from_str("trusted_proxies = [\"172.30.80.0/24\", \"::1\"]").unwrap();
        let proxies = file.resolve().unwrap().trusted_proxies;
        let trusted = |addr: &str| proxies.iter().any(|p| p.contains(addr.parse().unwrap()));
        assert!(trusted("172.30.80.2"));
        assert!(trusted("::ffff:172.30.80.9"), "IPv4-mapped IPv6");
        assert!(!trusted("172.30.81.2"));
        assert!(trusted("::1"));
        assert!(!trusted("127.0.0.1"));
        let everyone: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(everyone.contains("8.8.8.8".parse().unwrap()));
        assert!("nonsense".parse::<IpRange>().is_err());
        assert!("10.0.0.1/x".parse::<IpRange>().is_err());
    }
}
