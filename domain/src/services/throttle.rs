//! Slows down repeated failures: sign-ins per account and per address, and
//! client authentications per client and address.
//!
//! Hand-written rather than a rate-limiter crate because only failures count:
//! a keyed GCRA limiter would also charge the successful sign-ins.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};

const MAX_DELAY_SECS: i64 = 300;
const FORGET_AFTER_MINUTES: i64 = 15;
const MAX_TRACKED_KEYS: usize = 50_000;

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
}

/// Failure counts by key. After `free_failures` failures in a row, each
/// further attempt must wait twice as long as the one before (capped).
#[derive(Debug)]
pub(super) struct FailureThrottle {
    free_failures: u32,
    failures: Mutex<HashMap<String, Failures>>,
    /// Mirrors the map's length so that the common case, nothing tracked,
    /// costs one atomic load instead of a lock on every request.
    tracked: AtomicUsize,
}

impl FailureThrottle {
    pub(super) fn new(free_failures: u32) -> Self {
        Self { free_failures, failures: Mutex::new(HashMap::new()), tracked: AtomicUsize::new(0) }
    }

    /// Whether no key has failures on record (the usual case).
    pub(super) fn is_idle(&self) -> bool {
        self.tracked.load(Ordering::Relaxed) == 0
    }

    /// Seconds the caller must still wait before `key` may try again, if any.
    pub(super) fn wait_required(&self, key: &str, now: DateTime<Utc>) -> Option<u64> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let failures = self.failures.lock().ok()?;
        let entry = failures.get(key)?;
        if entry.count < self.free_failures {
            return None;
        }
        let exponent = (entry.count - self.free_failures).min(10);
        let delay = (1i64 << exponent).min(MAX_DELAY_SECS);
        let ready_at = entry.last + Duration::seconds(delay);
        (ready_at > now).then(|| u64::try_from((ready_at - now).num_seconds().max(1)).unwrap_or(1))
    }

    pub(super) fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() >= MAX_TRACKED_KEYS {
            let horizon = now - Duration::minutes(FORGET_AFTER_MINUTES);
            failures.retain(|_, entry| entry.last > horizon);
        }
        let entry = failures.entry(key.to_owned()).or_insert(Failures { count: 0, last: now });
        if now - entry.last > Duration::minutes(FORGET_AFTER_MINUTES) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        self.tracked.store(failures.len(), Ordering::Relaxed);
    }

    pub(super) fn record_success(&self, key: &str) {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
            self.tracked.store(failures.len(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_free_failures_and_reset_on_success() {
        let throttle = FailureThrottle::new(5);
        let t0 = Utc::now();
        for _ in 0..5 {
            assert_eq!(throttle.wait_required("a", t0), None);
            throttle.record_failure("a", t0);
        }
        assert_eq!(throttle.wait_required("a", t0), Some(1));
        throttle.record_failure("a", t0);
        assert_eq!(throttle.wait_required("a", t0), Some(2));
        assert_eq!(throttle.wait_required("a", t0 + Duration::seconds(3)), None);
        assert_eq!(throttle.wait_required("b", t0), None);
        throttle.record_success("a");
        assert_eq!(throttle.wait_required("a", t0), None);
    }
}
