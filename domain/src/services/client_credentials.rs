//! The client credentials grant (RFC 6749 §4.4): the token's audience and
//! scopes for an authenticated client, signed with the tenant's key. No
//! database access: what the caller's roles grant is in its cached entry.

use chrono::{DateTime, Utc};
use clavis_oauth::OAuthError;
use clavis_oauth::access_token::{AMR_CLIENT_CREDENTIALS, Confirmation, GRANT_TYPE_CLAIM, IssuedClaims};
use clavis_oauth::scope;
use clavis_oauth::token_request::TokenRequest;
use clavis_oauth::token_response::TokenAnswer;
use clavis_types::ManagementAccess;

use super::Services;
use super::auth::management_scopes;
use super::clients::{AuthenticatedClient, Grant, oauth_failure};
use super::keyring::TenantRuntime;

/// Room for a typical claims set, so serializing it does not reallocate.
const CLAIMS_CAPACITY: usize = 512;

/// RFC 6749 §5.1 successful response.
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// The password and refresh-token grants' OpenID Connect ID token.
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    /// RFC 9449 §8: the `DPoP-Nonce` header of the response, when the tenant
    /// requires nonces (a header, not part of the body).
    pub dpop_nonce: Option<String>,
}

impl TokenResponse {
    /// The response body.
    pub fn to_json(&self) -> Vec<u8> {
        TokenAnswer {
            access_token: &self.access_token,
            token_type: self.token_type,
            expires_in: self.expires_in,
            scope: &self.scope,
            id_token: self.id_token.as_deref(),
            refresh_token: self.refresh_token.as_deref(),
        }
        .to_json()
    }
}

/// `token_type` of a response: RFC 9449 §5.1 "DPoP" for a bound token.
pub(crate) fn token_type(bound_to: Option<&str>) -> &'static str {
    if bound_to.is_some() { "DPoP" } else { "Bearer" }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("dpop_nonce", &self.dpop_nonce)
            .finish()
    }
}

/// Whom a token is for.
enum Target<'a> {
    /// No audience asked for: the caller itself, with the default scope only.
    Caller,
    /// The tenant's management API.
    Management,
    /// A protected application the caller's roles grant scopes on.
    Protected(&'a Grant),
}

/// RFC 8707 §2: "If the authorization server fails to parse the provided
/// value(s) or does not consider the resource(s) acceptable, the
/// authorization server MUST reject the request with an error response
/// ... "invalid_target"". A token names at most one protected application,
/// as App ID's do; an audience the caller's roles grant nothing on is as
/// unacceptable as an unknown one, and the answer does not tell them apart.
fn target<'a>(
    runtime: &TenantRuntime,
    client: &'a AuthenticatedClient,
    audiences: &[String],
) -> Result<Target<'a>, OAuthError> {
    let audience = match audiences {
        [] => return Ok(Target::Caller),
        [one] => one.as_str(),
        _ => return Err(OAuthError::invalid_target("a token can name only one audience")),
    };
    if audience == runtime.management_url {
        return if client.management_access == ManagementAccess::None {
            Err(OAuthError::invalid_target("the application has no management access"))
        } else {
            Ok(Target::Management)
        };
    }
    let client_id = runtime.by_identifier.get(audience).map_or(audience, String::as_str);
    client
        .grants
        .iter()
        .find(|grant| grant.audience == client_id)
        .map(Target::Protected)
        .ok_or_else(|| OAuthError::invalid_target("unknown audience, or the application's roles grant nothing on it"))
}

impl Services {
    /// Decides audience and scope for `client` and signs the token, bound
    /// to the DPoP key thumbprint `bound_to` if there is one.
    pub(crate) fn issue_client_credentials(
        &self,
        runtime: &TenantRuntime,
        client: &AuthenticatedClient,
        request: &TokenRequest,
        bound_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let requested: Option<Vec<&str>> = request.scope.as_ref().map(|s| s.iter().map(String::as_str).collect());
        let requested = requested.as_deref();
        // At most two audiences (a protected application's client ID and its
        // identifier), so no vector.
        let (audience, granted): ([&str; 2], String) = match target(runtime, client, &request.audiences)? {
            Target::Caller => ([&client.client_id, ""], runtime.default_scope.clone()),
            Target::Management => {
                let entitled = management_scopes(client.management_access);
                ([&runtime.management_url, ""], scope::grant(&runtime.default_scope, entitled, requested))
            }
            Target::Protected(grant) => {
                let identifier = runtime.identifier_of.get(&grant.audience).map_or("", String::as_str);
                ([&grant.audience, identifier], scope::grant(&runtime.default_scope, &grant.scopes, requested))
            }
        };
        let audience = if audience[1].is_empty() { &audience[..1] } else { &audience[..] };
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
            aud: audience,
            iat,
            exp: iat + runtime.token_lifetime_secs,
            jti,
            tenant: &runtime.tenant_id,
            scope: &granted,
            amr: [AMR_CLIENT_CREDENTIALS],
            gty: GRANT_TYPE_CLAIM,
            cnf: bound_to.map(|jkt| Confirmation { jkt }),
        };
        let mut payload = Vec::with_capacity(CLAIMS_CAPACITY);
        claims.write_json(&mut payload);
        let access_token =
            runtime.signer.sign_jwt(&payload).map_err(|err| oauth_failure(&crate::Error::internal(err)))?;
        Ok(TokenResponse {
            access_token,
            token_type: token_type(bound_to),
            expires_in: runtime.token_lifetime_secs,
            scope: granted,
            id_token: None,
            refresh_token: None,
            dpop_nonce: None,
        })
    }
}
