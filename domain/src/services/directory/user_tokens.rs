//! The tokens of a signed-in Cloud Directory user: an access token for the
//! application the user signs in to (or the protected application named by
//! `audience`), with the scopes the user's roles grant there, and an
//! OpenID Connect ID token for the client.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::access_token::{AMR_CLOUD_DIRECTORY, Confirmation, GRANT_TYPE_PASSWORD_CLAIM, IssuedClaims};
use clavis_oauth::id_token::IdTokenClaims;
use clavis_oauth::scope;

use super::full_name;
use crate::entities::directory_user;
use crate::services::Services;
use crate::services::client_credentials::{TokenResponse, token_type};
use crate::services::clients::oauth_failure;
use crate::services::keyring::TenantRuntime;

/// OpenID Connect Core §3.1.2.1: a request for an ID token includes the
/// `openid` scope value; the password grant always returns one.
pub(super) const OPENID_SCOPE: &str = "openid";

/// What the user signs in for: kept with a refresh token so every
/// refreshed token is for the same application and at most these scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UserGrant {
    /// The application the access token is for (a client ID).
    pub application: String,
    /// The audience as the client named it, if it named one.
    pub audience: Option<String>,
    /// The scopes the client asked for; `None` means all the roles grant.
    pub requested: Option<Vec<String>>,
}

/// RFC 8707 §2 and the client credentials grant's rule: one audience at
/// most, an application of the tenant, named by client ID or identifier.
/// Users never get management tokens.
pub(super) fn user_target(
    runtime: &TenantRuntime,
    client_id: &str,
    audiences: &[String],
    requested: Option<Vec<String>>,
) -> Result<UserGrant, OAuthError> {
    let audience = match audiences {
        [] => return Ok(UserGrant { application: client_id.to_owned(), audience: None, requested }),
        [one] => one,
        _ => return Err(OAuthError::invalid_target("a token can name only one audience")),
    };
    if *audience == runtime.management_url {
        return Err(OAuthError::invalid_target("user tokens are not issued for the management API"));
    }
    let application = runtime.by_identifier.get(audience).unwrap_or(audience).clone();
    Ok(UserGrant { application, audience: Some(audience.clone()), requested })
}

/// How the token request proved itself: when the user signed in, and the
/// DPoP key thumbprint the access token is bound to, if any.
#[derive(Debug, Clone, Copy)]
pub(super) struct Proven<'a> {
    pub auth_time: i64,
    pub bound_to: Option<&'a str>,
}

impl Services {
    /// Signs the access and ID tokens of `user` for `client_id`, the access
    /// token bound to the DPoP key thumbprint `proven.bound_to` if any.
    /// `invalid_target` when an audience other than the client itself
    /// grants the user nothing (an unknown audience looks the same).
    pub(super) async fn sign_user_tokens(
        &self,
        runtime: &TenantRuntime,
        client_id: &str,
        user: &directory_user::Model,
        grant: &UserGrant,
        proven: Proven<'_>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let entitled = self.user_scopes_on(&user.id, &grant.application).await.map_err(|err| oauth_failure(&err))?;
        if grant.application != client_id && entitled.is_empty() {
            return Err(OAuthError::invalid_target("unknown audience, or the user's roles grant nothing on it"));
        }
        let requested: Option<Vec<&str>> = grant.requested.as_ref().map(|s| s.iter().map(String::as_str).collect());
        let mut granted = scope::grant(&runtime.default_scope, &entitled, requested.as_deref());
        if !granted.split(' ').any(|s| s == OPENID_SCOPE) {
            granted.push(' ');
            granted.push_str(OPENID_SCOPE);
        }
        let mut audience = vec![grant.application.as_str()];
        audience.extend(runtime.identifier_of.get(&grant.application).map(String::as_str));
        let Proven { auth_time, bound_to } = proven;
        let iat = now.timestamp();
        let exp = iat + runtime.token_lifetime_secs;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let access = IssuedClaims {
            iss: &runtime.issuer,
            sub: &user.profile_id,
            client_id,
            azp: client_id,
            aud: &audience,
            iat,
            exp,
            jti: &jti,
            tenant: &runtime.tenant_id,
            scope: &granted,
            amr: [AMR_CLOUD_DIRECTORY],
            gty: GRANT_TYPE_PASSWORD_CLAIM,
            cnf: bound_to.map(|jkt| Confirmation { jkt }),
        };
        let name = full_name(&user.given_name, &user.family_name);
        let id_audience = [client_id];
        let identity = IdTokenClaims {
            iss: &runtime.issuer,
            sub: &user.profile_id,
            aud: &id_audience,
            azp: client_id,
            exp,
            iat,
            auth_time,
            amr: [AMR_CLOUD_DIRECTORY],
            email: &user.email,
            name: &name,
            given_name: &user.given_name,
            family_name: &user.family_name,
            tenant: &runtime.tenant_id,
            nonce: None,
        };
        let failed = |err| oauth_failure(&crate::Error::internal(err));
        let mut access_payload = Vec::new();
        access.write_json(&mut access_payload);
        let identity_payload = serde_json::to_vec(&identity).map_err(|_| OAuthError::server_error())?;
        let access_token = runtime.signer.sign_jwt(&access_payload).map_err(failed)?;
        let id_token = runtime.signer.sign_id_token(&identity_payload).map_err(failed)?;
        Ok(TokenResponse {
            access_token,
            token_type: token_type(bound_to),
            expires_in: runtime.token_lifetime_secs,
            scope: granted,
            id_token: Some(id_token),
            refresh_token: None,
            dpop_nonce: None,
        })
    }
}
