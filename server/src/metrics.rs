//! The server's Prometheus metrics, kept and rendered by `prometheus-client`
//! (OpenMetrics text at `/metrics`). Call sites say what happened through
//! the methods here; nothing here carries note text or IDs.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Upper bounds, in seconds, of the flush latency buckets.
const FLUSH_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];
/// Upper bounds, in seconds, of the per-message handling time buckets:
/// a message that changes a document includes its flush.
const HANDLING_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// How many documents the hub holds, sampled when the metrics are read.
/// Defined here so that the hub reports to the metrics and the metrics
/// know nothing of the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentCounts {
    /// Loaded, or only the sync states of connected devices.
    pub in_memory: usize,
    /// With their contents loaded.
    pub loaded: usize,
}

pub struct Metrics {
    registry: Registry,
    connections: Gauge,
    documents_in_memory: Gauge,
    documents_loaded: Gauge,
    messages_in: Counter,
    messages_out: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    auth_failures: Counter,
    protocol_errors: Counter,
    flush_seconds: Histogram,
    message_in_bytes: Histogram,
    message_out_bytes: Histogram,
    handling_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let mut gauge = |name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let connections = gauge("fieldbook_connections", "Open sync connections.");
        let documents_in_memory = gauge(
            "fieldbook_documents_in_memory",
            "Documents in memory, loaded or as the sync states of connected devices.",
        );
        let documents_loaded = gauge(
            "fieldbook_documents_loaded",
            "Documents in memory with their contents loaded.",
        );
        // Counters are registered without `_total`: the encoder adds it.
        let mut counter = |name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let messages_in = counter("fieldbook_messages_in", "Sync protocol messages received.");
        let messages_out = counter("fieldbook_messages_out", "Sync protocol messages sent.");
        let bytes_in = counter("fieldbook_bytes_in", "Sync protocol bytes received.");
        let bytes_out = counter("fieldbook_bytes_out", "Sync protocol bytes sent.");
        let auth_failures = counter(
            "fieldbook_auth_failures",
            "Requests refused for missing or bad credentials.",
        );
        let protocol_errors = counter(
            "fieldbook_protocol_errors",
            "Sync connections closed for bad input.",
        );
        let mut histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let histogram = Histogram::new(buckets);
            registry.register(name, help, histogram.clone());
            histogram
        };
        let flush_seconds = histogram(
            "fieldbook_flush_seconds",
            "Time to flush writes to disk before acknowledging them.",
            FLUSH_BUCKETS.to_vec(),
        );
        // 64 bytes (a bare request) to 16 MiB (the default message limit).
        let sizes = || exponential_buckets(64.0, 4.0, 10).collect();
        let message_in_bytes = histogram(
            "fieldbook_sync_message_in_bytes",
            "Size of each sync protocol message received.",
            sizes(),
        );
        let message_out_bytes = histogram(
            "fieldbook_sync_message_out_bytes",
            "Size of each sync protocol message sent.",
            sizes(),
        );
        let handling_seconds = histogram(
            "fieldbook_sync_message_handling_seconds",
            "Time to check, apply, store and answer one received sync message.",
            HANDLING_BUCKETS.to_vec(),
        );
        Self {
            registry,
            connections,
            documents_in_memory,
            documents_loaded,
            messages_in,
            messages_out,
            bytes_in,
            bytes_out,
            auth_failures,
            protocol_errors,
            flush_seconds,
            message_in_bytes,
            message_out_bytes,
            handling_seconds,
        }
    }
}

impl Metrics {
    pub fn connection_opened(&self) {
        self.connections.inc();
    }

    pub fn connection_closed(&self) {
        self.connections.dec();
    }

    pub fn open_connections(&self) -> i64 {
        self.connections.get()
    }

    pub fn message_received(&self, bytes: usize) {
        self.messages_in.inc();
        self.bytes_in.inc_by(bytes as u64);
        self.message_in_bytes.observe(bytes as f64);
    }

    pub fn message_sent(&self, bytes: usize) {
        self.messages_out.inc();
        self.bytes_out.inc_by(bytes as u64);
        self.message_out_bytes.observe(bytes as f64);
    }

    pub fn message_handled(&self, elapsed: Duration) {
        self.handling_seconds.observe(elapsed.as_secs_f64());
    }

    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    pub fn protocol_error(&self) {
        self.protocol_errors.inc();
    }

    pub fn observe_flush(&self, elapsed: Duration) {
        self.flush_seconds.observe(elapsed.as_secs_f64());
    }

    /// The exposition text; `documents` is sampled by the caller.
    pub fn render(&self, documents: DocumentCounts) -> String {
        self.documents_in_memory.set(documents.in_memory as i64);
        self.documents_loaded.set(documents.loaded as i64);
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_keeps_the_runbooks_names_and_histograms_are_cumulative() {
        let metrics = Metrics::default();
        metrics.observe_flush(Duration::from_micros(800));
        metrics.observe_flush(Duration::from_millis(30));
        metrics.message_received(100);
        metrics.message_sent(5000);
        metrics.message_handled(Duration::from_millis(2));
        metrics.auth_failed();
        metrics.connection_opened();
        let text = metrics.render(DocumentCounts {
            in_memory: 3,
            loaded: 1,
        });
        for line in [
            "fieldbook_flush_seconds_bucket{le=\"0.001\"} 1\n",
            "fieldbook_flush_seconds_bucket{le=\"0.05\"} 2\n",
            "fieldbook_flush_seconds_count 2\n",
            "fieldbook_documents_in_memory 3\n",
            "fieldbook_documents_loaded 1\n",
            "fieldbook_connections 1\n",
            "fieldbook_messages_in_total 1\n",
            "fieldbook_messages_out_total 1\n",
            "fieldbook_bytes_in_total 100\n",
            "fieldbook_bytes_out_total 5000\n",
            "fieldbook_auth_failures_total 1\n",
            "fieldbook_protocol_errors_total 0\n",
            "fieldbook_sync_message_in_bytes_bucket{le=\"256.0\"} 1\n",
            "fieldbook_sync_message_out_bytes_bucket{le=\"4096.0\"} 0\n",
            "fieldbook_sync_message_out_bytes_bucket{le=\"16384.0\"} 1\n",
            "fieldbook_sync_message_handling_seconds_bucket{le=\"0.001\"} 0\n",
            "fieldbook_sync_message_handling_seconds_bucket{le=\"0.0025\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        metrics.connection_closed();
        assert_eq!(metrics.open_connections(), 0);
    }
}
