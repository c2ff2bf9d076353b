//! What may reach the log, whatever `RUST_LOG` asks for.
//!
//! The promise is that logs never hold note text, tokens or passwords, at
//! any level an operator can set. Our own code logs IDs and reasons only,
//! but libraries below us dump what passes through them when asked for
//! debug or trace: tungstenite writes every WebSocket frame it reads or
//! writes (payload in hex), automerge the values of the operations it
//! encodes and loads, and any crate added later may do the same. So only
//! our own targets (and tower-http's request and response lines, which we
//! configure) may log below `info`; every other target is capped at
//! `info`, on top of (never instead of) the operator's `RUST_LOG`.

use std::io::IsTerminal;

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Targets allowed below `info`: the `fieldbook` binary and the
/// `fieldbook_server` and `fieldbook_shared` crates (a target matches by
/// prefix), and tower-http's `TraceLayer` events.
const OURS: [&str; 2] = ["fieldbook", "tower_http::trace"];

/// The cap applied beneath `RUST_LOG`.
pub fn privacy_cap() -> Targets {
    OURS.iter()
        .fold(Targets::new().with_default(Level::INFO), |targets, ours| {
            targets.with_target(*ours, Level::TRACE)
        })
}

/// Logs to stderr at `RUST_LOG` (default `info`), within [`privacy_cap`].
/// Libraries that log through the `log` crate are caught and capped too.
pub fn init() {
    let wanted = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colours only for a person at a terminal, not in a journal or file.
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(wanted)
        .with(privacy_cap())
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_that_dump_payloads_are_capped_at_info() {
        let cap = privacy_cap();
        for target in [
            "tungstenite::protocol",
            "tokio_tungstenite::compat",
            "automerge::storage::load",
            "sled::pagecache",
            "hyper::proto::h1::io",
            "h2::codec",
        ] {
            assert!(!cap.would_enable(target, &Level::DEBUG), "{target}");
            assert!(cap.would_enable(target, &Level::INFO), "{target}");
        }
        for target in [
            "fieldbook",
            "fieldbook_server::sync::connection",
            "fieldbook_shared::wire",
            "tower_http::trace::on_response",
        ] {
            assert!(cap.would_enable(target, &Level::TRACE), "{target}");
        }
        assert!(!cap.would_enable("tower_http::services::fs", &Level::DEBUG));
    }
}
