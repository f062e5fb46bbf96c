//! The registered claims of a JWT (RFC 7519 §4.1) and the rules over them
//! that every JWT Clavis accepts from elsewhere shares: `exp`, `nbf`, `iat`
//! and "audience contains". A client assertion ([`crate::client_assertion`])
//! and a workload-identity token (the domain's federated authentication)
//! each add their own policy: who the issuer and subject must be, how old
//! `iat` may be, and the words of their errors, which [`ClaimError`] leaves
//! to them.
//!
//! ```
//! use clavis_oauth::jwt_claims::{ClaimError, RegisteredClaims};
//!
//! let claims = RegisteredClaims::parse(r#"{"aud": ["a", "b"], "exp": 1700000060, "iat": 1700000000}"#).unwrap();
//! assert_eq!(claims.expiry(1_700_000_000), Ok(1_700_000_060));
//! assert_eq!(claims.expiry(1_700_000_060), Err(ClaimError::Expired));
//! assert!(claims.audience().unwrap().contains("b"));
//! ```

use serde::Deserialize;
use serde_json::Value;

/// The registered claims, each as sent: the rules below read them, and a
/// caller reads `iss`, `sub` and `jti` by its own policy.
///
/// RFC 7519 §4: "The Claim Names within a JWT Claims Set MUST be unique; JWT
/// parsers MUST either reject JWTs with duplicate Claim Names or use a JSON
/// parser that returns only the lexically last duplicate member name"; a
/// duplicate of any of these is refused.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RegisteredClaims {
    pub iss: Option<Value>,
    pub sub: Option<Value>,
    pub aud: Option<Value>,
    pub exp: Option<Value>,
    pub nbf: Option<Value>,
    pub iat: Option<Value>,
    pub jti: Option<Value>,
}

/// Which rule a claims set broke. The texts are generic; callers answer
/// with their own (naming "assertion" or "federated token"), and none
/// quotes a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the claims set is not a JSON object")]
    NotAnObject,
    #[error("the JWT has no exp")]
    MissingExp,
    #[error("the JWT's exp is not a NumericDate")]
    ExpNotANumber,
    #[error("the JWT expired")]
    Expired,
    #[error("the JWT's nbf is not a NumericDate")]
    NbfNotANumber,
    #[error("the JWT is not valid yet (nbf)")]
    NotYetValid,
    #[error("the JWT's iat is not a NumericDate")]
    IatNotANumber,
    #[error("the JWT is issued in the future")]
    IssuedInFuture,
    #[error("the JWT has no aud")]
    MissingAud,
    #[error("the JWT's aud is not a string or an array of strings")]
    AudNotStrings,
}

/// The audiences a JWT names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(Vec<String>);

impl Audience {
    /// RFC 7519 §4.1.3: "If the principal processing the claim does not
    /// identify itself with a value in the "aud" claim when this claim is
    /// present, then the JWT MUST be rejected." Values compare exactly
    /// ("an array of case-sensitive strings").
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|aud| aud == name)
    }

    /// The string values, in order.
    pub fn values(&self) -> &[String] {
        &self.0
    }
}

/// A NumericDate (RFC 7519 §2: "A JSON numeric value representing the
/// number of seconds ... ignoring leap seconds"), fractions dropped.
fn numeric_date(value: Option<&Value>, wrong: ClaimError) -> Result<Option<i64>, ClaimError> {
    let Some(value) = value else { return Ok(None) };
    let seconds = value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64));
    seconds.map(Some).ok_or(wrong)
}

impl RegisteredClaims {
    /// Reads a claims set. RFC 7519 §7.2 step 10: "Verify that the resulting
    /// octet sequence is a UTF-8-encoded representation of a completely valid
    /// JSON object conforming to RFC 7159; let the JWT Claims Set be this JSON
    /// object." Members other than the registered ones are ignored.
    pub fn parse(payload: &str) -> Result<Self, ClaimError> {
        serde_json::from_str(payload).map_err(|_| ClaimError::NotAnObject)
    }

    /// The `exp`, required, at `now` (Unix seconds). RFC 7519 §4.1.4: "The
    /// processing of the "exp" claim requires that the current date/time MUST
    /// be before the expiration date/time listed in the "exp" claim"; RFC 7523
    /// §3 rule 4: "The authorization server MUST reject any JWT with an
    /// expiration time that has passed".
    pub fn expiry(&self, now: i64) -> Result<i64, ClaimError> {
        let exp = numeric_date(self.exp.as_ref(), ClaimError::ExpNotANumber)?.ok_or(ClaimError::MissingExp)?;
        if exp <= now {
            return Err(ClaimError::Expired);
        }
        Ok(exp)
    }

    /// The `nbf`, if any, at `now` with `leeway` seconds for the issuer's
    /// clock. RFC 7519 §4.1.5: "the current date/time MUST be after or equal
    /// to the not-before date/time listed in the "nbf" claim. Implementers
    /// MAY provide for some small leeway, usually no more than a few minutes,
    /// to account for clock skew."
    pub fn not_before(&self, now: i64, leeway: i64) -> Result<Option<i64>, ClaimError> {
        let nbf = numeric_date(self.nbf.as_ref(), ClaimError::NbfNotANumber)?;
        if nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(ClaimError::NotYetValid);
        }
        Ok(nbf)
    }

    /// The `iat`, if any (RFC 7519 §4.1.6: "the time at which the JWT was
    /// issued"): one later than `now` by more than `leeway` is refused, as
    /// no honest issuer makes it. How old it may be is the caller's policy.
    pub fn issued_at(&self, now: i64, leeway: i64) -> Result<Option<i64>, ClaimError> {
        let iat = numeric_date(self.iat.as_ref(), ClaimError::IatNotANumber)?;
        if iat.is_some_and(|iat| iat > now + leeway) {
            return Err(ClaimError::IssuedInFuture);
        }
        Ok(iat)
    }

    /// The `aud`, required here since both callers need it. RFC 7519 §4.1.3:
    /// "In the general case, the "aud" value is an array of case-sensitive
    /// strings, each containing a StringOrURI value. In the special case when
    /// the JWT has one audience, the "aud" value MAY be a single
    /// case-sensitive string". Array members that are not strings name no
    /// one and are left out.
    pub fn audience(&self) -> Result<Audience, ClaimError> {
        match self.aud.as_ref() {
            Some(Value::String(aud)) => Ok(Audience(vec![aud.clone()])),
            Some(Value::Array(values)) => {
                Ok(Audience(values.iter().filter_map(|value| value.as_str().map(str::to_owned)).collect()))
            }
            Some(_) => Err(ClaimError::AudNotStrings),
            None => Err(ClaimError::MissingAud),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn claims(value: Value) -> RegisteredClaims {
        RegisteredClaims::parse(&value.to_string()).unwrap()
    }

    #[test]
    fn only_a_json_object_without_duplicates_is_a_claims_set() {
        assert_eq!(RegisteredClaims::parse("7"), Err(ClaimError::NotAnObject));
        assert_eq!(RegisteredClaims::parse(r#"{"exp": 1"#), Err(ClaimError::NotAnObject));
        assert_eq!(RegisteredClaims::parse(r#"{"exp": 1, "exp": 2}"#), Err(ClaimError::NotAnObject));
        assert_eq!(RegisteredClaims::parse(r#"{"other": 1, "other": 2}"#), Ok(RegisteredClaims::default()));
    }

    #[test]
    fn exp_is_required_and_must_be_later_than_now() {
        assert_eq!(claims(json!({"exp": NOW + 1})).expiry(NOW), Ok(NOW + 1));
        assert_eq!(claims(json!({"exp": NOW as f64 + 1.5})).expiry(NOW), Ok(NOW + 1));
        assert_eq!(claims(json!({"exp": NOW})).expiry(NOW), Err(ClaimError::Expired));
        assert_eq!(claims(json!({})).expiry(NOW), Err(ClaimError::MissingExp));
        assert_eq!(claims(json!({"exp": "soon"})).expiry(NOW), Err(ClaimError::ExpNotANumber));
    }

    #[test]
    fn nbf_and_iat_allow_the_leeway_and_no_more() {
        let leeway = 30;
        assert_eq!(claims(json!({})).not_before(NOW, leeway), Ok(None));
        assert_eq!(claims(json!({"nbf": NOW + leeway})).not_before(NOW, leeway), Ok(Some(NOW + leeway)));
        assert_eq!(claims(json!({"nbf": NOW + leeway + 1})).not_before(NOW, leeway), Err(ClaimError::NotYetValid));
        assert_eq!(claims(json!({"nbf": true})).not_before(NOW, leeway), Err(ClaimError::NbfNotANumber));
        assert_eq!(claims(json!({})).issued_at(NOW, leeway), Ok(None));
        assert_eq!(claims(json!({"iat": NOW - 9999})).issued_at(NOW, leeway), Ok(Some(NOW - 9999)));
        assert_eq!(claims(json!({"iat": NOW + leeway + 1})).issued_at(NOW, leeway), Err(ClaimError::IssuedInFuture));
        assert_eq!(claims(json!({"iat": [NOW]})).issued_at(NOW, leeway), Err(ClaimError::IatNotANumber));
    }

    #[test]
    fn the_audience_is_a_string_or_an_array_and_compares_exactly() {
        let aud = claims(json!({"aud": "https://as.example"})).audience().unwrap();
        assert!(aud.contains("https://as.example"));
        assert!(!aud.contains("https://AS.example"));
        let aud = claims(json!({"aud": ["x", 7, "y"]})).audience().unwrap();
        assert_eq!(aud.values(), ["x".to_owned(), "y".to_owned()]);
        assert!(!aud.contains("7"));
        assert_eq!(claims(json!({"aud": 7})).audience(), Err(ClaimError::AudNotStrings));
        assert_eq!(claims(json!({})).audience(), Err(ClaimError::MissingAud));
    }
}
