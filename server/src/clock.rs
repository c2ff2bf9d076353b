//! Time, from one place: the wall-clock helpers (every reading of the wall
//! clock is here, so every timestamp the server writes has one format), and
//! the monotonic [`Clock`] the hub's time-based decisions read, so tests can
//! move it by hand instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// Seconds since the Unix epoch, as upload records keep their times.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// `millis` since the epoch as RFC 3339, like [`now_rfc3339`].
pub fn rfc3339_of_millis(millis: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

/// An RFC 3339 time as milliseconds since the epoch (0 if unreadable, which
/// counts as long ago).
pub fn millis_of_rfc3339(time: &str) -> i64 {
    humantime::parse_rfc3339(time)
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

/// Monotonic time for decisions about how long ago something happened
/// (when a document was last used, when it was unloaded).
pub trait Clock: Send + Sync {
    /// Milliseconds since the clock started; never goes back.
    fn elapsed_millis(&self) -> u64;
}

/// The real monotonic clock, started when it is made.
pub struct SystemClock {
    started: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            started: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn elapsed_millis(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// A clock that moves only when told to, for tests of time-based decisions.
#[derive(Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.millis.fetch_add(by.as_millis() as u64, Relaxed);
    }
}

impl Clock for ManualClock {
    fn elapsed_millis(&self) -> u64 {
        self.millis.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::default();
        assert_eq!(clock.elapsed_millis(), 0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.elapsed_millis(), 1500);
    }
}
