//! Slows down repeated failures: sign-ins per account and per address, and
//! client authentications per client and address.
//!
//! Hand-written rather than a rate-limiter crate because only failures count:
//! a keyed GCRA limiter would also charge the successful sign-ins. On
//! PostgreSQL the counts are shared by every replica (`shared_throttle`);
//! the in-memory map is then this process's view of them.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use super::shared_throttle::SharedCounts;

const MAX_DELAY_SECS: i64 = 300;
/// Failures older than this are forgotten, here and in the shared table.
pub(super) const FORGET_AFTER_MINUTES: i64 = 15;
/// The most keys one throttle tracks. Past it, single entries are evicted
/// (quick_cache), so a flood of made-up keys costs bounded memory and no
/// request ever scans the whole map.
pub(crate) const MAX_TRACKED_KEYS: usize = 50_000;

#[derive(Clone, Copy, Debug)]
pub(super) struct Failures {
    pub(super) count: u32,
    pub(super) last: DateTime<Utc>,
    /// Counted in this process only (an unknown key, or one past the shared
    /// table's cap): no shared row to read, so reading none forgets nothing.
    pub(super) local: bool,
}

/// The part of a source address a throttle counts by: an IPv4 address
/// whole, an IPv6 address by its /64. One IPv6 host is routinely given a
/// whole /64 and can pick a fresh address from it per request; keyed by the
/// full address it would dodge every per-address count and write a shared
/// row per request. A /64 is one subnet, the smallest unit an ISP assigns,
/// so this groups one site's hosts, as IPv4 NAT already does.
pub(super) fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// [`address_key`] of an address given as text (the dashboard's); text that
/// is no address is its own key.
pub(super) fn address_text_key(addr: &str) -> String {
    addr.parse().map_or_else(|_| addr.to_owned(), address_key)
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
    /// On PostgreSQL, the counts all replicas share.
    shared: Option<SharedCounts>,
}

impl FailureThrottle {
    /// Counts in this process only.
    pub(super) fn new(free_failures: u32) -> Self {
        Self {
            free_failures,
            failures: quick_cache::sync::Cache::new(MAX_TRACKED_KEYS),
            tracked: AtomicUsize::new(0),
            shared: None,
        }
    }

    /// Counts shared through `db` when it is PostgreSQL (rows of `kind`),
    /// in this process only otherwise.
    pub(super) fn on(db: &DatabaseConnection, kind: &'static str, free_failures: u32) -> Self {
        Self { shared: SharedCounts::for_backend(kind, db), ..Self::new(free_failures) }
    }

    /// Whether this process knows of no key with failures (the usual case).
    pub(super) fn is_idle(&self) -> bool {
        self.tracked.load(Ordering::Relaxed) == 0
    }

    /// Seconds the caller must still wait before `key` may try again, if
    /// any, counting the failures of every replica when they are shared.
    pub(super) async fn wait_required(&self, key: &str, now: DateTime<Utc>) -> Option<u64> {
        self.refresh(key).await;
        self.local_wait(key, now)
    }

    /// Failures of `key` still remembered at `now`, as this process last saw
    /// them (shared counts are read by [`FailureThrottle::wait_required`]
    /// and [`FailureThrottle::refresh`], and written by every failure).
    pub(super) fn recent_failures(&self, key: &str, now: DateTime<Utc>) -> u32 {
        if self.is_idle() {
            return 0;
        }
        self.failures
            .get(key)
            .filter(|entry| now - entry.last <= Duration::minutes(FORGET_AFTER_MINUTES))
            .map_or(0, |entry| entry.count)
    }

    /// Brings this process's view of `key` up to the shared count. When the
    /// database cannot be read, the local view stands: the throttle then
    /// counts this process's failures only, and says so in the log.
    pub(super) async fn refresh(&self, key: &str) {
        let Some(shared) = &self.shared else { return };
        match shared.load(key).await {
            Ok(Some(failures)) => self.remember(key, failures),
            // No row: another replica cleared it, or it never had one.
            Ok(None) => {
                if self.failures.get(key).is_some_and(|entry| !entry.local) {
                    self.forget(key);
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read shared throttle counts; using this process's"),
        }
    }

    /// Counts a failure of `key` where every replica sees it, unless the
    /// shared table already holds its cap of this kind's keys: then, like a
    /// database that cannot be written, in this process only.
    pub(super) async fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        if let Some(shared) = &self.shared {
            match shared.record(key, now).await {
                Ok(Some(failures)) => return self.remember(key, failures),
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "could not write a shared throttle count; counting locally"),
            }
        }
        self.record_local_failure(key, now);
    }

    /// Counts a failure of `key` in this process only: for keys that can
    /// never succeed (an unknown client or account), whose rows would only
    /// let a flood of made-up names grow the shared table.
    pub(super) fn record_local_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut entry = self.failures.get(key).unwrap_or(Failures { count: 0, last: now, local: true });
        if now - entry.last > Duration::minutes(FORGET_AFTER_MINUTES) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        entry.local = true;
        // Two concurrent failures of one key may count once: a throttle
        // that is off by one attempt under a race is still a throttle.
        self.remember(key, entry);
    }

    /// Forgets `key`'s failures. The shared row is deleted only when this
    /// process knows the key has failures, so a client that never fails
    /// costs no statement here.
    pub(super) async fn record_success(&self, key: &str) {
        if self.is_idle() {
            return;
        }
        let Some(entry) = self.failures.get(key) else { return };
        self.forget(key);
        if !entry.local
            && let Some(shared) = &self.shared
            && let Err(err) = shared.clear(key).await
        {
            tracing::warn!(error = %err, "could not clear a shared throttle count");
        }
    }

    /// Like [`FailureThrottle::wait_required`], from this process's view only.
    pub(super) fn local_wait(&self, key: &str, now: DateTime<Utc>) -> Option<u64> {
        if self.is_idle() {
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

    fn remember(&self, key: &str, failures: Failures) {
        self.failures.insert(key.to_owned(), failures);
        self.tracked.store(self.failures.len(), Ordering::Relaxed);
    }

    fn forget(&self, key: &str) {
        if self.failures.remove(key).is_some() {
            self.tracked.store(self.failures.len(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delays_grow_after_free_failures_and_reset_on_success() {
        let throttle = FailureThrottle::new(5);
        let t0 = Utc::now();
        for _ in 0..5 {
            assert_eq!(throttle.wait_required("a", t0).await, None);
            throttle.record_failure("a", t0).await;
        }
        assert_eq!(throttle.wait_required("a", t0).await, Some(1));
        throttle.record_failure("a", t0).await;
        assert_eq!(throttle.wait_required("a", t0).await, Some(2));
        assert_eq!(throttle.wait_required("a", t0 + Duration::seconds(3)).await, None);
        assert_eq!(throttle.wait_required("b", t0).await, None);
        throttle.record_success("a").await;
        assert_eq!(throttle.wait_required("a", t0).await, None);
    }

    #[tokio::test]
    async fn a_flood_of_keys_stays_within_the_bound_and_keeps_recent_failures() {
        let throttle = FailureThrottle::new(1);
        let t0 = Utc::now();
        for i in 0..(MAX_TRACKED_KEYS * 2) {
            throttle.record_failure(&format!("made-up-{i}"), t0).await;
        }
        assert!(throttle.failures.len() <= MAX_TRACKED_KEYS, "{}", throttle.failures.len());
        throttle.record_failure("real", t0).await;
        throttle.record_failure("real", t0).await;
        assert!(throttle.wait_required("real", t0).await.is_some());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_whole() {
        let key = |text: &str| address_text_key(text);
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
        assert_eq!(key("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(key("not an address"), "not an address");
    }
}
