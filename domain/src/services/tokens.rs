//! Verifying the tenant's own access tokens (for introspection and the
//! management API): signature, issuer, expiry, tenant, revocation, and
//! whether the client still exists.

use chrono::{DateTime, Utc};
use clavis_oauth::access_token::VerifiedClaims;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use super::keyring::TenantRuntime;
use crate::entities::{application, revoked_token};
use crate::scope::{TenantScope, Write};

impl Services {
    /// Verifies a token of this tenant: signature by a published key,
    /// issuer, expiry, tenant. Does not consult revocation.
    pub(crate) fn verify_access_token(
        &self,
        runtime: &TenantRuntime,
        token: &str,
        now: DateTime<Utc>,
    ) -> Option<VerifiedClaims> {
        let parsed = clavis_oauth::jose::verify::parse(token).ok()?;
        let key = runtime.verification_keys.get(&parsed.kid)?;
        let payload = parsed.verify(key).ok()?;
        let claims: VerifiedClaims = serde_json::from_str(&payload).ok()?;
        // Expiry is checked against the injected clock, not the wall clock.
        (claims.iss == runtime.issuer && claims.exp > now.timestamp() && claims.tenant == runtime.tenant_id)
            .then_some(claims)
    }

    async fn is_revoked(&self, jti: &str) -> crate::Result<bool> {
        Ok(revoked_token::Entity::find_by_id(jti.to_owned()).one(self.db()).await?.is_some())
    }

    /// A token that verifies, is not revoked, and whose client still exists.
    pub(crate) async fn active_token(
        &self,
        runtime: &TenantRuntime,
        token: &str,
        now: DateTime<Utc>,
    ) -> crate::Result<Option<VerifiedClaims>> {
        let Some(claims) = self.verify_access_token(runtime, token, now) else {
            return Ok(None);
        };
        let Some(standing) = self.client_standing(&runtime.tenant_id, &claims.client_id, now).await? else {
            return Ok(None);
        };
        if standing.tokens_revoked_before.is_some_and(|before| claims.iat <= before) {
            return Ok(None);
        }
        if self.is_revoked(&claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// Forgets revocations of tokens that have expired by `now`: an expired
    /// token fails verification anyway, so its row only made the table grow.
    pub async fn prune_revoked_tokens(&self, now: DateTime<Utc>) -> crate::Result<u64> {
        let result = revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::ExpiresAt.lte(now.timestamp()))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }

    /// The kill switch: every token issued to `client_id` up to `now` fails
    /// introspection and the management API from now on (offline validators
    /// see it only when the tokens expire). Returns the moment.
    pub async fn revoke_application_tokens(
        &self,
        scope: &TenantScope<Write>,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> crate::Result<DateTime<Utc>> {
        let txn = self.begin_write().await?;
        let app = self.find_application(&txn, scope, client_id).await?;
        let mut active: application::ActiveModel = app.into();
        active.tokens_revoked_before = Set(Some(now.timestamp()));
        active.updated_at = Set(now.timestamp());
        active.update(&txn).await?;
        AuditRecord::in_scope(scope, "application.revoke_tokens", client_id)
            .with_details(serde_json::json!({"revokedBefore": now.timestamp()}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Client(client_id.to_owned())]).await?;
        Ok(now)
    }
}
