//! Introspection (RFC 7662) and revocation (RFC 7009): requests about one
//! token, made by an authenticated client of the tenant. They share one
//! client-authentication step, throttled like the token endpoint's, which
//! does not count as a token issued.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::client_auth::authenticate_request;
use clavis_oauth::introspection::{IntrospectionResponse, token_param};
use clavis_oauth::request::{OAuthRequest, RawRequest};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};

use super::Services;
use super::clients::{AuthenticatedClient, oauth_failure};
use super::keyring::TenantRuntime;
use crate::entities::revoked_token;

/// A request about one token whose tenant is known and whose client has
/// authenticated.
struct TokenCall {
    runtime: Arc<TenantRuntime>,
    caller: AuthenticatedClient,
    token: String,
}

impl Services {
    async fn token_call(
        &self,
        tenant_id: &str,
        raw: RawRequest<'_>,
        client_addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<TokenCall, OAuthError> {
        let runtime = self.oauth_tenant(tenant_id, now).await?;
        let realm = runtime.issuer.as_str();
        let request = OAuthRequest::parse(&raw).map_err(|err| err.in_realm(realm))?;
        let credentials = authenticate_request(request.basic, &request.params).map_err(|err| err.in_realm(realm))?;
        let caller = self
            .authenticate_throttled(&runtime, &credentials, client_addr, now)
            .await
            .map_err(|err| err.in_realm(realm))?
            .client;
        let token = token_param(&request.params).map_err(|err| err.in_realm(realm))?.to_owned();
        Ok(TokenCall { runtime, caller, token })
    }

    /// RFC 7662 introspection by an authenticated client of the tenant.
    pub async fn introspect(
        &self,
        tenant_id: &str,
        raw: RawRequest<'_>,
        client_addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<IntrospectionResponse, OAuthError> {
        let call = self.token_call(tenant_id, raw, client_addr, now).await?;
        let Some(claims) =
            self.active_token(&call.runtime, &call.token, now).await.map_err(|err| oauth_failure(&err))?
        else {
            return Ok(IntrospectionResponse::inactive());
        };
        // RFC 7662 §4: "the authorization server MUST determine whether or
        // not the token can be used at the protected resource making the
        // introspection call" -- only the token's own client and the
        // protected application it names learn anything about it.
        let caller = &*call.caller.client_id;
        if claims.client_id != caller && !claims.aud.iter().any(|aud| aud == caller) {
            return Ok(IntrospectionResponse::inactive());
        }
        Ok(IntrospectionResponse {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            // RFC 9449 §6.2: the type of a bound token is DPoP.
            token_type: Some(super::client_credentials::token_type(claims.cnf.as_ref().map(|cnf| cnf.jkt.as_str()))),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            tenant: Some(claims.tenant),
            cnf: claims.cnf,
        })
    }

    /// RFC 7009 revocation. RFC 7009 §2.2: "invalid tokens do not cause an
    /// error response", so an unknown or expired token is a success.
    pub async fn revoke(
        &self,
        tenant_id: &str,
        raw: RawRequest<'_>,
        client_addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), OAuthError> {
        let call = self.token_call(tenant_id, raw, client_addr, now).await?;
        let Some(claims) = self.verify_access_token(&call.runtime, &call.token, now) else {
            // Not an access token of ours: perhaps a refresh token, whose
            // family is revoked; anything else is an invalid token.
            return match self.revoke_refresh_token(&call.runtime.tenant_id, &call.caller.client_id, &call.token).await {
                Ok(_) => Ok(()),
                Err(crate::Error::Forbidden) => {
                    Err(OAuthError::unauthorized_client("the token was issued to another client"))
                }
                Err(err) => Err(oauth_failure(&err)),
            };
        };
        // RFC 7009 §2.1: the server "verifies whether the token was issued to
        // the client making the revocation request. If this validation fails,
        // the request is refused".
        if *claims.client_id != *call.caller.client_id {
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
