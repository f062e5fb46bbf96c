//! The task that keeps a serving process's caches in step with the other
//! processes on its database, and drops exactly what each notice names. On
//! PostgreSQL it `LISTEN`s; on SQLite it reads the `cache_invalidation` rows
//! after the last one it saw, a few times a second. While it is not
//! subscribed (the connection was lost, or a read failed), cache entries live
//! at most a second; when it is back it drops everything, since notices sent
//! meanwhile may be lost.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::sqlx::sqlite::SqlitePool;

use super::Services;
use super::invalidation::{CHANNEL, FALLBACK_CACHE_TTL_SECS, Invalidation};

/// The first wait before subscribing again, doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How often the SQLite rows are read: well within the second a change may take.
const SQLITE_POLL: Duration = Duration::from_millis(200);
/// Rows read at most per poll; more are read on the next one.
const SQLITE_BATCH: i64 = 500;
/// Rows kept behind the newest: a reader further behind than this sees a
/// gap and drops everything.
const SQLITE_KEPT_ROWS: i64 = 10_000;
/// Polls between two prunings (about a minute).
const SQLITE_PRUNE_EVERY: u32 = 300;

impl Services {
    /// Starts the invalidation listener of a serving process; it ends when
    /// the database pool is closed. `None` for a connection it cannot
    /// listen on (none that Clavis opens).
    pub fn spawn_invalidation_listener(&self) -> Option<tokio::task::JoinHandle<()>> {
        let services = self.clone();
        match self.db() {
            DatabaseConnection::SqlxPostgresPoolConnection(_) => {
                let pool = self.db().get_postgres_connection_pool().clone();
                Some(tokio::spawn(async move { services.listen_on_postgres(pool).await }))
            }
            DatabaseConnection::SqlxSqlitePoolConnection(_) => {
                let pool = self.db().get_sqlite_connection_pool().clone();
                Some(tokio::spawn(async move { services.poll_sqlite(pool).await }))
            }
            _ => None,
        }
    }

    /// Subscribed (again): whatever changed before went unheard.
    fn invalidations_heard(&self, was_lost: bool) {
        self.invalidate_local(&Invalidation::Everything);
        self.inner.invalidation.set_listening(true);
        if was_lost {
            tracing::info!("listening for cache invalidations again; every cache entry was dropped");
        } else {
            tracing::debug!("listening for cache invalidations");
        }
    }

    fn invalidations_lost(&self, err: &dyn std::fmt::Display) {
        self.inner.invalidation.set_listening(false);
        tracing::warn!(
            error = %err,
            "not listening for cache invalidations; cache entries live at most {FALLBACK_CACHE_TTL_SECS} s until it is back"
        );
    }

    fn apply_notice(&self, payload: &str) {
        metrics::counter!(crate::metrics::CACHE_INVALIDATIONS).increment(1);
        self.invalidate_local(&Invalidation::parse(payload));
    }

    async fn listen_on_postgres(self, pool: PgPool) {
        let mut backoff = FIRST_BACKOFF;
        let mut was_lost = false;
        while !pool.is_closed() {
            let mut listener = match subscribe(&pool).await {
                Ok(listener) => listener,
                Err(err) => {
                    if !was_lost {
                        self.invalidations_lost(&err);
                        was_lost = true;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            self.invalidations_heard(was_lost);
            backoff = FIRST_BACKOFF;
            let lost = loop {
                match listener.try_recv().await {
                    Ok(Some(notice)) => self.apply_notice(notice.payload()),
                    Ok(None) => break "the connection closed".to_owned(),
                    Err(err) => break err.to_string(),
                }
            };
            drop(listener);
            if pool.is_closed() {
                self.inner.invalidation.set_listening(false);
                break;
            }
            self.invalidations_lost(&lost);
            was_lost = true;
        }
        tracing::debug!("the cache invalidation listener stopped with the database pool");
    }

    async fn poll_sqlite(self, pool: SqlitePool) {
        let mut seen: Option<i64> = None;
        let mut was_lost = false;
        let mut polls: u32 = 0;
        while !pool.is_closed() {
            match self.read_sqlite_notices(&pool, &mut seen).await {
                Ok(first_read) => {
                    if first_read {
                        self.invalidations_heard(was_lost);
                        was_lost = false;
                    }
                }
                Err(err) => {
                    if !was_lost && !pool.is_closed() {
                        self.invalidations_lost(&err);
                    }
                    was_lost = true;
                    seen = None;
                }
            }
            polls = polls.wrapping_add(1);
            if polls.is_multiple_of(SQLITE_PRUNE_EVERY)
                && let Some(last) = seen
                && let Err(err) = sea_orm::sqlx::query("DELETE FROM cache_invalidation WHERE seq <= ?")
                    .bind(last - SQLITE_KEPT_ROWS)
                    .execute(&pool)
                    .await
            {
                tracing::debug!(error = %err, "pruning the cache invalidation rows failed; the next pruning retries");
            }
            tokio::time::sleep(SQLITE_POLL).await;
        }
        self.inner.invalidation.set_listening(false);
    }

    /// Applies the rows after `seen`. Returns whether this was the first
    /// successful read (which subscribes). Rows are numbered without gaps
    /// (SQLite serializes writers, and a rolled-back row takes its number
    /// back), so a gap means pruned rows this process never read.
    async fn read_sqlite_notices(
        &self,
        pool: &SqlitePool,
        seen: &mut Option<i64>,
    ) -> Result<bool, sea_orm::sqlx::Error> {
        let Some(last) = *seen else {
            let newest: (i64,) =
                sea_orm::sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM cache_invalidation").fetch_one(pool).await?;
            *seen = Some(newest.0);
            return Ok(true);
        };
        let rows: Vec<(i64, String)> =
            sea_orm::sqlx::query_as("SELECT seq, payload FROM cache_invalidation WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(last)
                .bind(SQLITE_BATCH)
                .fetch_all(pool)
                .await?;
        let mut expected = last + 1;
        for (seq, payload) in rows {
            if seq == expected {
                self.apply_notice(&payload);
            } else {
                self.invalidate_local(&Invalidation::Everything);
            }
            expected = seq + 1;
            *seen = Some(seq);
        }
        Ok(false)
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Reconnecting is this task's job, so that it knows when notices may have been missed.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
