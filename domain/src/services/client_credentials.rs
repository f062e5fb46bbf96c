//! The client credentials grant (RFC 6749 §4.4): scope and audience for an
//! authenticated client, signed with the tenant's key. No database access.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::access_token::{AMR_CLIENT_CREDENTIALS, GRANT_TYPE_CLAIM, IssuedClaims};
use clavis_oauth::scope;
use clavis_oauth::token_request::TokenRequest;
use serde::Serialize;

use super::Services;
use super::auth::management_scopes;
use super::clients::{AuthenticatedClient, oauth_failure};
use super::keyring::TenantRuntime;

/// Room for a typical claims set, so serializing it does not reallocate.
const CLAIMS_CAPACITY: usize = 512;

/// RFC 6749 §5.1 successful response.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

impl Services {
    /// Decides scope and audience for `client` and signs the token.
    pub(crate) fn issue_client_credentials(
        &self,
        runtime: &TenantRuntime,
        client: &AuthenticatedClient,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let requested: Option<Vec<&str>> = request.scope.as_ref().map(|s| s.iter().map(String::as_str).collect());
        let entitled = management_scopes(client.management_access);
        let granted = scope::grant(&runtime.default_scope, entitled, requested.as_deref())?;
        let mut audience: Vec<&str> = Vec::with_capacity(1 + request.audiences.len());
        audience.push(&client.client_id);
        audience.extend(request.audiences.iter().map(String::as_str).filter(|aud| *aud != client.client_id));
        // A random (v4) UUID from the thread-local CSPRNG: no system call and
        // no allocation per token.
        let mut jti_buf = [0u8; uuid::fmt::Simple::LENGTH];
        let jti = uuid::Builder::from_random_bytes(rand::random()).into_uuid().simple().encode_lower(&mut jti_buf);
        let iat = now.timestamp();
        let claims = IssuedClaims {
            iss: &runtime.issuer,
            sub: &client.client_id,
            client_id: &client.client_id,
            azp: &client.client_id,
            aud: &audience,
            iat,
            exp: iat + runtime.token_lifetime_secs,
            jti,
            tenant: &runtime.tenant_id,
            scope: &granted,
            amr: [AMR_CLIENT_CREDENTIALS],
            gty: GRANT_TYPE_CLAIM,
        };
        let mut payload = Vec::with_capacity(CLAIMS_CAPACITY);
        serde_json::to_writer(&mut payload, &claims).map_err(|_| OAuthError::server_error())?;
        let access_token =
            runtime.signer.sign_jwt(&payload).map_err(|err| oauth_failure(&crate::Error::internal(err)))?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: runtime.token_lifetime_secs,
            scope: granted,
        })
    }
}
