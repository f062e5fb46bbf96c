//! Token usage as it is read: per minute for the dashboard and the
//! management API, and pruned. `usage_counts` counts and writes it.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Services;
use super::tenants::at;
use crate::Result;
use crate::entities::{application, application_usage};

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
