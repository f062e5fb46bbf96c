//! Token usage as it is counted: a cell per credential, kept with the cached
//! client, and the flush that writes the queued cells in a few multi-row
//! statements every few seconds.
//!
//! Counting a token locks only its own credential's cell and allocates
//! nothing; the first token after a flush also queues the cell. A flush
//! costs one queue entry per credential used since the last one, so memory
//! follows the cached clients, not the tokens issued.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};

use super::Services;
use super::usage::minute_start;
use crate::Result;

/// Rows per statement of the flush: 500 rows of at most three values stay
/// far below either backend's limit on bound parameters, and 100,000 active
/// applications cost a few hundred statements every few seconds, not
/// 100,000.
const FLUSH_ROWS_PER_STATEMENT: usize = 500;

/// The shortest pause between two flushes: how late "last used" and the
/// per-minute counts may be when few applications are active.
pub const FLUSH_EVERY_AT_LEAST: Duration = Duration::from_secs(5);
/// The longest: counts are never more than about a minute late.
const FLUSH_EVERY_AT_MOST: Duration = Duration::from_secs(60);
/// A flush may take this share (1/20) of the time between flushes, at most.
const FLUSH_TIME_SHARE: u32 = 20;

/// How long to wait after a flush that took `took` before the next.
///
/// A flush costs a row per active credential, application and minute,
/// whatever tokens they took: with 100,000 active applications one flush
/// rewrites most of three tables, a second or more of the database's time.
/// Flushing that every 5 s took a quarter of the server's CPU; pausing 20
/// times the flush's duration keeps it near 5 %, and with more tokens per
/// credential counted in each flush, the rows written per token fall too.
pub fn pause_after_flush(took: Duration) -> Duration {
    took.saturating_mul(FLUSH_TIME_SHARE).clamp(FLUSH_EVERY_AT_LEAST, FLUSH_EVERY_AT_MOST)
}

/// The tokens one credential (a secret, an application's keys, a federated
/// credential) got since its counts were last written.
#[derive(Debug)]
pub(crate) struct UsageCell {
    /// The `client_secrets` row it updates (no row has the ID of another
    /// kind of credential, so theirs update none).
    secret_id: Arc<str>,
    client_id: Arc<str>,
    counts: Mutex<PendingCounts>,
}

#[derive(Debug, Default)]
struct PendingCounts {
    /// In the flush queue: counted since the last flush took it.
    queued: bool,
    last_used: i64,
    tokens: i64,
    /// The start of the latest minute counted, and its tokens.
    minute: i64,
    minute_tokens: i64,
    /// Earlier minutes not yet written, oldest first: empty unless a
    /// minute ended since the last flush, or a flush failed.
    earlier: Vec<(i64, i64)>,
}

impl PendingCounts {
    /// Counts `tokens` more in the minute that starts at `minute`; true
    /// when the cell must now be queued.
    fn count(&mut self, minute: i64, tokens: i64) -> bool {
        self.tokens += tokens;
        if self.minute_tokens == 0 || minute == self.minute {
            self.minute = minute;
            self.minute_tokens += tokens;
        } else if minute > self.minute {
            self.earlier.push((self.minute, self.minute_tokens));
            self.minute = minute;
            self.minute_tokens = tokens;
        } else {
            // A failed flush's counts, put back after newer ones.
            match self.earlier.binary_search_by_key(&minute, |&(start, _)| start) {
                Ok(at) => self.earlier[at].1 += tokens,
                Err(at) => self.earlier.insert(at, (minute, tokens)),
            }
        }
        !std::mem::replace(&mut self.queued, true)
    }

    fn used_at(&mut self, unix_seconds: i64) {
        self.last_used = self.last_used.max(unix_seconds);
    }
}

impl UsageCell {
    pub(crate) fn new(secret_id: Arc<str>, client_id: Arc<str>) -> Arc<Self> {
        Arc::new(Self { secret_id, client_id, counts: Mutex::default() })
    }
}

/// The cells counted since the last flush, each once.
#[derive(Default)]
pub(crate) struct UsageCounters {
    queue: Mutex<Vec<Arc<UsageCell>>>,
}

/// One cell's counts taken by a flush.
struct Taken {
    cell: usize,
    last_used: i64,
    tokens: i64,
}

impl Services {
    /// Counts one token issued with the credential of `cell`; written by
    /// [`Services::flush_usage`].
    pub(crate) fn record_usage(&self, cell: &Arc<UsageCell>, now_unix: i64) {
        let newly_queued = match cell.counts.lock() {
            Ok(mut counts) => {
                counts.used_at(now_unix);
                counts.count(minute_start(now_unix), 1)
            }
            Err(_) => return,
        };
        if newly_queued && let Ok(mut queue) = self.inner.usage.queue.lock() {
            queue.push(Arc::clone(cell));
        }
    }

    /// Writes the usage counted since the last flush; the server calls this
    /// every few seconds and at shutdown. Returns the number of secrets
    /// updated. Counts a failed flush could not write are kept for the next.
    ///
    /// One transaction of multi-row statements, whatever the number of
    /// active applications: per secret its last use, per application its
    /// last use and token total, per application and minute its count
    /// (added to what other processes wrote). Rows go in key order, so two
    /// replicas flushing the same applications lock them in the same order
    /// and never deadlock.
    pub async fn flush_usage(&self) -> Result<usize> {
        let cells: Vec<Arc<UsageCell>> = match self.inner.usage.queue.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(_) => return Ok(0),
        };
        let mut taken = Vec::with_capacity(cells.len());
        let mut minutes: Vec<(usize, i64, i64)> = Vec::with_capacity(cells.len());
        for (index, cell) in cells.iter().enumerate() {
            let Ok(mut counts) = cell.counts.lock() else { continue };
            let counts = std::mem::take(&mut *counts);
            minutes.extend(counts.earlier.iter().map(|&(minute, tokens)| (index, minute, tokens)));
            if counts.minute_tokens > 0 {
                minutes.push((index, counts.minute, counts.minute_tokens));
            }
            taken.push(Taken { cell: index, last_used: counts.last_used, tokens: counts.tokens });
        }
        if taken.is_empty() {
            return Ok(0);
        }
        match self.write_usage(&cells, &mut taken, &mut minutes).await {
            Ok(secrets) => Ok(secrets),
            Err(err) => {
                self.put_back(&cells, &taken, &minutes);
                Err(err)
            }
        }
    }

    async fn write_usage(
        &self,
        cells: &[Arc<UsageCell>],
        taken: &mut [Taken],
        minutes: &mut [(usize, i64, i64)],
    ) -> Result<usize> {
        let client_of = |t: &Taken| &*cells[t.cell].client_id;
        let secret_of = |t: &Taken| &*cells[t.cell].secret_id;
        // A client reloaded since its last flush has two cells per secret.
        taken.sort_unstable_by(|a, b| (client_of(a), secret_of(a)).cmp(&(client_of(b), secret_of(b))));
        minutes.sort_unstable_by(|a, b| (&*cells[a.0].client_id, a.1).cmp(&(&*cells[b.0].client_id, b.1)));

        // Table by table, each in key order: two replicas lock the same
        // rows in the same order.
        let txn = self.begin_write().await?;
        let mut per_secret = Batch::new(&txn, UPDATE_SECRETS);
        let mut secrets = 0;
        for same_secret in taken.chunk_by(|a, b| (client_of(a), secret_of(a)) == (client_of(b), secret_of(b))) {
            let last_used = same_secret.iter().map(|t| t.last_used).max().unwrap_or_default();
            per_secret.push([secret_of(&same_secret[0]).into(), last_used.into()]).await?;
            secrets += 1;
        }
        per_secret.finish().await?;
        let mut per_app = Batch::new(&txn, UPDATE_APPLICATIONS);
        for same_client in taken.chunk_by(|a, b| client_of(a) == client_of(b)) {
            let last_used = same_client.iter().map(|t| t.last_used).max().unwrap_or_default();
            let tokens: i64 = same_client.iter().map(|t| t.tokens).sum();
            per_app.push([client_of(&same_client[0]).into(), last_used.into(), tokens.into()]).await?;
        }
        per_app.finish().await?;
        let mut per_minute = Batch::new(&txn, UPSERT_MINUTES);
        for group in minutes.chunk_by(|a, b| cells[a.0].client_id == cells[b.0].client_id && a.1 == b.1) {
            let tokens: i64 = group.iter().map(|m| m.2).sum();
            per_minute.push([(&*cells[group[0].0].client_id).into(), group[0].1.into(), tokens.into()]).await?;
        }
        per_minute.finish().await?;
        txn.commit().await?;
        Ok(secrets)
    }

    /// Adds what a failed flush took back to its cells, queueing again
    /// those that tokens since have not.
    fn put_back(&self, cells: &[Arc<UsageCell>], taken: &[Taken], minutes: &[(usize, i64, i64)]) {
        let mut requeue = Vec::new();
        for &(index, minute, tokens) in minutes {
            let cell = &cells[index];
            if let Ok(mut counts) = cell.counts.lock()
                && counts.count(minute, tokens)
            {
                requeue.push(Arc::clone(cell));
            }
        }
        for taken in taken {
            if let Ok(mut counts) = cells[taken.cell].counts.lock() {
                counts.used_at(taken.last_used);
            }
        }
        if let Ok(mut queue) = self.inner.usage.queue.lock() {
            queue.extend(requeue);
        }
    }
}

const UPDATE_SECRETS: &str = "WITH v(id, last_used) AS (VALUES {rows}) \
     UPDATE client_secrets SET last_used_at = CASE \
       WHEN client_secrets.last_used_at IS NULL OR client_secrets.last_used_at < v.last_used \
       THEN v.last_used ELSE client_secrets.last_used_at END \
     FROM v WHERE client_secrets.id = v.id";

const UPDATE_APPLICATIONS: &str = "WITH v(client_id, last_used, tokens) AS (VALUES {rows}) \
     UPDATE applications SET last_used_at = CASE \
       WHEN applications.last_used_at IS NULL OR applications.last_used_at < v.last_used \
       THEN v.last_used ELSE applications.last_used_at END, \
       tokens_issued = applications.tokens_issued + v.tokens \
     FROM v WHERE applications.client_id = v.client_id";

/// No foreign key to `applications` (see its migration): a count of an
/// application deleted meanwhile is pruned with the rest.
const UPSERT_MINUTES: &str = "INSERT INTO application_usage (client_id, minute, tokens) VALUES {rows} \
     ON CONFLICT (client_id, minute) DO UPDATE SET tokens = application_usage.tokens + excluded.tokens";

/// The rows of one multi-row statement, run each time
/// [`FLUSH_ROWS_PER_STATEMENT`] have gathered, so a flush never holds the
/// values of more than one statement.
struct Batch<'t, const N: usize> {
    txn: &'t DatabaseTransaction,
    template: &'static str,
    rows: Vec<[Value; N]>,
}

impl<'t, const N: usize> Batch<'t, N> {
    fn new(txn: &'t DatabaseTransaction, template: &'static str) -> Self {
        Self { txn, template, rows: Vec::with_capacity(FLUSH_ROWS_PER_STATEMENT) }
    }

    async fn push(&mut self, row: [Value; N]) -> Result<()> {
        self.rows.push(row);
        if self.rows.len() == FLUSH_ROWS_PER_STATEMENT {
            execute_rows(self.txn, self.template, &self.rows).await?;
            self.rows.clear();
        }
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        execute_rows(self.txn, self.template, &self.rows).await
    }
}

/// Runs `template` with `{rows}` replaced by one parenthesised tuple of
/// placeholders per row, binding the rows' values in order. No rows: no
/// statement.
async fn execute_rows<const N: usize>(txn: &DatabaseTransaction, template: &str, rows: &[[Value; N]]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let mut tuples = String::with_capacity(rows.len() * (N * 7 + 4));
    let mut values = Vec::with_capacity(rows.len() * N);
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            tuples.push_str(", ");
        }
        tuples.push('(');
        for (j, value) in row.iter().enumerate() {
            if j > 0 {
                tuples.push_str(", ");
            }
            match backend {
                DbBackend::Postgres => {
                    let _ = write!(tuples, "${}", values.len() + 1);
                }
                _ => tuples.push('?'),
            }
            values.push(value.clone());
        }
        tuples.push(')');
    }
    let sql = template.replace("{rows}", &tuples);
    txn.execute(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{PendingCounts, pause_after_flush};

    #[test]
    fn the_pause_after_a_flush_grows_with_its_duration_within_bounds() {
        assert_eq!(pause_after_flush(Duration::from_millis(3)), Duration::from_secs(5));
        assert_eq!(pause_after_flush(Duration::from_millis(250)), Duration::from_secs(5));
        assert_eq!(pause_after_flush(Duration::from_millis(1_300)), Duration::from_secs(26));
        assert_eq!(pause_after_flush(Duration::from_secs(10)), Duration::from_secs(60));
        assert_eq!(pause_after_flush(Duration::MAX), Duration::from_secs(60));
    }

    #[test]
    fn minutes_stay_in_order_also_when_a_failed_flush_puts_older_ones_back() {
        let mut counts = PendingCounts::default();
        assert!(counts.count(120, 1), "the first token queues the cell");
        assert!(!counts.count(120, 1), "later ones do not");
        assert!(!counts.count(180, 1));
        // Put back: minutes before, between and equal to those held.
        assert!(!counts.count(60, 4));
        assert!(!counts.count(120, 3));
        assert!(!counts.count(0, 1));
        assert_eq!(counts.earlier, [(0, 1), (60, 4), (120, 5)]);
        assert_eq!((counts.minute, counts.minute_tokens), (180, 1));
        assert_eq!(counts.tokens, 11);
        counts.used_at(100);
        counts.used_at(90);
        assert_eq!(counts.last_used, 100);
    }
}
