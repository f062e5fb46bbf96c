//! The names of the metrics the service layer records, and the small helpers
//! that record them, through the `metrics` facade: without an installed
//! recorder (the CLI, most tests) every call is a no-op.
//!
//! Labels are static strings from fixed sets only: no tenant ID, client ID
//! or other caller-chosen text ever becomes a label, so the number of series
//! stays bounded and scraping reveals nothing about who calls.

use std::hash::Hash;
use std::sync::OnceLock;

use clavis_oauth::OAuthError;
use metrics::Counter;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

use crate::services::Services;

/// Token requests, by `grant_type` and `outcome` (`ok` or the OAuth error code).
pub const TOKEN_REQUESTS: &str = "clavis_token_requests_total";
/// Token endpoint lookups of an application answered from the cache.
pub const CLIENT_CACHE_HITS: &str = "clavis_client_cache_hits_total";
/// Token endpoint lookups of an application that went to the database.
pub const CLIENT_CACHE_MISSES: &str = "clavis_client_cache_misses_total";
/// Cached applications dropped because the cache was full.
pub const CLIENT_CACHE_EVICTIONS: &str = "clavis_client_cache_evictions_total";
/// Lookups of a tenant's keyring (settings, signer, JWKS) answered from the cache.
pub const KEYRING_CACHE_HITS: &str = "clavis_keyring_cache_hits_total";
/// Lookups of a tenant's keyring that went to the database.
pub const KEYRING_CACHE_MISSES: &str = "clavis_keyring_cache_misses_total";
/// Requests refused because of earlier failures, by `kind`
/// (`client_authentication` or `sign_in`).
pub const THROTTLED_REQUESTS: &str = "clavis_throttled_requests_total";
/// Cache invalidations this process received from other replicas
/// (PostgreSQL notifications); incremented by the listener.
pub const CACHE_INVALIDATIONS: &str = "clavis_cache_invalidations_total";

/// The `kind` label of [`THROTTLED_REQUESTS`] for client authentication.
pub const THROTTLE_CLIENT_AUTHENTICATION: &str = "client_authentication";
/// The `kind` label of [`THROTTLED_REQUESTS`] for dashboard sign-ins.
pub const THROTTLE_SIGN_IN: &str = "sign_in";

/// Counts one throttled request of `kind` (one of the `THROTTLE_*` labels).
pub(crate) fn throttled(kind: &'static str) {
    metrics::counter!(THROTTLED_REQUESTS, "kind" => kind).increment(1);
}

/// The `grant_type` label: the grants Clavis knows, and `other` for any
/// other value (which is the caller's text and never becomes a label).
pub(crate) fn grant_label(grant_type: Option<&str>) -> &'static str {
    match grant_type {
        Some("client_credentials") => "client_credentials",
        Some("password") => "password",
        Some("refresh_token") => "refresh_token",
        Some(_) => "other",
        None => "none",
    }
}

/// Counts one answered token request.
pub(crate) fn token_request<T>(grant: &'static str, result: &Result<T, OAuthError>) {
    let outcome = match result {
        Ok(_) if grant == "client_credentials" => return hot_or(|hot| &hot.client_credentials_ok, || ok_tokens(grant)),
        Ok(_) => "ok",
        Err(err) => err.code.as_str(),
    };
    metrics::counter!(TOKEN_REQUESTS, "grant_type" => grant, "outcome" => outcome).increment(1);
}

fn ok_tokens(grant: &'static str) -> Counter {
    metrics::counter!(TOKEN_REQUESTS, "grant_type" => grant, "outcome" => "ok")
}

/// A client lookup answered from the cache.
pub(crate) fn client_cache_hit() {
    hot_or(|hot| &hot.client_cache_hits, || metrics::counter!(CLIENT_CACHE_HITS));
}

/// A tenant keyring lookup answered from the cache.
pub(crate) fn keyring_cache_hit() {
    hot_or(|hot| &hot.keyring_cache_hits, || metrics::counter!(KEYRING_CACHE_HITS));
}

/// The counters every token request increments. Resolved once the server
/// has installed its recorder ([`resolve_hot_counters`]); a handle is one
/// atomic add, where `counter!` looks the series up by name and labels on
/// every call.
struct HotCounters {
    client_cache_hits: Counter,
    keyring_cache_hits: Counter,
    client_credentials_ok: Counter,
}

static HOT_COUNTERS: OnceLock<HotCounters> = OnceLock::new();

/// Resolves the hot-path counters against the installed recorder. Call it
/// after installing the process's recorder, which stays for the life of the
/// process; until then (and without it, as in the CLI and in tests) every
/// increment goes through the recorder's lookup.
pub fn resolve_hot_counters() {
    let _ = HOT_COUNTERS.set(HotCounters {
        client_cache_hits: metrics::counter!(CLIENT_CACHE_HITS),
        keyring_cache_hits: metrics::counter!(KEYRING_CACHE_HITS),
        client_credentials_ok: ok_tokens("client_credentials"),
    });
}

fn hot_or(resolved: impl FnOnce(&HotCounters) -> &Counter, lookup: impl FnOnce() -> Counter) {
    match HOT_COUNTERS.get() {
        Some(hot) => resolved(hot).increment(1),
        None => lookup().increment(1),
    }
}

/// A bounded cache that counts its evictions under one counter name.
pub(crate) type CountedCache<K, V> = quick_cache::sync::Cache<K, V, UnitWeighter, DefaultHashBuilder, CountEvictions>;

/// A cache of at most `capacity` entries whose evictions count as `counter`.
pub(crate) fn counted_cache<K: Eq + Hash, V: Clone>(capacity: usize, counter: &'static str) -> CountedCache<K, V> {
    let weight = u64::try_from(capacity).unwrap_or(u64::MAX);
    quick_cache::sync::Cache::with(
        capacity,
        weight,
        UnitWeighter,
        DefaultHashBuilder::default(),
        CountEvictions(counter),
    )
}

/// Counts evicted entries per insert and records them once the insert is
/// done, so the counter is never touched while a shard is locked.
#[derive(Clone, Debug)]
pub(crate) struct CountEvictions(&'static str);

impl<K, V> Lifecycle<K, V> for CountEvictions {
    type RequestState = u64;

    fn begin_request(&self) -> u64 {
        0
    }

    fn on_evict(&self, evicted: &mut u64, _key: K, _value: V) {
        *evicted += 1;
    }

    fn end_request(&self, evicted: u64) {
        if evicted > 0 {
            metrics::counter!(self.0).increment(evicted);
        }
    }
}

/// The database pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open now, idle or in use.
    pub open: u32,
    /// Open connections not lent to a query.
    pub idle: u32,
    /// The most connections the pool will open.
    pub max: u32,
}

impl Services {
    /// The pool's state, for the metrics page (sampled when it is rendered,
    /// so the hot path pays nothing for it).
    pub fn database_pool(&self) -> Option<PoolUsage> {
        use sea_orm::DatabaseConnection;
        let (open, idle, max) = match self.db() {
            DatabaseConnection::SqlxSqlitePoolConnection(_) => {
                let pool = self.db().get_sqlite_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            DatabaseConnection::SqlxPostgresPoolConnection(_) => {
                let pool = self.db().get_postgres_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            _ => return None,
        };
        Some(PoolUsage { open, idle: u32::try_from(idle).unwrap_or(u32::MAX), max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_labels_come_from_a_fixed_set() {
        assert_eq!(grant_label(Some("client_credentials")), "client_credentials");
        assert_eq!(grant_label(Some("password")), "password");
        assert_eq!(grant_label(Some("refresh_token")), "refresh_token");
        assert_eq!(grant_label(Some("urn:made-up:by-the-caller")), "other");
        assert_eq!(grant_label(None), "none");
    }

    #[test]
    fn a_counted_cache_stays_within_its_bound() {
        let cache: CountedCache<u32, u32> = counted_cache(100, CLIENT_CACHE_EVICTIONS);
        for i in 0..1_000 {
            cache.insert(i, i);
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }

    #[test]
    fn every_eviction_is_counted() {
        use metrics_util::debugging::{DebugValue, DebuggingRecorder};
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            let cache: CountedCache<u32, u32> = counted_cache(100, CLIENT_CACHE_EVICTIONS);
            for i in 0..1_000 {
                cache.insert(i, i);
            }
            let evicted = snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .find_map(|(key, _, _, value)| (key.key().name() == CLIENT_CACHE_EVICTIONS).then_some(value));
            let expected = u64::try_from(1_000 - cache.len()).unwrap();
            assert_eq!(evicted, Some(DebugValue::Counter(expected)));
        });
    }
}
