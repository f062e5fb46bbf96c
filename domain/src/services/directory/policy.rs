//! Each tenant's password policy for its Cloud Directory users: a minimum
//! length and whether the common-password list is refused. Admins of the
//! dashboard have their own, fixed policy (`services::password_policy`).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::entities::tenant;
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::services::Services;
use crate::services::audit::AuditRecord;
use crate::services::password_policy::{MAX_PASSWORD_CHARS, is_common_password};
use crate::{Error, Result};

/// The range a tenant's minimum length may be set to.
pub const MIN_DIRECTORY_MIN_PASSWORD_CHARS: u32 = 8;
pub const MAX_DIRECTORY_MIN_PASSWORD_CHARS: u32 = 64;

/// A tenant's rules for its users' passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryPasswordPolicy {
    pub min_chars: u32,
    pub reject_common: bool,
}

impl DirectoryPasswordPolicy {
    fn of(tenant: &tenant::Model) -> Self {
        Self {
            min_chars: u32::try_from(tenant.directory_password_min_chars).unwrap_or(MIN_DIRECTORY_MIN_PASSWORD_CHARS),
            reject_common: tenant.directory_reject_common_passwords,
        }
    }

    /// Checks a new password against this policy.
    pub fn check(&self, password: &str) -> Result<()> {
        let count = password.chars().count();
        let min = usize::try_from(self.min_chars).unwrap_or(usize::MAX);
        if count < min || count > MAX_PASSWORD_CHARS {
            return Err(Error::validation(format!(
                "passwords must be {} to {MAX_PASSWORD_CHARS} characters",
                self.min_chars
            )));
        }
        if self.reject_common && is_common_password(password) {
            return Err(Error::validation("that password is one of the most common ones; choose another"));
        }
        Ok(())
    }
}

impl Services {
    pub(super) async fn directory_policy_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
    ) -> Result<DirectoryPasswordPolicy> {
        let tenant =
            tenant::Entity::find_by_id(tenant_id.to_owned()).one(conn).await?.ok_or(Error::NotFound("tenant"))?;
        Ok(DirectoryPasswordPolicy::of(&tenant))
    }

    /// The tenant's password policy for its Cloud Directory.
    pub async fn directory_password_policy(
        &self,
        scope: &TenantScope<impl AccessLevel>,
    ) -> Result<DirectoryPasswordPolicy> {
        self.directory_policy_on(self.db(), scope.tenant_id()).await
    }

    /// Sets the tenant's password policy; existing passwords are kept.
    pub async fn set_directory_password_policy(
        &self,
        scope: &TenantScope<Write>,
        policy: DirectoryPasswordPolicy,
        now: DateTime<Utc>,
    ) -> Result<DirectoryPasswordPolicy> {
        if !(MIN_DIRECTORY_MIN_PASSWORD_CHARS..=MAX_DIRECTORY_MIN_PASSWORD_CHARS).contains(&policy.min_chars) {
            return Err(Error::validation(format!(
                "the minimum length must be {MIN_DIRECTORY_MIN_PASSWORD_CHARS} to {MAX_DIRECTORY_MIN_PASSWORD_CHARS}"
            )));
        }
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = DirectoryPasswordPolicy::of(&tenant);
        let mut active: tenant::ActiveModel = tenant.into();
        active.directory_password_min_chars = Set(i32::try_from(policy.min_chars).unwrap_or(i32::MAX));
        active.directory_reject_common_passwords = Set(policy.reject_common);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "cloud_directory.password_policy", scope.tenant_id())
            .with_details(serde_json::json!({
                "before": {"minLength": before.min_chars, "rejectCommon": before.reject_common},
                "after": {"minLength": policy.min_chars, "rejectCommon": policy.reject_common},
            }))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_common_list_are_enforced_as_configured() {
        let strict = DirectoryPasswordPolicy { min_chars: 10, reject_common: true };
        assert!(strict.check("short").is_err());
        assert!(strict.check("password123").is_err(), "a common password");
        assert!(strict.check("violet-harbour-42").is_ok());
        let lax = DirectoryPasswordPolicy { min_chars: 8, reject_common: false };
        assert!(lax.check("password123").is_ok());
        assert!(lax.check(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }
}

/// A tenant's refresh-token settings (App ID's `/config/tokens` `refresh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshConfig {
    /// Whether the password grant issues refresh tokens (and the refresh
    /// grant accepts them).
    pub enabled: bool,
    /// Lifetime of a new refresh token, in seconds.
    pub expires_in: i64,
}

impl Services {
    pub async fn refresh_config(&self, scope: &TenantScope<impl AccessLevel>) -> Result<RefreshConfig> {
        let (enabled, expires_in) = super::refresh_tokens::refresh_settings(self.db(), scope.tenant_id()).await?;
        Ok(RefreshConfig { enabled, expires_in })
    }

    /// Sets the tenant's refresh-token settings. Turning them off makes the
    /// refresh grant refuse every outstanding refresh token; tokens issued
    /// before a lifetime change keep their expiry.
    pub async fn set_refresh_config(
        &self,
        scope: &TenantScope<Write>,
        config: RefreshConfig,
        now: DateTime<Utc>,
    ) -> Result<RefreshConfig> {
        if !(60..=super::MAX_REFRESH_LIFETIME_SECS).contains(&config.expires_in) {
            return Err(Error::validation(format!(
                "refresh.expires_in must be 60 to {} seconds",
                super::MAX_REFRESH_LIFETIME_SECS
            )));
        }
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let before = serde_json::json!({"enabled": tenant.refresh_enabled, "expires_in": tenant.refresh_lifetime_secs});
        let mut active: tenant::ActiveModel = tenant.into();
        active.refresh_enabled = Set(config.enabled);
        active.refresh_lifetime_secs = Set(config.expires_in);
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "config.tokens.refresh", scope.tenant_id())
            .with_details(serde_json::json!({
                "before": {"refresh": before},
                "after": {"refresh": {"enabled": config.enabled, "expires_in": config.expires_in}},
            }))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        Ok(config)
    }
}
