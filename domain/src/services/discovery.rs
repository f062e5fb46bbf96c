//! What a tenant publishes: its JWKS and its server metadata (RFC 8414,
//! OpenID discovery).

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::metadata::ServerMetadata;

use super::Services;

impl Services {
    /// The tenant's JWKS document, serialized once per key change.
    pub async fn jwks_json(&self, tenant_id: &str, now: DateTime<Utc>) -> Result<String, OAuthError> {
        Ok(self.oauth_tenant(tenant_id, now).await?.jwks_json.clone())
    }

    /// The tenant's authorization server metadata.
    pub async fn server_metadata(&self, tenant_id: &str, now: DateTime<Utc>) -> Result<ServerMetadata, OAuthError> {
        let runtime = self.oauth_tenant(tenant_id, now).await?;
        let mut metadata = ServerMetadata::new(&runtime.issuer, &runtime.default_scope, runtime.published_algs.clone());
        // ID tokens are signed with the active key, like access tokens: the
        // default RS256 unless the tenant chose another algorithm.
        metadata.id_token_signing_alg_values_supported = [runtime.signer.alg().name()];
        Ok(metadata)
    }
}
