//! Authorization server metadata (RFC 8414), also served as OpenID discovery.

use serde::Serialize;

use super::client_auth::AuthMethod;
use super::scope::{MANAGEMENT_READ, MANAGEMENT_WRITE, OPENID};
use super::token_request::{GRANT_CLIENT_CREDENTIALS, GRANT_PASSWORD, GRANT_REFRESH_TOKEN};

/// The grants the token endpoint serves.
pub const GRANT_TYPES: [&str; 3] = [GRANT_CLIENT_CREDENTIALS, GRANT_PASSWORD, GRANT_REFRESH_TOKEN];

/// RFC 9449 §5.1 `dpop_signing_alg_values_supported`: the proof algorithms
/// [`crate::dpop`] accepts (named here too because this module also builds
/// for wasm, where the verifier does not).
pub const DPOP_SIGNING_ALGS: [&str; 4] = ["ES256", "EdDSA", "RS256", "PS256"];

/// The claims of Clavis's access tokens and ID tokens together.
pub const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "jti",
    "client_id",
    "azp",
    "tenant",
    "scope",
    "amr",
    "gty",
    "cnf",
    "auth_time",
    "nonce",
    "email",
    "name",
    "given_name",
    "family_name",
];

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
    /// OpenID Connect Discovery §3: "URL of the OP's UserInfo Endpoint".
    pub userinfo_endpoint: String,
    pub grant_types_supported: [&'static str; 3],
    /// Discovery §3 makes this REQUIRED; Clavis has no authorization
    /// endpoint, so it supports no response type.
    pub response_types_supported: [&'static str; 0],
    /// Discovery §3, REQUIRED: "Valid types include pairwise and public."
    /// A user's `sub` is their ID, the same for every client.
    pub subject_types_supported: [&'static str; 1],
    /// Discovery §3, REQUIRED: "The value none MAY be supported but MUST NOT
    /// be used unless the Response Type used returns no ID Token from the
    /// Authorization Endpoint". RS256 only: it is what App ID clients accept.
    pub id_token_signing_alg_values_supported: [&'static str; 1],
    /// RFC 8414 §2: "JSON array containing a list of client authentication
    /// methods supported by this token endpoint."
    pub token_endpoint_auth_methods_supported: [&'static str; 3],
    /// RFC 8414 §2: "JSON array containing a list of the JWS signing
    /// algorithms ... supported by the token endpoint for the signature on
    /// the JWT used to authenticate the client at the token endpoint for the
    /// "private_key_jwt" and "client_secret_jwt" authentication methods."
    pub token_endpoint_auth_signing_alg_values_supported: [&'static str; 4],
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    pub revocation_endpoint_auth_methods_supported: [&'static str; 2],
    /// Discovery §3: "The server MUST support the openid scope value."
    pub scopes_supported: Vec<String>,
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: &'static [&'static str],
    /// RFC 9449 §5.1: the JWS algorithms accepted in DPoP proofs.
    pub dpop_signing_alg_values_supported: [&'static str; 4],
}

const AUTH_METHODS: [&str; 2] = [AuthMethod::ClientSecretBasic.as_str(), AuthMethod::ClientSecretPost.as_str()];

/// The token endpoint also takes `private_key_jwt` assertions.
const TOKEN_AUTH_METHODS: [&str; 3] =
    [AuthMethod::ClientSecretBasic.as_str(), AuthMethod::ClientSecretPost.as_str(), AuthMethod::JwtAssertion.as_str()];

/// What a client may sign its assertion with (`jose::client_verify::ClientAlgorithm`).
pub const ASSERTION_SIGNING_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

impl ServerMetadata {
    pub fn new(issuer: &str, default_scope: &str, signing_algs: Vec<&'static str>) -> Self {
        Self {
            issuer: issuer.to_owned(),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/publickeys"),
            introspection_endpoint: format!("{issuer}/introspect"),
            revocation_endpoint: format!("{issuer}/revoke"),
            userinfo_endpoint: format!("{issuer}/userinfo"),
            grant_types_supported: GRANT_TYPES,
            response_types_supported: [],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["RS256"],
            token_endpoint_auth_methods_supported: TOKEN_AUTH_METHODS,
            token_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGS,
            introspection_endpoint_auth_methods_supported: AUTH_METHODS,
            revocation_endpoint_auth_methods_supported: AUTH_METHODS,
            scopes_supported: vec![
                default_scope.to_owned(),
                OPENID.to_owned(),
                MANAGEMENT_READ.to_owned(),
                MANAGEMENT_WRITE.to_owned(),
            ],
            access_token_signing_alg_values_supported: signing_algs,
            claims_supported: CLAIMS,
            dpop_signing_alg_values_supported: DPOP_SIGNING_ALGS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_every_grant_and_the_openid_fields() {
        let issuer = "https://clavis.example/oauth/v4/t1";
        let doc = serde_json::to_value(ServerMetadata::new(issuer, "appid_default", vec!["RS256", "ES256"])).unwrap();
        assert_eq!(doc["userinfo_endpoint"], format!("{issuer}/userinfo"));
        assert_eq!(
            doc["grant_types_supported"],
            serde_json::json!(["client_credentials", "password", "refresh_token"])
        );
        assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
        assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
        assert_eq!(doc["response_types_supported"], serde_json::json!([]));
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt"])
        );
        assert_eq!(
            doc["token_endpoint_auth_signing_alg_values_supported"],
            serde_json::json!(["RS256", "PS256", "ES256", "EdDSA"])
        );
        assert_eq!(doc["access_token_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256"]));
        let scopes = doc["scopes_supported"].as_array().unwrap();
        assert!(scopes.contains(&"openid".into()) && scopes.contains(&"appid_default".into()));
        let claims = doc["claims_supported"].as_array().unwrap();
        for claim in ["sub", "aud", "auth_time", "amr", "email", "name", "given_name", "family_name", "tenant"] {
            assert!(claims.contains(&claim.into()), "{claim}");
        }
        assert_eq!(doc["dpop_signing_alg_values_supported"], serde_json::json!(["ES256", "EdDSA", "RS256", "PS256"]));
        for endpoint in ["token_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"] {
            assert!(doc[endpoint].as_str().unwrap().starts_with(issuer), "{endpoint}");
        }
    }

    #[test]
    fn the_dpop_algorithms_are_the_ones_the_verifier_accepts() {
        let accepted: Vec<&str> = crate::dpop::ProofAlg::ALL.into_iter().map(|alg| alg.name()).collect();
        assert_eq!(accepted, DPOP_SIGNING_ALGS);
    }
}
