//! A tenant's token settings (App ID's `/config/tokens`): the access-token
//! lifetime every new token gets.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use super::tenants::validate_token_lifetime;
use crate::entities::tenant;
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// The token settings of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenConfig {
    /// Lifetime of a new access token, in seconds.
    pub access_expires_in: i64,
}

impl Services {
    pub async fn token_config(&self, scope: &TenantScope<impl AccessLevel>) -> Result<TokenConfig> {
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok(TokenConfig { access_expires_in: tenant.token_lifetime_secs })
    }

    /// Sets the tenant's token settings; tokens issued before keep theirs.
    pub async fn set_token_config(
        &self,
        scope: &TenantScope<Write>,
        config: TokenConfig,
        now: DateTime<Utc>,
    ) -> Result<TokenConfig> {
        let lifetime = validate_token_lifetime(config.access_expires_in)?;
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = tenant.token_lifetime_secs;
        let mut active: tenant::ActiveModel = tenant.into();
        active.token_lifetime_secs = Set(lifetime);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "config.tokens", scope.tenant_id())
            .with_details(serde_json::json!({"before": {"access": {"expires_in": before}}, "after": {"access": {"expires_in": lifetime}}}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Runtime(scope.tenant_id().to_owned())]).await?;
        Ok(TokenConfig { access_expires_in: lifetime })
    }
}
