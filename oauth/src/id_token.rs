//! The identity of a signed-in Cloud Directory user: the ID token (OpenID
//! Connect Core 1.0 §2) that the password grant returns beside the access
//! token, and the userinfo response (§5.3.2).

use serde::Serialize;

/// The `typ` of an ID token's header: a plain JWT (RFC 7519 §5.1), unlike
/// the access token's `at+jwt`.
pub const ID_TOKEN_TYPE: &str = "JWT";

/// The JOSE header of an ID token, with the `ver: 4` that App ID clients
/// read from both of the tokens they are given.
pub fn id_token_header_json(alg: &str, kid: &str) -> String {
    serde_json::json!({"alg": alg, "kid": kid, "typ": ID_TOKEN_TYPE, "ver": 4}).to_string()
}

/// The claims of an ID token, borrowed from the request state.
///
/// OpenID Connect Core §2: "iss REQUIRED", "sub REQUIRED", "aud REQUIRED.
/// Audience(s) that this ID Token is intended for. It MUST contain the OAuth
/// 2.0 client_id of the Relying Party", "exp REQUIRED", "iat REQUIRED",
/// and `auth_time`, `nonce` and `amr` as the server knows them.
#[derive(Debug, Serialize)]
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    /// The user's ID.
    pub sub: &'a str,
    /// Always an array, even of one: clients check that it contains their
    /// client ID, and some accept only an array.
    pub aud: &'a [&'a str],
    /// §2: "If present, it MUST contain the OAuth 2.0 Client ID of this
    /// party."
    pub azp: &'a str,
    pub exp: i64,
    pub iat: i64,
    /// When the user last entered their password (seconds since the epoch).
    pub auth_time: i64,
    pub amr: [&'a str; 1],
    #[serde(skip_serializing_if = "is_empty")]
    pub email: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub given_name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub family_name: &'a str,
    pub tenant: &'a str,
    /// §2: "If present in the Authentication Request, Authorization Servers
    /// MUST include a nonce Claim in the ID Token"; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
}

/// The userinfo response (OpenID Connect Core §5.3.2): "The sub (subject)
/// Claim MUST always be returned in the UserInfo Response", and §5.3.2
/// "If a Claim is not returned, that Claim Name SHOULD be omitted from the
/// JSON object": an empty name is left out, never sent as `""`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UserinfoResponse<'a> {
    pub sub: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub email: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub given_name: &'a str,
    #[serde(skip_serializing_if = "is_empty")]
    pub family_name: &'a str,
}

// serde's `skip_serializing_if` passes a reference to the field.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_empty(value: &&str) -> bool {
    value.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_token::AMR_CLOUD_DIRECTORY;

    fn claims(nonce: Option<&'static str>) -> IdTokenClaims<'static> {
        IdTokenClaims {
            iss: "https://clavis.example/oauth/v4/t1",
            sub: "user-1",
            aud: &["client-1"],
            azp: "client-1",
            exp: 1_700_003_600,
            iat: 1_700_000_000,
            auth_time: 1_700_000_000,
            amr: [AMR_CLOUD_DIRECTORY],
            email: "a@b.c",
            name: "Ada Lovelace",
            given_name: "Ada",
            family_name: "",
            tenant: "t1",
            nonce,
        }
    }

    #[test]
    fn header_is_a_plain_jwt_of_version_4() {
        let header: serde_json::Value = serde_json::from_str(&id_token_header_json("RS256", "k1")).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT", "ver": 4}));
    }

    #[test]
    fn claims_have_the_oidc_shapes() {
        let json = serde_json::to_value(claims(None)).unwrap();
        assert_eq!(json["aud"], serde_json::json!(["client-1"]));
        assert_eq!(json["azp"], "client-1");
        assert_eq!(json["amr"], serde_json::json!(["cloud_directory"]));
        for name in ["iss", "sub", "exp", "iat", "auth_time", "email", "name", "given_name", "tenant"] {
            assert!(json.get(name).is_some(), "{name} missing: {json}");
        }
        assert!(json["exp"].is_i64() && json["auth_time"].is_i64());
        assert!(json.get("nonce").is_none(), "no nonce was requested");
        assert!(json.get("family_name").is_none(), "an empty claim is omitted");
        assert_eq!(serde_json::to_value(claims(Some("n-0S6"))).unwrap()["nonce"], "n-0S6");
    }

    #[test]
    fn userinfo_leaves_out_what_the_user_has_not_given() {
        let full = UserinfoResponse { sub: "u", email: "a@b.c", name: "A B", given_name: "A", family_name: "B" };
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            serde_json::json!({"sub": "u", "email": "a@b.c", "name": "A B", "given_name": "A", "family_name": "B"})
        );
        let bare = UserinfoResponse { sub: "u", email: "", name: "", given_name: "", family_name: "" };
        assert_eq!(serde_json::to_value(&bare).unwrap(), serde_json::json!({"sub": "u"}));
    }
}
