//! Prometheus metrics, kept as plain atomics and rendered in the text
//! exposition format at `/metrics`. Nothing here carries note text or IDs.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::hub::DocumentCounts;

/// Upper bounds, in seconds, of the flush latency histogram buckets.
const FLUSH_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Default)]
pub struct Metrics {
    pub connections: AtomicU64,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub auth_failures: AtomicU64,
    pub protocol_errors: AtomicU64,
    flush_buckets: [AtomicU64; FLUSH_BUCKETS.len()],
    flush_count: AtomicU64,
    flush_micros: AtomicU64,
}

impl Metrics {
    pub fn observe_flush(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in self.flush_buckets.iter().zip(FLUSH_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.flush_count.fetch_add(1, Relaxed);
        self.flush_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    /// The exposition text; `documents` is sampled by the caller.
    pub fn render(&self, documents: DocumentCounts) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "fieldbook_connections",
            "gauge",
            "Open sync connections.",
            self.connections.load(Relaxed),
        );
        metric(
            "fieldbook_documents_in_memory",
            "gauge",
            "Documents in memory, loaded or as the sync states of connected devices.",
            documents.in_memory as u64,
        );
        metric(
            "fieldbook_documents_loaded",
            "gauge",
            "Documents in memory with their contents loaded.",
            documents.loaded as u64,
        );
        metric(
            "fieldbook_messages_in_total",
            "counter",
            "Sync protocol messages received.",
            self.messages_in.load(Relaxed),
        );
        metric(
            "fieldbook_messages_out_total",
            "counter",
            "Sync protocol messages sent.",
            self.messages_out.load(Relaxed),
        );
        metric(
            "fieldbook_bytes_in_total",
            "counter",
            "Sync protocol bytes received.",
            self.bytes_in.load(Relaxed),
        );
        metric(
            "fieldbook_bytes_out_total",
            "counter",
            "Sync protocol bytes sent.",
            self.bytes_out.load(Relaxed),
        );
        metric(
            "fieldbook_auth_failures_total",
            "counter",
            "Requests refused for missing or bad credentials.",
            self.auth_failures.load(Relaxed),
        );
        metric(
            "fieldbook_protocol_errors_total",
            "counter",
            "Sync connections closed for bad input.",
            self.protocol_errors.load(Relaxed),
        );
        let name = "fieldbook_flush_seconds";
        let _ = writeln!(out, "# HELP {name} Time to flush writes to disk before acknowledging them.\n# TYPE {name} histogram");
        for (bucket, bound) in self.flush_buckets.iter().zip(FLUSH_BUCKETS) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.flush_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.flush_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_histogram_is_cumulative() {
        let metrics = Metrics::default();
        metrics.observe_flush(Duration::from_micros(800));
        metrics.observe_flush(Duration::from_millis(30));
        let text = metrics.render(DocumentCounts {
            in_memory: 3,
            loaded: 1,
        });
        assert!(
            text.contains("fieldbook_flush_seconds_bucket{le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("fieldbook_flush_seconds_bucket{le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("fieldbook_flush_seconds_count 2\n"), "{text}");
        assert!(text.contains("fieldbook_documents_in_memory 3\n"), "{text}");
        assert!(text.contains("fieldbook_documents_loaded 1\n"), "{text}");
    }
}
