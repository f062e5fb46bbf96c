//! Slows down repeated failures: sign-ins per account and per address, and
//! client authentications per client and address.
//!
//! Hand-written rather than a rate-limiter crate because only failures count:
//! a keyed GCRA limiter would also charge the successful sign-ins.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};

const MAX_DELAY_SECS: i64 = 300;
const FORGET_AFTER_MINUTES: i64 = 15;
/// The most keys one throttle tracks. Past it, single entries are evicted
/// (quick_cache), so a flood of made-up keys costs bounded memory and no
/// request ever scans the whole map.
pub(crate) const MAX_TRACKED_KEYS: usize = 50_000;

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
    failures: quick_cache::sync::Cache<String, Failures>,
    /// The cache's length as of the last write, so that the common case,
    /// nothing tracked, costs one atomic load on every request. Evictions
    /// only make it high, which costs a lookup, never a missed failure.
    tracked: AtomicUsize,
}

impl FailureThrottle {
    pub(super) fn new(free_failures: u32) -> Self {
        Self { free_failures, failures: quick_cache::sync::Cache::new(MAX_TRACKED_KEYS), tracked: AtomicUsize::new(0) }
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
        let entry = self.failures.get(key)?;
        if entry.count < self.free_failures {
            return None;
        }
        let exponent = (entry.count - self.free_failures).min(10);
        let delay = (1i64 << exponent).min(MAX_DELAY_SECS);
        let ready_at = entry.last + Duration::seconds(delay);
        (ready_at > now).then(|| u64::try_from((ready_at - now).num_seconds().max(1)).unwrap_or(1))
    }

    /// Failures of `key` still remembered at `now`.
    pub(super) fn recent_failures(&self, key: &str, now: DateTime<Utc>) -> u32 {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.failures
            .get(key)
            .filter(|entry| now - entry.last <= Duration::minutes(FORGET_AFTER_MINUTES))
            .map_or(0, |entry| entry.count)
    }

    pub(super) fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut entry = self.failures.get(key).unwrap_or(Failures { count: 0, last: now });
        if now - entry.last > Duration::minutes(FORGET_AFTER_MINUTES) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        // Two concurrent failures of one key may count once: a throttle
        // that is off by one attempt under a race is still a throttle.
        self.failures.insert(key.to_owned(), entry);
        self.tracked.store(self.failures.len(), Ordering::Relaxed);
    }

    pub(super) fn record_success(&self, key: &str) {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.failures.remove(key);
        self.tracked.store(self.failures.len(), Ordering::Relaxed);
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

    #[test]
    fn a_flood_of_keys_stays_within_the_bound_and_keeps_recent_failures() {
        let throttle = FailureThrottle::new(1);
        let t0 = Utc::now();
        for i in 0..(MAX_TRACKED_KEYS * 2) {
            throttle.record_failure(&format!("made-up-{i}"), t0);
        }
        assert!(throttle.failures.len() <= MAX_TRACKED_KEYS, "{}", throttle.failures.len());
        throttle.record_failure("real", t0);
        throttle.record_failure("real", t0);
        assert!(throttle.wait_required("real", t0).is_some());
    }
}
