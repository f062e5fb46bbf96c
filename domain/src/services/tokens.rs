//! Verifying the tenant's own access tokens (for introspection and the
//! management API): signature, issuer, expiry, tenant, revocation, and
//! whether the client still exists.

use chrono::{DateTime, Utc};
use clavis_oauth::access_token::VerifiedClaims;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::Services;
use super::keyring::TenantRuntime;
use crate::entities::revoked_token;

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
        if self.client_access(&runtime.tenant_id, &claims.client_id, now).await?.is_none() {
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
}
