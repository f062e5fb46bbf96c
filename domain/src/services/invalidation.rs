//! Cache invalidation across processes: every write that changes who may get
//! which token, or with what key, names what it changed as an
//! [`Invalidation`], publishes it inside its own transaction (so the notice
//! goes out if and only if the write commits), and drops the affected entries
//! of this process's caches after the commit. On PostgreSQL the notice is a
//! `NOTIFY`; on SQLite, where the command line may write while a server
//! runs, it is a row of `cache_invalidation` that the server reads.
//!
//! While this process hears every notice (its listener is subscribed, see
//! `invalidation_listener`), cache entries live until they are changed or
//! evicted by size. Otherwise they live at most [`FALLBACK_CACHE_TTL_SECS`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};

use super::Services;
use crate::Result;

/// The PostgreSQL channel every process listens on.
pub(crate) const CHANNEL: &str = "clavis_invalidate";

/// How long a cache entry may be trusted while this process is not listening
/// (its listener is down, or was never started, as in a command-line
/// process): the longest another process's change may then go unseen here.
pub const FALLBACK_CACHE_TTL_SECS: i64 = 1;

/// What a committed write changed, as far as the caches are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalidation {
    /// One client: its secrets, access, roles, kill switch, or its existence
    /// (a created client replaces a remembered "no such client").
    Client(String),
    /// Every client of a tenant: a change to roles or to a protected
    /// application's scopes may alter what any caller of the tenant is granted.
    TenantClients(String),
    /// A tenant's runtime: its settings, signing keys, or the identifiers of
    /// its protected applications.
    Runtime(String),
    /// A tenant's trusted issuers (which issuers, and where their keys are).
    TrustedIssuers(String),
    /// Everything this process caches: a notice it cannot read (from a newer
    /// version during a rolling upgrade), or notices that may have been missed.
    Everything,
}

impl Invalidation {
    /// The notice's payload: a kind and an identifier, far below the 8000
    /// bytes `pg_notify` allows (the identifiers are validated IDs).
    fn payload(&self) -> String {
        match self {
            Self::Client(id) => format!("client:{id}"),
            Self::TenantClients(tenant) => format!("tenant-clients:{tenant}"),
            Self::Runtime(tenant) => format!("runtime:{tenant}"),
            Self::TrustedIssuers(tenant) => format!("issuers:{tenant}"),
            Self::Everything => "everything".to_owned(),
        }
    }

    /// Reads a payload; anything unknown drops everything, which is always safe.
    pub(crate) fn parse(payload: &str) -> Self {
        match payload.split_once(':') {
            Some(("client", id)) if !id.is_empty() => Self::Client(id.to_owned()),
            Some(("tenant-clients", tenant)) if !tenant.is_empty() => Self::TenantClients(tenant.to_owned()),
            Some(("runtime", tenant)) if !tenant.is_empty() => Self::Runtime(tenant.to_owned()),
            Some(("issuers", tenant)) if !tenant.is_empty() => Self::TrustedIssuers(tenant.to_owned()),
            _ => Self::Everything,
        }
    }
}

/// Whether this process hears of every change, and a counter of the
/// invalidations applied here.
#[derive(Default)]
pub(crate) struct InvalidationState {
    /// Whether the listener is subscribed now.
    listening: AtomicBool,
    /// Bumped before every local drop. A load that saw it change while it
    /// read the database may hold data from before the change, so it does
    /// not keep what it loaded (see [`Services::keep_if_current`]).
    generation: AtomicU64,
}

impl InvalidationState {
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::SeqCst);
    }

    /// How long a cache entry may be trusted: `None` (until changed) when
    /// every change reaches this process.
    fn ttl(&self) -> Option<Duration> {
        if self.listening.load(Ordering::Acquire) { None } else { Some(Duration::seconds(FALLBACK_CACHE_TTL_SECS)) }
    }
}

impl Services {
    /// Whether a cache entry loaded at `loaded_at` may still be used at `now`.
    pub(crate) fn cache_entry_fresh(&self, loaded_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self.inner.invalidation.ttl() {
            None => true,
            Some(ttl) => now >= loaded_at && now - loaded_at < ttl,
        }
    }

    /// Whether this process hears every change made by others right now:
    /// whether its invalidation listener is subscribed.
    pub fn listening_for_invalidations(&self) -> bool {
        self.inner.invalidation.listening.load(Ordering::SeqCst)
    }

    /// Publishes `changes` in the transaction, commits it, then drops the
    /// affected entries here. Every write that changes what the caches hold
    /// commits through this.
    pub(crate) async fn commit_invalidating(&self, txn: DatabaseTransaction, changes: &[Invalidation]) -> Result<()> {
        publish(&txn, changes).await?;
        txn.commit().await?;
        for change in changes {
            self.invalidate_local(change);
        }
        Ok(())
    }

    /// Drops what `change` names from this process's caches.
    pub(crate) fn invalidate_local(&self, change: &Invalidation) {
        self.inner.invalidation.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            Invalidation::Client(client_id) => self.forget_client(client_id),
            Invalidation::TenantClients(tenant_id) => self.forget_tenant_clients(tenant_id),
            Invalidation::Runtime(tenant_id) => self.forget_runtime(tenant_id),
            Invalidation::TrustedIssuers(tenant_id) => self.forget_trusted_issuers(tenant_id),
            Invalidation::Everything => {
                self.forget_all_clients();
                self.forget_all_runtimes();
                self.forget_all_trusted_issuers();
            }
        }
    }

    /// Undoes a cache insert made by a load that began at `generation` if an
    /// invalidation was applied meanwhile: the load may have read the rows
    /// from before that change, and no later notice would remove it. The
    /// insert comes first and the check second, so an invalidation is either
    /// seen here or applied after the insert (and removes it).
    pub(crate) fn keep_if_current(&self, generation: u64, undo: impl FnOnce()) {
        if self.inner.invalidation.generation() != generation {
            undo();
        }
    }
}

/// Sends `changes` as notices inside `conn`'s transaction.
async fn publish<C: ConnectionTrait>(conn: &C, changes: &[Invalidation]) -> Result<()> {
    for change in changes {
        let statement = match conn.get_database_backend() {
            DbBackend::Postgres => Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), change.payload().into()],
            ),
            backend => Statement::from_sql_and_values(
                backend,
                "INSERT INTO cache_invalidation (payload) VALUES (?)",
                [change.payload().into()],
            ),
        };
        conn.execute(statement).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_and_unknown_ones_drop_everything() {
        let id = "0b3c1c9e-7f0e-4e55-9a57-1f1f3f9a2d10".to_owned();
        for change in [
            Invalidation::Client(id.clone()),
            Invalidation::TenantClients(id.clone()),
            Invalidation::Runtime(id.clone()),
            Invalidation::TrustedIssuers(id.clone()),
            Invalidation::Everything,
        ] {
            assert_eq!(Invalidation::parse(&change.payload()), change);
            assert!(change.payload().len() < 100);
        }
        for odd in ["", "client:", "client", "user:42", "runtime", "tenant-clients:", "issuers:"] {
            assert_eq!(Invalidation::parse(odd), Invalidation::Everything, "{odd:?}");
        }
    }

    #[test]
    fn entries_expire_only_while_not_listening() {
        let state = InvalidationState::default();
        assert_eq!(state.ttl(), Some(Duration::seconds(FALLBACK_CACHE_TTL_SECS)));
        state.set_listening(true);
        assert_eq!(state.ttl(), None);
        state.set_listening(false);
        assert_eq!(state.ttl(), Some(Duration::seconds(FALLBACK_CACHE_TTL_SECS)));
    }
}
