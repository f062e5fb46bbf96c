//! A tenant's DPoP settings (whether proofs must carry a server nonce) and
//! an application's "DPoP required" flag: whether its tokens must be bound.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use crate::entities::{application, tenant};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// The DPoP settings of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DpopConfig {
    /// Proofs must carry a nonce the server issued (RFC 9449 §8).
    pub nonce_required: bool,
}

impl Services {
    pub async fn dpop_config(&self, scope: &TenantScope<impl AccessLevel>) -> Result<DpopConfig> {
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok(DpopConfig { nonce_required: tenant.dpop_nonce_required })
    }

    /// Sets the tenant's DPoP settings; every replica applies them to the
    /// next token request.
    pub async fn set_dpop_config(
        &self,
        scope: &TenantScope<Write>,
        config: DpopConfig,
        now: DateTime<Utc>,
    ) -> Result<DpopConfig> {
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = tenant.dpop_nonce_required;
        let mut active: tenant::ActiveModel = tenant.into();
        active.dpop_nonce_required = Set(config.nonce_required);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "config.dpop", scope.tenant_id())
            .with_details(serde_json::json!({
                "before": {"nonceRequired": before},
                "after": {"nonceRequired": config.nonce_required},
            }))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Runtime(scope.tenant_id().to_owned())]).await?;
        Ok(config)
    }

    /// Marks `client_id` as needing DPoP-bound tokens (its requests without a
    /// proof are refused), or no longer.
    pub async fn set_application_dpop_required(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        required: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        let before = app.dpop_required;
        let mut active: application::ActiveModel = app.into();
        active.dpop_required = Set(required);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "application.dpop_required", client_id)
            .with_details(serde_json::json!({"from": before, "to": required}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(())
    }
}
