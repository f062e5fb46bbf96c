//! Tenants: creation (with their first signing key), listing and settings.

use chrono::{DateTime, Utc};
use clavis_oauth::jose::Algorithm;
use clavis_types::{
    DEFAULT_TOKEN_LIFETIME_SECS, MAX_TENANT_NAME_CHARS, MAX_TOKEN_LIFETIME_SECS, MIN_TOKEN_LIFETIME_SECS,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set};

use super::audit::AuditRecord;
use super::directory::{DEFAULT_DIRECTORY_MIN_PASSWORD_CHARS, DEFAULT_REFRESH_LIFETIME_SECS};
use super::{OperatorScope, Services};
use crate::entities::tenant;
use crate::scope::{AccessLevel, Actor, TenantScope};
use crate::{Error, Result};

/// The scope every token of a new tenant carries (App ID's default scope).
pub(super) const DEFAULT_SCOPE: &str = "appid_default";

/// What a new tenant should look like.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: String,
    pub signing_alg: Algorithm,
    pub token_lifetime_secs: i64,
}

impl NewTenant {
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: name.into(), signing_alg: Algorithm::Rs256, token_lifetime_secs: DEFAULT_TOKEN_LIFETIME_SECS }
    }
}

/// A tenant as shown to operators and admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    pub tenant_id: String,
    pub name: String,
    pub oauth_server_url: String,
    pub discovery_endpoint: String,
    /// The tenant's management API, and the audience of management tokens.
    pub management_url: String,
    pub signing_alg: Algorithm,
    pub token_lifetime_secs: i64,
    pub default_scope: String,
    pub created_at: DateTime<Utc>,
}

/// A stored Unix time. Rows are written from valid times only; a value
/// out of chrono's range (a corrupted row) shows as the epoch.
pub(crate) fn at(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(unix_seconds, 0).unwrap_or_default()
}

/// The shared name rule, worded for the service layer's callers.
pub(crate) fn validate_display_name(name: &str, what: &str, max_chars: usize) -> Result<String> {
    clavis_types::validate_display_name(name, max_chars).map_err(|err| match err {
        clavis_types::NameError::Empty | clavis_types::NameError::TooLong { .. } => {
            Error::validation(format!("{what} must be 1 to {max_chars} characters"))
        }
        clavis_types::NameError::ControlCharacter => {
            Error::validation(format!("{what} must not contain control characters"))
        }
        clavis_types::NameError::InvisibleCharacter => {
            Error::validation(format!("{what} must not contain bidirectional or zero-width characters"))
        }
    })
}

pub(crate) fn validate_token_lifetime(secs: i64) -> Result<i64> {
    if (MIN_TOKEN_LIFETIME_SECS..=MAX_TOKEN_LIFETIME_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(Error::validation(format!(
            "token lifetime must be {MIN_TOKEN_LIFETIME_SECS} to {MAX_TOKEN_LIFETIME_SECS} seconds"
        )))
    }
}

impl Services {
    pub(crate) fn tenant_info(&self, model: &tenant::Model) -> TenantInfo {
        let issuer = self.oauth_server_url(&model.id);
        TenantInfo {
            tenant_id: model.id.clone(),
            name: model.name.clone(),
            discovery_endpoint: format!("{issuer}/.well-known/openid-configuration"),
            management_url: self.management_url(&model.id),
            oauth_server_url: issuer,
            signing_alg: Algorithm::from_name(&model.signing_alg).unwrap_or(Algorithm::Rs256),
            token_lifetime_secs: model.token_lifetime_secs,
            default_scope: model.default_scope.clone(),
            created_at: at(model.created_at),
        }
    }

    /// Creates a tenant and its first signing key.
    pub async fn create_tenant(
        &self,
        operator: &OperatorScope,
        new: NewTenant,
        now: DateTime<Utc>,
    ) -> Result<TenantInfo> {
        let txn = self.begin_write().await?;
        let model = self.insert_tenant(&txn, new, operator.actor(), operator.source_addr(), now).await?;
        txn.commit().await?;
        Ok(self.tenant_info(&model))
    }

    pub(crate) async fn insert_tenant<C: ConnectionTrait>(
        &self,
        conn: &C,
        new: NewTenant,
        actor: &Actor,
        source_addr: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<tenant::Model> {
        let name = validate_display_name(&new.name, "tenant name", MAX_TENANT_NAME_CHARS)?;
        let lifetime = validate_token_lifetime(new.token_lifetime_secs)?;
        let id = uuid::Uuid::new_v4().to_string();
        let model = tenant::ActiveModel {
            id: Set(id.clone()),
            name: Set(name.clone()),
            signing_alg: Set(new.signing_alg.name().to_owned()),
            token_lifetime_secs: Set(lifetime),
            default_scope: Set(DEFAULT_SCOPE.to_owned()),
            require_admin_second_factor: Set(false),
            refresh_enabled: Set(true),
            refresh_lifetime_secs: Set(DEFAULT_REFRESH_LIFETIME_SECS),
            directory_password_min_chars: Set(DEFAULT_DIRECTORY_MIN_PASSWORD_CHARS),
            directory_reject_common_passwords: Set(true),
            key_rotation_days: Set(None),
            dpop_nonce_required: Set(false),
            created_at: Set(now.timestamp()),
            updated_at: Set(now.timestamp()),
        }
        .insert(conn)
        .await?;
        self.insert_signing_key(conn, &id, new.signing_alg, now).await?;
        AuditRecord {
            tenant_id: Some(&id),
            actor,
            action: "tenant.create",
            target: &id,
            source_addr,
            details: Some(serde_json::json!({"name": name, "signingAlg": new.signing_alg.name()})),
        }
        .write(conn, now)
        .await?;
        Ok(model)
    }

    pub async fn list_tenants(&self, _operator: &OperatorScope) -> Result<Vec<TenantInfo>> {
        let models = tenant::Entity::find()
            .order_by_asc(tenant::Column::CreatedAt)
            .order_by_asc(tenant::Column::Id)
            .all(self.db())
            .await?;
        Ok(models.iter().map(|model| self.tenant_info(model)).collect())
    }

    pub async fn get_tenant(&self, scope: &TenantScope<impl AccessLevel>) -> Result<TenantInfo> {
        let model = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok(self.tenant_info(&model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_counted_in_characters_after_trimming() {
        assert_eq!(validate_display_name("  é  ", "name", 1).unwrap(), "é");
        assert!(validate_display_name("   ", "name", 50).is_err());
        assert!(validate_display_name("a\u{7}b", "name", 50).is_err());
        assert!(validate_display_name(&"🦀".repeat(50), "name", 50).is_ok());
        assert!(validate_display_name(&"🦀".repeat(51), "name", 50).is_err());
    }
}
