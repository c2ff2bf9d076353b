//! Wall-clock helpers, so every timestamp the server writes has one format.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as RFC 3339 UTC with millisecond precision, e.g. `2026-11-22T12:00:00.000Z`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()`.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
