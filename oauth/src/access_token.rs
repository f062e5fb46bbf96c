//! The access token format: a JWT profiled by RFC 9068 with the App ID v4
//! header and claims.

use serde::{Deserialize, Serialize};

use crate::json_out::JsonObject;

/// RFC 9068 §2.1: "Resource servers ... MUST verify that the "typ" header
/// value is "at+jwt"".
pub const TOKEN_TYPE: &str = "at+jwt";
/// `amr` of a token issued to an application for itself.
pub const AMR_CLIENT_CREDENTIALS: &str = "appid_client_credentials";
/// `amr` of a token issued for a Cloud Directory user (the password grant):
/// the user signed in with the directory's username and password.
pub const AMR_CLOUD_DIRECTORY: &str = "cloud_directory";
/// `gty` of a client credentials token.
pub const GRANT_TYPE_CLAIM: &str = "client-credentials";
/// `gty` of a token issued by the password grant (and its refreshes).
pub const GRANT_TYPE_PASSWORD_CLAIM: &str = "password";

/// The JOSE header, serialized once per signing key.
pub fn header_json(alg: &str, kid: &str) -> String {
    serde_json::json!({"alg": alg, "kid": kid, "typ": TOKEN_TYPE, "ver": 4}).to_string()
}

/// RFC 9449 §6.1: a DPoP-bound token's `cnf` claim names the SHA-256
/// thumbprint of the key the holder proves possession of.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation<'a> {
    pub jkt: &'a str,
}

/// A verified token's `cnf`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifiedConfirmation {
    pub jkt: String,
}

/// The claims Clavis signs, borrowed from the request state to avoid copies.
#[derive(Debug)]
pub struct IssuedClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub client_id: &'a str,
    pub azp: &'a str,
    pub aud: &'a [&'a str],
    pub iat: i64,
    pub exp: i64,
    pub jti: &'a str,
    pub tenant: &'a str,
    pub scope: &'a str,
    /// RFC 8176 authentication method: [`AMR_CLIENT_CREDENTIALS`] or
    /// [`AMR_CLOUD_DIRECTORY`].
    pub amr: [&'a str; 1],
    /// How the token was obtained: [`GRANT_TYPE_CLAIM`] or
    /// [`GRANT_TYPE_PASSWORD_CLAIM`].
    pub gty: &'a str,
    /// The DPoP key the token is bound to; absent for a Bearer token.
    pub cnf: Option<Confirmation<'a>>,
}

impl IssuedClaims<'_> {
    /// Appends the claims, as the JWS payload, to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut claims = JsonObject::begin(out);
        claims
            .string("iss", self.iss)
            .string("sub", self.sub)
            .string("client_id", self.client_id)
            .string("azp", self.azp)
            .strings("aud", self.aud)
            .integer("iat", self.iat)
            .integer("exp", self.exp)
            .string("jti", self.jti)
            .string("tenant", self.tenant)
            .string("scope", self.scope)
            .strings("amr", &self.amr)
            .string("gty", self.gty);
        if let Some(cnf) = self.cnf {
            claims.object("cnf", |confirmation| {
                confirmation.string("jkt", cnf.jkt);
            });
        }
        claims.end();
    }
}

/// The claims of a token Clavis verified (for introspection and the
/// management API).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifiedClaims {
    pub iss: String,
    pub sub: String,
    pub client_id: String,
    pub aud: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub tenant: String,
    pub scope: String,
    /// Present when the token is DPoP-bound (RFC 9449 §6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<VerifiedConfirmation>,
}

impl VerifiedClaims {
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope.split(' ').any(|scope| scope == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_json(claims: &IssuedClaims<'_>) -> serde_json::Value {
        let mut out = Vec::new();
        claims.write_json(&mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn header_carries_type_and_version() {
        let header: serde_json::Value = serde_json::from_str(&header_json("RS256", "k1")).unwrap();
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["ver"], 4);
        assert_eq!(header["kid"], "k1");
    }

    #[test]
    fn audience_is_always_an_array() {
        let aud = ["client"];
        let claims = IssuedClaims {
            iss: "i",
            sub: "s",
            client_id: "s",
            azp: "s",
            aud: &aud,
            iat: 1,
            exp: 2,
            jti: "j",
            tenant: "t",
            scope: "appid_default",
            amr: [AMR_CLIENT_CREDENTIALS],
            gty: GRANT_TYPE_CLAIM,
            cnf: None,
        };
        let json: serde_json::Value = as_json(&claims);
        assert_eq!(json["aud"], serde_json::json!(["client"]));
        assert_eq!(json["amr"], serde_json::json!(["appid_client_credentials"]));
        assert!(json.get("cnf").is_none(), "a Bearer token has no cnf");
        let bound = IssuedClaims { cnf: Some(Confirmation { jkt: "thumb" }), ..claims };
        let json: serde_json::Value = as_json(&bound);
        assert_eq!(json["cnf"], serde_json::json!({"jkt": "thumb"}));
        let verified: VerifiedClaims = serde_json::from_value(json).unwrap();
        assert_eq!(verified.cnf, Some(VerifiedConfirmation { jkt: "thumb".into() }));
    }

    #[test]
    fn the_payload_names_every_claim_once_in_a_fixed_order() {
        let aud = ["app", "https://api.example.com"];
        let claims = IssuedClaims {
            iss: "https://id.example.com/oauth/v4/t\"1",
            sub: "app-1",
            client_id: "app-1",
            azp: "app-1",
            aud: &aud,
            iat: 1_700_000_000,
            exp: 1_700_003_600,
            jti: "0f3c",
            tenant: "t1",
            scope: "read write",
            amr: [AMR_CLIENT_CREDENTIALS],
            gty: GRANT_TYPE_CLAIM,
            cnf: Some(Confirmation { jkt: "thumb" }),
        };
        let mut out = Vec::new();
        claims.write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"iss":"https://id.example.com/oauth/v4/t\"1","sub":"app-1","client_id":"app-1","azp":"app-1","#,
                r#""aud":["app","https://api.example.com"],"iat":1700000000,"exp":1700003600,"jti":"0f3c","#,
                r#""tenant":"t1","scope":"read write","amr":["appid_client_credentials"],"gty":"client-credentials","#,
                r#""cnf":{"jkt":"thumb"}}"#
            )
        );
    }

    #[test]
    fn a_user_token_names_the_directory_and_the_password_grant() {
        let aud = ["client"];
        let claims = IssuedClaims {
            iss: "i",
            sub: "user-id",
            client_id: "client",
            azp: "client",
            aud: &aud,
            iat: 1,
            exp: 2,
            jti: "j",
            tenant: "t",
            scope: "appid_default openid",
            amr: [AMR_CLOUD_DIRECTORY],
            gty: GRANT_TYPE_PASSWORD_CLAIM,
            cnf: None,
        };
        let json: serde_json::Value = as_json(&claims);
        assert_eq!(json["amr"], serde_json::json!(["cloud_directory"]));
        assert_eq!(json["gty"], "password");
        assert_eq!(json["sub"], "user-id");
    }
}
