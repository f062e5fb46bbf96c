//! Authorization server metadata (RFC 8414), also served as OpenID discovery.

use serde::Serialize;

use super::client_auth::AuthMethod;
use super::scope::{MANAGEMENT_READ, MANAGEMENT_WRITE};

/// The metadata document of one tenant.
#[derive(Debug, Serialize)]
pub struct ServerMetadata {
    /// RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the
    /// authorization server's issuer identifier value".
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub grant_types_supported: [&'static str; 1],
    pub response_types_supported: [&'static str; 0],
    pub token_endpoint_auth_methods_supported: [&'static str; 2],
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    pub revocation_endpoint_auth_methods_supported: [&'static str; 2],
    pub scopes_supported: Vec<String>,
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: [&'static str; 12],
}

const AUTH_METHODS: [&str; 2] = [AuthMethod::ClientSecretBasic.as_str(), AuthMethod::ClientSecretPost.as_str()];

impl ServerMetadata {
    pub fn new(issuer: &str, default_scope: &str, signing_algs: Vec<&'static str>) -> Self {
        Self {
            issuer: issuer.to_owned(),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/publickeys"),
            introspection_endpoint: format!("{issuer}/introspect"),
            revocation_endpoint: format!("{issuer}/revoke"),
            grant_types_supported: ["client_credentials"],
            response_types_supported: [],
            token_endpoint_auth_methods_supported: AUTH_METHODS,
            introspection_endpoint_auth_methods_supported: AUTH_METHODS,
            revocation_endpoint_auth_methods_supported: AUTH_METHODS,
            scopes_supported: vec![default_scope.to_owned(), MANAGEMENT_READ.to_owned(), MANAGEMENT_WRITE.to_owned()],
            access_token_signing_alg_values_supported: signing_algs,
            claims_supported: [
                "iss",
                "sub",
                "client_id",
                "azp",
                "aud",
                "iat",
                "exp",
                "jti",
                "tenant",
                "scope",
                "amr",
                "gty",
            ],
        }
    }
}
