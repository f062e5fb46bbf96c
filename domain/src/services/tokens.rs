//! Issuing access tokens (the client credentials grant), introspecting and
//! revoking them.

use chrono::{DateTime, Utc};
use jsonwebtoken::Validation;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde::Serialize;

use super::Services;
use super::clients::{AuthenticatedClient, oauth_failure};
use super::keyring::TenantRuntime;
use crate::entities::revoked_token;
use crate::oauth::OAuthError;
use crate::oauth::access_token::{AMR_CLIENT_CREDENTIALS, GRANT_TYPE_CLAIM, IssuedClaims, VerifiedClaims};
use crate::oauth::introspection::IntrospectionResponse;
use crate::oauth::scope;
use crate::oauth::token_request::TokenRequest;

/// Room for a typical claims set, so serializing it does not reallocate.
const CLAIMS_CAPACITY: usize = 512;

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

impl Services {
    /// The client credentials grant: authenticate, decide scope and
    /// audience, sign. Makes no database write.
    pub async fn issue_token(
        &self,
        runtime: &TenantRuntime,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let used_basic = request.credentials.method == crate::oauth::client_auth::AuthMethod::ClientSecretBasic;
        let client = self
            .authenticate_client(&runtime.tenant_id, &request.credentials, now)
            .await
            .map_err(|err| err.with_basic_challenge(used_basic))?;
        let requested: Option<Vec<&str>> = request.scope.as_ref().map(|s| s.iter().map(String::as_str).collect());
        let granted = scope::grant(&runtime.default_scope, client.management_access.scopes(), requested.as_deref())?;
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
        let access_token = runtime.signer.sign_jwt(&payload).map_err(|err| oauth_failure(&err))?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: runtime.token_lifetime_secs,
            scope: granted,
        })
    }

    /// Verifies a token of this tenant: signature by a published key,
    /// issuer, expiry, tenant. Does not consult revocation.
    pub fn verify_access_token(
        &self,
        runtime: &TenantRuntime,
        token: &str,
        now: DateTime<Utc>,
    ) -> Option<VerifiedClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (alg, key) = runtime.verification_key(header.kid.as_deref()?)?;
        if header.alg != alg {
            return None;
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&runtime.issuer]);
        validation.validate_aud = false;
        // Expiry is checked against the injected clock below, not the wall clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<VerifiedClaims>(token, key, &validation).ok()?.claims;
        (claims.exp > now.timestamp() && claims.tenant == runtime.tenant_id).then_some(claims)
    }

    async fn is_revoked(&self, jti: &str) -> crate::Result<bool> {
        Ok(revoked_token::Entity::find_by_id(jti.to_owned()).one(self.db()).await?.is_some())
    }

    /// A token that verifies, is not revoked, and whose client still exists.
    pub async fn active_token(
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

    /// RFC 7662 introspection by an authenticated client of the tenant.
    pub async fn introspect(
        &self,
        runtime: &TenantRuntime,
        _caller: &AuthenticatedClient,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<IntrospectionResponse, OAuthError> {
        let Some(claims) = self.active_token(runtime, token, now).await.map_err(|err| oauth_failure(&err))? else {
            return Ok(IntrospectionResponse::inactive());
        };
        Ok(IntrospectionResponse {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            token_type: Some("Bearer"),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            tenant: Some(claims.tenant),
        })
    }

    /// RFC 7009 revocation. RFC 7009 §2.2: "invalid tokens do not cause an
    /// error response", so an unknown or expired token is a success.
    pub async fn revoke(
        &self,
        runtime: &TenantRuntime,
        caller: &AuthenticatedClient,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), OAuthError> {
        let Some(claims) = self.verify_access_token(runtime, token, now) else {
            return Ok(());
        };
        // RFC 7009 §2.1: the server "verifies whether the token was issued to
        // the client making the revocation request. If this validation fails,
        // the request is refused".
        if claims.client_id != caller.client_id {
            return Err(OAuthError::unauthorized_client("the token was issued to another client"));
        }
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            jti: Set(claims.jti),
            tenant_id: Set(claims.tenant),
            client_id: Set(claims.client_id),
            expires_at: Set(claims.exp),
            revoked_at: Set(now.timestamp()),
        })
        .on_conflict(OnConflict::column(revoked_token::Column::Jti).do_nothing().to_owned())
        .do_nothing()
        .exec(self.db())
        .await
        .map_err(|err| oauth_failure(&crate::Error::from(err)))?;
        Ok(())
    }
}
