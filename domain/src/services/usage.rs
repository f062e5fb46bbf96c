//! Token usage: counted in memory on the token path, written in a few
//! multi-row statements every few seconds, and read back per minute for the
//! dashboard and the management API.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
    Value,
};

use super::Services;
use super::tenants::at;
use crate::Result;
use crate::entities::{application, application_usage};

/// Rows per statement of the flush: 500 rows of at most three values stay
/// far below either backend's limit on bound parameters, and 100,000 active
/// applications cost a few hundred statements every few seconds, not
/// 100,000.
const FLUSH_ROWS_PER_STATEMENT: usize = 500;

#[derive(Default)]
struct Usage {
    last_used: i64,
    tokens: i64,
    client_id: String,
    /// (start of minute, tokens) in time order; one entry per minute in use.
    minutes: Vec<(i64, i64)>,
}

/// Per-secret usage since the last flush.
#[derive(Default)]
pub(crate) struct UsageCounters {
    /// Keyed by the IDs of secrets that just got a token (no caller can
    /// choose them), once per token: foldhash rather than SipHash.
    pending: Mutex<foldhash::HashMap<String, Usage>>,
}

use clavis_types::MAX_USAGE_MINUTES;

/// Tokens issued per minute over a window that ends with the current minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUsage {
    /// The start of the first minute in `per_minute`.
    pub from: DateTime<Utc>,
    /// One count per minute, oldest first; minutes without tokens are 0.
    pub per_minute: Vec<i64>,
}

impl TokenUsage {
    /// Tokens issued over the whole window.
    pub fn total(&self) -> i64 {
        self.per_minute.iter().sum()
    }
}

/// The start (Unix seconds) of the minute that holds `unix_seconds`: the
/// key usage counts are kept under.
pub(crate) fn minute_start(unix_seconds: i64) -> i64 {
    unix_seconds - unix_seconds.rem_euclid(60)
}

impl Services {
    /// Counts one token issued with `secret_id`; written by [`Services::flush_usage`].
    pub(crate) fn record_usage(&self, secret_id: &str, client_id: &str, now_unix: i64) {
        if let Ok(mut pending) = self.inner.usage.pending.lock() {
            // Look up before inserting, so a known secret costs no allocation.
            let usage = match pending.get_mut(secret_id) {
                Some(usage) => usage,
                None => pending
                    .entry(secret_id.to_owned())
                    .or_insert_with(|| Usage { client_id: client_id.to_owned(), ..Usage::default() }),
            };
            usage.last_used = usage.last_used.max(now_unix);
            usage.tokens += 1;
            let minute = minute_start(now_unix);
            match usage.minutes.last_mut() {
                Some((start, count)) if *start == minute => *count += 1,
                _ => usage.minutes.push((minute, 1)),
            }
        }
    }

    /// Writes the usage counted since the last flush; the server calls this
    /// every few seconds and at shutdown. Returns the number of secrets updated.
    ///
    /// One transaction of multi-row statements, whatever the number of
    /// active applications: per secret its last use, per application its
    /// last use and token total, per application and minute its count
    /// (added to what other processes wrote). Rows go in key order, so two
    /// replicas flushing the same applications lock them in the same order
    /// and never deadlock.
    pub async fn flush_usage(&self) -> Result<usize> {
        let batch: foldhash::HashMap<String, Usage> = match self.inner.usage.pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let mut per_secret: BTreeMap<&str, i64> = BTreeMap::new();
        let mut per_app: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        let mut per_minute: BTreeMap<(&str, i64), i64> = BTreeMap::new();
        for (secret_id, usage) in &batch {
            per_secret.insert(secret_id.as_str(), usage.last_used);
            let entry = per_app.entry(usage.client_id.as_str()).or_insert((0, 0));
            entry.0 = entry.0.max(usage.last_used);
            entry.1 += usage.tokens;
            for (minute, count) in &usage.minutes {
                *per_minute.entry((usage.client_id.as_str(), *minute)).or_insert(0) += count;
            }
        }
        let txn = self.begin_write().await?;
        // Each statement's values are built when it runs: with every one of
        // 100,000 applications in a flush, building them all first held
        // tens of megabytes at once, which the allocator then kept.
        let secrets: Vec<(&str, i64)> = per_secret.into_iter().collect();
        for chunk in secrets.chunks(FLUSH_ROWS_PER_STATEMENT) {
            let rows: Vec<[Value; 2]> = chunk.iter().map(|&(id, last)| [id.into(), last.into()]).collect();
            execute_rows(
                &txn,
                "WITH v(id, last_used) AS (VALUES {rows}) \
                 UPDATE client_secrets SET last_used_at = CASE \
                   WHEN client_secrets.last_used_at IS NULL OR client_secrets.last_used_at < v.last_used \
                   THEN v.last_used ELSE client_secrets.last_used_at END \
                 FROM v WHERE client_secrets.id = v.id",
                &rows,
            )
            .await?;
        }
        let apps: Vec<(&str, (i64, i64))> = per_app.into_iter().collect();
        for chunk in apps.chunks(FLUSH_ROWS_PER_STATEMENT) {
            let rows: Vec<[Value; 3]> =
                chunk.iter().map(|&(id, (last, tokens))| [id.into(), last.into(), tokens.into()]).collect();
            execute_rows(
                &txn,
                "WITH v(client_id, last_used, tokens) AS (VALUES {rows}) \
                 UPDATE applications SET last_used_at = CASE \
                   WHEN applications.last_used_at IS NULL OR applications.last_used_at < v.last_used \
                   THEN v.last_used ELSE applications.last_used_at END, \
                   tokens_issued = applications.tokens_issued + v.tokens \
                 FROM v WHERE applications.client_id = v.client_id",
                &rows,
            )
            .await?;
        }
        let minutes: Vec<((&str, i64), i64)> = per_minute.into_iter().collect();
        for chunk in minutes.chunks(FLUSH_ROWS_PER_STATEMENT) {
            let rows: Vec<[Value; 3]> =
                chunk.iter().map(|&((id, minute), tokens)| [id.into(), minute.into(), tokens.into()]).collect();
            // No foreign key to `applications` (see its migration): a count
            // of an application deleted meanwhile is pruned with the rest.
            execute_rows(
                &txn,
                "INSERT INTO application_usage (client_id, minute, tokens) VALUES {rows} \
                 ON CONFLICT (client_id, minute) DO UPDATE SET tokens = application_usage.tokens + excluded.tokens",
                &rows,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(batch.len())
    }

    /// Deletes per-minute usage older than `before`; returns the rows removed.
    pub async fn prune_usage(&self, before: DateTime<Utc>) -> Result<u64> {
        let result = application_usage::Entity::delete_many()
            .filter(application_usage::Column::Minute.lt(before.timestamp()))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }

    /// The last `minutes` minutes of an application's usage (the current
    /// minute included), one count per minute: what a chart needs, with no
    /// gaps for the caller to fill.
    pub async fn token_usage(
        &self,
        scope: &crate::TenantScope<impl crate::scope::AccessLevel>,
        client_id: &str,
        minutes: u32,
        now: DateTime<Utc>,
    ) -> Result<TokenUsage> {
        if !(1..=MAX_USAGE_MINUTES).contains(&minutes) {
            return Err(crate::Error::validation(format!("minutes must be 1 to {MAX_USAGE_MINUTES}")));
        }
        let from_unix = minute_start(now.timestamp()) - 60 * (i64::from(minutes) - 1);
        let mut per_minute = vec![0_i64; minutes as usize];
        for row in self.usage_rows(scope, client_id, from_unix).await? {
            let index = (row.minute - from_unix).div_euclid(60);
            // A count flushed by a process whose clock runs ahead lands
            // after `now`; it belongs to no minute of this window.
            if let Some(slot) = usize::try_from(index).ok().and_then(|index| per_minute.get_mut(index)) {
                *slot += row.tokens;
            }
        }
        Ok(TokenUsage { from: at(from_unix), per_minute })
    }

    /// The application's usage rows from `since_unix` on, oldest first;
    /// `NotFound` when the application is not in the scope's tenant.
    async fn usage_rows(
        &self,
        scope: &crate::TenantScope<impl crate::scope::AccessLevel>,
        client_id: &str,
        since_unix: i64,
    ) -> Result<Vec<application_usage::Model>> {
        let app = application::Entity::find_by_id(client_id.to_owned())
            .filter(application::Column::TenantId.eq(scope.tenant_id()))
            .one(self.db())
            .await?
            .ok_or(crate::Error::NotFound("application"))?;
        Ok(application_usage::Entity::find()
            .filter(application_usage::Column::ClientId.eq(app.client_id))
            .filter(application_usage::Column::Minute.gte(since_unix))
            .order_by_asc(application_usage::Column::Minute)
            .all(self.db())
            .await?)
    }
}

/// Runs `template` with `{rows}` replaced by one parenthesised tuple of
/// placeholders per row, binding the rows' values in order.
async fn execute_rows<const N: usize>(txn: &DatabaseTransaction, template: &str, rows: &[[Value; N]]) -> Result<()> {
    let backend = txn.get_database_backend();
    let mut tuples = String::with_capacity(rows.len() * (N * 5 + 3));
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
                DbBackend::Postgres => tuples.push_str(&format!("${}", values.len() + 1)),
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
