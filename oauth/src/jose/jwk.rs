//! JSON Web Keys (RFC 7517) as Clavis publishes and reads them, and the
//! RFC 7638 thumbprint that names them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::b64;

/// A public JWK. Only the members Clavis publishes or needs to read are
/// named; unknown members are ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC or OKP x coordinate / public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// RFC 7517 §5: "a JSON object that represents a set of JWKs ... MUST have a
/// "keys" member".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The RFC 7638 thumbprint (SHA-256, base64url): RFC 7638 §3.2, "The
    /// required members ... in lexicographic order", with no whitespace.
    /// `None` when a required member is missing or the key type is unknown.
    pub fn thumbprint(&self) -> Option<String> {
        let canonical = match self.kty.as_str() {
            "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, self.e.as_ref()?, self.n.as_ref()?),
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                self.crv.as_ref()?,
                self.x.as_ref()?,
                self.y.as_ref()?
            ),
            "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, self.crv.as_ref()?, self.x.as_ref()?),
            _ => return None,
        };
        Some(b64(&Sha256::digest(canonical.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1's example key and its thumbprint.
        let jwk = Jwk {
            kty: "RSA".into(),
            use_: None,
            alg: Some("RS256".into()),
            kid: Some("2011-04-29".into()),
            crv: None,
            n: Some(concat!(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs",
                "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91",
                "CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
            )
            .into()),
            e: Some("AQAB".into()),
            x: None,
            y: None,
        };
        assert_eq!(jwk.thumbprint().as_deref(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
    }

    #[test]
    fn unknown_members_are_ignored_and_missing_ones_give_no_thumbprint() {
        let jwk: Jwk = serde_json::from_str(r#"{"kty":"EC","crv":"P-256","x":"a","x5c":["zz"]}"#).unwrap();
        assert_eq!(jwk.thumbprint(), None);
        let jwk: Jwk = serde_json::from_str(r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap();
        assert_eq!(jwk.thumbprint(), None);
    }
}
