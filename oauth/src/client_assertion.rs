//! The claims of a `private_key_jwt` client assertion (RFC 7523 §3 and
//! §2.2, OpenID Connect Core §9), checked once its signature has been:
//! pure rules over the claims set and a `now` the caller passes in.
//!
//! Every failure is `invalid_client` (RFC 7523 §3.2: "If the client JWT is
//! not valid, or its subject confirmation requirements are not met, the
//! authorization server MUST construct an error response ... the value of
//! the "error" parameter MUST be the "invalid_client" error code"), each
//! with its own description, so a client's developer learns which rule the
//! assertion broke. The rules every JWT shares (`exp`, `nbf`, `iat`,
//! audience) are [`crate::jwt_claims`]'s; this module adds the client's own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use crate::OAuthError;
use crate::jwt_claims::{ClaimError, RegisteredClaims};

/// The longest life an assertion may claim, from `iat` (or from now when it
/// has no `iat`) to `exp`: an assertion is made for one request.
pub const MAX_LIFETIME_SECS: i64 = 300;

/// How far ahead of this server's clock a client's clock may run.
pub const CLOCK_SKEW_SECS: i64 = 30;

/// The longest `jti` accepted (it is stored until `exp`).
pub const MAX_JTI_LEN: usize = 256;

/// What the assertion must name.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The client the request authenticates.
    pub client_id: &'a str,
    /// The token endpoint URL of the tenant.
    pub token_endpoint: &'a str,
    /// The issuer URL of the tenant.
    pub issuer: &'a str,
}

/// An assertion whose claims checked out: what single use needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub jti: String,
    /// Unix seconds: the `jti` must stay spent until then.
    pub exp: i64,
}

fn fail(description: &'static str) -> OAuthError {
    OAuthError::invalid_client(description)
}

/// A broken shared rule in this endpoint's words.
fn refused(err: ClaimError) -> OAuthError {
    fail(match err {
        ClaimError::NotAnObject => "assertion claims are not a JSON object",
        ClaimError::MissingExp => "assertion has no exp",
        ClaimError::ExpNotANumber => "assertion exp must be a number",
        ClaimError::Expired => "assertion expired",
        ClaimError::NbfNotANumber => "assertion nbf must be a number",
        ClaimError::NotYetValid => "assertion is not valid yet (nbf)",
        ClaimError::IatNotANumber => "assertion iat must be a number",
        ClaimError::IssuedInFuture => "assertion iat is in the future",
        ClaimError::MissingAud => "assertion has no aud",
        ClaimError::AudNotStrings => "assertion audience does not name this token endpoint",
    })
}

/// The `iss` of a JWS's payload, read without verifying anything: it only
/// chooses whose keys verify the assertion (the client's own, or a trusted
/// issuer's).
pub fn unverified_issuer(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    #[derive(Deserialize)]
    struct Issuer {
        iss: String,
    }
    let issuer: Issuer = serde_json::from_slice(&json).ok()?;
    Some(issuer.iss)
}

/// Checks the claims set `payload` (JSON) of a verified assertion at `now`
/// (Unix seconds).
pub fn check_claims(payload: &str, expected: &Expected<'_>, now: i64) -> Result<Accepted, OAuthError> {
    let claims = RegisteredClaims::parse(payload).map_err(refused)?;

    // OpenID Connect Core §9: "iss REQUIRED. Issuer. This MUST contain the
    // client_id of the OAuth Client."
    match claims.iss.as_ref() {
        None => return Err(fail("assertion has no iss")),
        Some(iss) if iss.as_str() != Some(expected.client_id) => {
            return Err(fail("assertion iss must be the client ID"));
        }
        Some(_) => {}
    }
    // RFC 7523 §3 B: "For client authentication, the subject MUST be the
    // "client_id" of the OAuth client."
    match claims.sub.as_ref() {
        None => return Err(fail("assertion has no sub")),
        Some(sub) if sub.as_str() != Some(expected.client_id) => {
            return Err(fail("assertion sub must be the client ID"));
        }
        Some(_) => {}
    }
    // RFC 7523 §3 C: "The JWT MUST contain an "aud" (audience) claim
    // containing a value that identifies the authorization server as an
    // intended audience. The token endpoint URL of the authorization server
    // MAY be used as a value for an "aud" element ... The authorization
    // server MUST reject any JWT that does not contain its own identity as
    // the intended audience."
    let audience = claims.audience().map_err(refused)?;
    if !audience.contains(expected.token_endpoint) && !audience.contains(expected.issuer) {
        return Err(fail("assertion audience does not name this token endpoint"));
    }
    // RFC 7523 §3 D: "The JWT MUST contain an "exp" (expiration time) claim
    // that limits the time window during which the JWT can be used. The
    // authorization server MUST reject any JWT with an expiration time that
    // has passed".
    let exp = claims.expiry(now).map_err(refused)?;
    // RFC 7523 §3 E: "The JWT MAY contain an "nbf" (not before) claim that
    // identifies the time before which the token MUST NOT be accepted for
    // processing."
    claims.not_before(now, CLOCK_SKEW_SECS).map_err(refused)?;
    // RFC 7523 §3 F: "The JWT MAY contain an "iat" (issued at) claim that
    // identifies the time at which the JWT was issued." One from the future
    // is refused; one from long ago is bounded by the lifetime rule below.
    let iat = claims.issued_at(now, CLOCK_SKEW_SECS).map_err(refused)?;
    if exp - iat.unwrap_or(now) > MAX_LIFETIME_SECS {
        return Err(fail("assertion lives too long: exp must be at most 5 minutes after iat"));
    }
    // OpenID Connect Core §9: "jti REQUIRED. JWT ID. A unique identifier for
    // the token, which can be used to prevent reuse of the token." RFC 7523
    // §3 G lets the server keep "the set of used "jti" values for the length
    // of time for which the JWT would be considered valid based on the
    // applicable "exp" instant", which is what the caller does with it.
    let jti = match claims.jti {
        None => return Err(fail("assertion has no jti")),
        Some(Value::String(jti)) if !jti.is_empty() && jti.chars().count() <= MAX_JTI_LEN => jti,
        Some(_) => return Err(fail("assertion jti must be a string of 1 to 256 characters")),
    };
    Ok(Accepted { jti, exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;
    const EXPECTED: Expected<'static> = Expected {
        client_id: "app-1",
        token_endpoint: "https://as.example/oauth/v4/t1/token",
        issuer: "https://as.example/oauth/v4/t1",
    };

    fn good() -> Value {
        json!({"iss": "app-1", "sub": "app-1", "aud": EXPECTED.token_endpoint, "iat": NOW, "exp": NOW + 60, "jti": "j1"})
    }

    fn check(claims: &Value) -> Result<Accepted, String> {
        check_claims(&claims.to_string(), &EXPECTED, NOW).map_err(|err| err.description.into_owned())
    }

    fn with(member: &str, value: Value) -> Value {
        let mut claims = good();
        claims[member] = value;
        claims
    }

    fn without(member: &str) -> Value {
        let mut claims = good();
        claims.as_object_mut().unwrap().remove(member);
        claims
    }

    #[test]
    fn a_good_assertion_gives_its_jti_and_exp() {
        assert_eq!(check(&good()), Ok(Accepted { jti: "j1".into(), exp: NOW + 60 }));
        assert!(check(&with("aud", json!(["other", EXPECTED.issuer]))).is_ok());
        assert!(check(&without("iat")).is_ok());
        assert!(check(&with("exp", json!((NOW + 60) as f64 + 0.5))).is_ok());
        assert!(check(&with("nbf", json!(NOW + CLOCK_SKEW_SECS))).is_ok());
    }

    #[test]
    fn each_rule_has_its_description() {
        let cases = [
            (without("iss"), "assertion has no iss"),
            (with("iss", json!("app-2")), "assertion iss must be the client ID"),
            (without("sub"), "assertion has no sub"),
            (with("sub", json!("app-2")), "assertion sub must be the client ID"),
            (without("aud"), "assertion has no aud"),
            (
                with("aud", json!("https://as.example/oauth/v4/t2/token")),
                "assertion audience does not name this token endpoint",
            ),
            (with("aud", json!(["x", "y"])), "assertion audience does not name this token endpoint"),
            (with("aud", json!(7)), "assertion audience does not name this token endpoint"),
            (without("exp"), "assertion has no exp"),
            (with("exp", json!("soon")), "assertion exp must be a number"),
            (with("exp", json!(NOW)), "assertion expired"),
            (with("nbf", json!(NOW + CLOCK_SKEW_SECS + 1)), "assertion is not valid yet (nbf)"),
            (with("iat", json!(NOW + CLOCK_SKEW_SECS + 1)), "assertion iat is in the future"),
            (
                with("exp", json!(NOW + MAX_LIFETIME_SECS + 1)),
                "assertion lives too long: exp must be at most 5 minutes after iat",
            ),
            (
                json!({"iss": "app-1", "sub": "app-1", "aud": EXPECTED.issuer, "iat": NOW - 250, "exp": NOW + 51, "jti": "j"}),
                "assertion lives too long: exp must be at most 5 minutes after iat",
            ),
            (without("jti"), "assertion has no jti"),
            (with("jti", json!("")), "assertion jti must be a string of 1 to 256 characters"),
            (with("jti", json!("j".repeat(257))), "assertion jti must be a string of 1 to 256 characters"),
            (with("jti", json!(5)), "assertion jti must be a string of 1 to 256 characters"),
        ];
        for (claims, why) in cases {
            assert_eq!(check(&claims), Err(why.to_owned()), "{claims}");
        }
        let no_iat_long = {
            let mut claims = without("iat");
            claims["exp"] = json!(NOW + MAX_LIFETIME_SECS + 1);
            claims
        };
        assert_eq!(
            check(&no_iat_long),
            Err("assertion lives too long: exp must be at most 5 minutes after iat".to_owned())
        );
    }

    #[test]
    fn the_issuer_is_read_without_verifying() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://k8s.example","sub":"x"}"#);
        assert_eq!(unverified_issuer(&format!("e30.{payload}.c2ln")).as_deref(), Some("https://k8s.example"));
        assert_eq!(unverified_issuer("garbage"), None);
    }
}
