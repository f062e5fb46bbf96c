//! The PostgreSQL half of the failure throttles: counts every replica on
//! one database shares, so N processes do not grant N times the attempts.
//!
//! Rows are keyed by (kind, SHA-256 of the key), never the key itself (a
//! sign-in key holds an email). A row is written when an attempt fails and
//! read only on paths that already failed or that are slow by design (a
//! sign-in hashes a password): a client that never fails costs no statement.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::Services;
use super::throttle::{FORGET_AFTER_MINUTES, Failures};
use crate::Result;
use crate::crypto::secret_digest_hex;

/// A count no row ever exceeds, so it stays far from `INTEGER`'s range.
const MAX_COUNT: i32 = 1_000_000;

/// One throttle's rows in the shared table.
pub(super) struct SharedCounts {
    kind: &'static str,
    db: DatabaseConnection,
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
    })
}

impl SharedCounts {
    /// Shared counts of `kind` when `db` is PostgreSQL; `None` on SQLite,
    /// which one process owns, so its in-memory counts are the whole truth.
    pub(super) fn for_backend(kind: &'static str, db: &DatabaseConnection) -> Option<Self> {
        (db.get_database_backend() == DbBackend::Postgres).then(|| Self { kind, db: db.clone() })
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
    pub(super) async fn record(&self, key: &str, now: DateTime<Utc>) -> Result<Failures> {
        let forgotten_before = (now - Duration::minutes(FORGET_AFTER_MINUTES)).timestamp();
        let row = self
            .db
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO throttle_failures (kind, key_digest, failures, last_failure_at) VALUES ($1, $2, 1, $3) \
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
                ],
            ))
            .await?;
        match row {
            Some(row) => failures_of(&row),
            None => Err(crate::Error::internal("the throttle upsert returned no row")),
        }
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
