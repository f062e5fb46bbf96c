//! The PostgreSQL half of the failure throttles: counts every replica on
//! one database shares, so N processes do not grant N times the attempts.
//!
//! Rows are keyed by (kind, SHA-256 of the key), never the key itself (a
//! sign-in key holds an email). A row is written when an attempt fails and
//! read only on paths that already failed or that are slow by design (a
//! sign-in hashes a password): a client that never fails costs no statement.
//!
//! The table is bounded in count as well as in time. An unknown client's
//! failures are never written here (`clients`), but the other keys hold a
//! source address (an IPv6 /64) or an email, and a caller with many
//! addresses or made-up emails could add rows at will. Each kind therefore
//! holds at most [`MAX_SHARED_KEYS`] keys: past it, a new key is counted in
//! each process only, and keys already shared go on counting. A cap rather
//! than coarser keys alone, because no prefix length bounds an attacker who
//! holds many prefixes, and emails have no prefix at all; a cap per kind, so
//! a flood of one throttle's keys leaves the others shared.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::Services;
use super::throttle::{FORGET_AFTER_MINUTES, Failures};
use crate::Result;
use crate::crypto::secret_digest_hex;

/// A count no row ever exceeds, so it stays far from `INTEGER`'s range.
const MAX_COUNT: i32 = 1_000_000;

/// The most keys of one kind the shared table holds. Generous for honest
/// failures (4,096 distinct failing addresses in one forgetting window),
/// small enough that counting them on a new key's first failure is cheap.
/// Concurrent first failures may each see room, so the table can pass the
/// cap by at most the number of connections writing at that moment.
pub const MAX_SHARED_KEYS: i64 = 4096;

/// How often, at most, a throttle at its cap looks for its forgotten rows
/// before housekeeping does.
const PRUNE_AT_CAP_EVERY_SECS: i64 = 60;

/// One throttle's rows in the shared table.
pub(super) struct SharedCounts {
    kind: &'static str,
    db: DatabaseConnection,
    /// When this process last pruned this kind for room (Unix seconds).
    pruned_at: AtomicI64,
}

impl std::fmt::Debug for SharedCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCounts").field("kind", &self.kind).finish_non_exhaustive()
    }
}

fn failures_of(row: &sea_orm::QueryResult) -> Result<Failures> {
    let count: i32 = row.try_get("", "failures")?;
    let last: i64 = row.try_get("", "last_failure_at")?;
    Ok(Failures {
        count: u32::try_from(count).unwrap_or(0),
        last: DateTime::from_timestamp(last, 0).unwrap_or_default(),
        local: false,
    })
}

impl SharedCounts {
    /// Shared counts of `kind` when `db` is PostgreSQL; `None` on SQLite,
    /// which one process owns, so its in-memory counts are the whole truth.
    pub(super) fn for_backend(kind: &'static str, db: &DatabaseConnection) -> Option<Self> {
        (db.get_database_backend() == DbBackend::Postgres).then(|| Self {
            kind,
            db: db.clone(),
            pruned_at: AtomicI64::new(i64::MIN),
        })
    }

    /// The failures on record for `key`, whichever process saw them.
    pub(super) async fn load(&self, key: &str) -> Result<Option<Failures>> {
        let row = self
            .db
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT failures, last_failure_at FROM throttle_failures WHERE kind = $1 AND key_digest = $2",
                [self.kind.into(), secret_digest_hex(key).into()],
            ))
            .await?;
        row.as_ref().map(failures_of).transpose()
    }

    /// Counts one failure of `key` and returns the count every process now
    /// sees; a count older than the forgetting window starts again at one.
    /// `None` when `key` has no row and its kind is at [`MAX_SHARED_KEYS`]
    /// even after dropping the kind's forgotten rows: count it locally.
    pub(super) async fn record(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Failures>> {
        if let Some(failures) = self.upsert(key, now).await? {
            return Ok(Some(failures));
        }
        let last = self.pruned_at.load(Ordering::Relaxed);
        if now.timestamp().saturating_sub(last) < PRUNE_AT_CAP_EVERY_SECS
            || self.pruned_at.compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return Ok(None);
        }
        let before = (now - Duration::minutes(FORGET_AFTER_MINUTES)).timestamp();
        let pruned = self
            .db
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM throttle_failures WHERE kind = $1 AND last_failure_at < $2",
                [self.kind.into(), before.into()],
            ))
            .await?;
        if pruned.rows_affected() == 0 {
            return Ok(None);
        }
        self.upsert(key, now).await
    }

    /// The upsert behind [`SharedCounts::record`]: it updates an existing
    /// row, and inserts one only while the kind has room (the subquery
    /// stops counting at the cap, so the check costs at most that many index
    /// entries, on a path that has already failed).
    async fn upsert(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Failures>> {
        let forgotten_before = (now - Duration::minutes(FORGET_AFTER_MINUTES)).timestamp();
        let row = self
            .db
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO throttle_failures (kind, key_digest, failures, last_failure_at) \
                 SELECT $1, $2, 1, $3 \
                 WHERE EXISTS (SELECT 1 FROM throttle_failures WHERE kind = $1 AND key_digest = $2) \
                   OR (SELECT count(*) FROM (SELECT 1 FROM throttle_failures WHERE kind = $1 LIMIT $6) AS tracked) < $6 \
                 ON CONFLICT (kind, key_digest) DO UPDATE SET \
                   failures = CASE WHEN throttle_failures.last_failure_at < $4 THEN 1 \
                     ELSE LEAST(throttle_failures.failures + 1, $5) END, \
                   last_failure_at = GREATEST(throttle_failures.last_failure_at, excluded.last_failure_at) \
                 RETURNING failures, last_failure_at",
                [
                    self.kind.into(),
                    secret_digest_hex(key).into(),
                    now.timestamp().into(),
                    forgotten_before.into(),
                    MAX_COUNT.into(),
                    MAX_SHARED_KEYS.into(),
                ],
            ))
            .await?;
        row.as_ref().map(failures_of).transpose()
    }

    /// Forgets `key`'s failures everywhere.
    pub(super) async fn clear(&self, key: &str) -> Result<()> {
        self.db
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM throttle_failures WHERE kind = $1 AND key_digest = $2",
                [self.kind.into(), secret_digest_hex(key).into()],
            ))
            .await?;
        Ok(())
    }
}

impl Services {
    /// Deletes shared failure counts that every throttle has forgotten by
    /// `now` (housekeeping), so the table holds only the last window's
    /// failing keys. Returns the rows removed.
    pub async fn prune_throttle_failures(&self, now: DateTime<Utc>) -> Result<u64> {
        let before = (now - Duration::minutes(FORGET_AFTER_MINUTES)).timestamp();
        let backend = self.db().get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "DELETE FROM throttle_failures WHERE last_failure_at < $1",
            _ => "DELETE FROM throttle_failures WHERE last_failure_at < ?",
        };
        let result = self.db().execute(Statement::from_sql_and_values(backend, sql, [before.into()])).await?;
        Ok(result.rows_affected())
    }
}
