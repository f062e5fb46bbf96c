//! Reading an application's token usage: the per-minute counts that the
//! usage flush writes, for the dashboard and the management API.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Services;
use super::tenants::rfc3339;
use crate::Result;
use crate::entities::{application, application_usage};

/// The longest window one usage read covers: a day of minutes.
pub const MAX_USAGE_MINUTES: u32 = 24 * 60;
/// The window when the caller names none: the last hour.
pub const DEFAULT_USAGE_MINUTES: u32 = 60;

/// Tokens one application received in one minute.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UsageMinute {
    pub minute: String,
    pub tokens: i64,
}

/// Tokens issued per minute over a window that ends with the current minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUsage {
    /// RFC 3339 start of the first minute in `per_minute`.
    pub from: String,
    /// Unix seconds of that minute, for charts.
    pub from_unix: i64,
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
    /// Deletes per-minute usage older than `before`; returns the rows removed.
    pub async fn prune_usage(&self, before: DateTime<Utc>) -> Result<u64> {
        let result = application_usage::Entity::delete_many()
            .filter(application_usage::Column::Minute.lt(before.timestamp()))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }

    /// Tokens issued to an application per minute since `since`, oldest
    /// first; minutes without tokens are absent. Counts reach the database
    /// with the usage flush, every few seconds.
    pub async fn usage_per_minute(
        &self,
        scope: &crate::TenantScope,
        client_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<UsageMinute>> {
        let rows = self.usage_rows(scope, client_id, since.timestamp()).await?;
        Ok(rows.into_iter().map(|row| UsageMinute { minute: rfc3339(row.minute), tokens: row.tokens }).collect())
    }

    /// The last `minutes` minutes of an application's usage (the current
    /// minute included), one count per minute: what a chart needs, with no
    /// gaps for the caller to fill.
    pub async fn token_usage(
        &self,
        scope: &crate::TenantScope,
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
        Ok(TokenUsage { from: rfc3339(from_unix), from_unix, per_minute })
    }

    /// The application's usage rows from `since_unix` on, oldest first;
    /// `NotFound` when the application is not in the scope's tenant.
    async fn usage_rows(
        &self,
        scope: &crate::TenantScope,
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
