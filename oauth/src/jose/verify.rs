//! JWS compact verification (RFC 7515 §5.2) against pre-parsed public keys.
//!
//! Keys are parsed once per JWK into aws-lc-rs [`ParsedPublicKey`]s (see
//! [`KeySet::from_jwks`], which reads them with the crate's one JWK reader
//! and adds this verifier's policy), so verifying a token costs one base64
//! decode, one signature check and the caller's parse of the payload.
//! Nothing in the claims is checked here: the caller knows its issuer,
//! audience and clock.

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::Algorithm;
use super::jwk::{Jwk, JwkSet};
use super::public_key::{self, KeyError, KeyType, Padding, PublicKey, RsaPadding};

/// One verification key, parsed once.
pub struct VerifyingKey {
    alg: Algorithm,
    key: ParsedPublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
}

/// The usable keys of a JWKS, by `kid`.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyingKey>,
    /// Keys left out, by kid, with the reason: the caller decides whether to log them.
    skipped: Vec<(String, &'static str)>,
}

impl KeySet {
    /// Parses every usable signing key of `jwks`; unusable ones are skipped
    /// (see [`KeySet::skipped`]), so one odd key does not take the others down.
    pub fn from_jwks(jwks: &JwkSet) -> Self {
        let mut keys = HashMap::with_capacity(jwks.keys.len());
        let mut skipped = Vec::new();
        for jwk in &jwks.keys {
            let Some(kid) = jwk.kid.as_deref() else {
                skipped.push((String::new(), "key has no kid"));
                continue;
            };
            match parse_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid.to_owned(), key);
                }
                Err(why) => skipped.push((kid.to_owned(), why)),
            }
        }
        Self { keys, skipped }
    }

    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys that could not be used, by kid, with the reason.
    pub fn skipped(&self) -> &[(String, &'static str)] {
        &self.skipped
    }
}

/// A tenant signing key: its type implies its one algorithm, and a key that
/// names an algorithm must name that one.
fn parse_jwk(jwk: &Jwk) -> Result<VerifyingKey, &'static str> {
    if jwk.use_.as_deref().is_some_and(|usage| usage != "sig") {
        return Err("key is not for signatures");
    }
    let key_type = KeyType::of(jwk).map_err(KeyError::message)?;
    let (alg, key) = match public_key::decode(jwk, key_type, Padding::Tolerated).map_err(KeyError::message)? {
        PublicKey::Rsa(rsa) => (Algorithm::Rs256, rsa.parse(RsaPadding::Pkcs1).map_err(KeyError::message)?),
        PublicKey::P256(key) => (Algorithm::Es256, key),
        PublicKey::Ed25519(key) => (Algorithm::EdDsa, key),
    };
    if jwk.alg.as_deref().is_some_and(|named| named != alg.name()) {
        return Err("key alg is not allowed for its key type");
    }
    Ok(VerifyingKey { alg, key })
}

/// Why a token failed verification. The messages are fixed strings, safe to
/// put in a `WWW-Authenticate` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not a well-formed JWS.
    #[error("{0}")]
    Malformed(&'static str),
    /// Well-formed, but signed by a key the caller does not know (yet).
    #[error("unknown signing key")]
    UnknownKid,
    /// Well-formed, and refused: algorithm, key or signature.
    #[error("{0}")]
    Invalid(&'static str),
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// A token split into its parts, with a parsed header.
#[derive(Debug)]
pub struct Parsed<'t> {
    pub alg: Algorithm,
    pub kid: String,
    /// Whether `typ` is `at+jwt` (RFC 9068 §4: "Resource servers MUST verify
    /// that the "typ" header value is "at+jwt" or "application/at+jwt"").
    pub typ_at_jwt: bool,
    signing_input: &'t str,
    payload: &'t str,
    signature: &'t str,
}

/// Splits and decodes the header; checks the algorithm allow-list.
///
/// RFC 7515 §4.1.11: "If any of the listed extension Header Parameters are
/// not understood and supported by the recipient, then the JWS is invalid",
/// and Clavis understands none, so any `crit` is refused.
pub fn parse(token: &str) -> Result<Parsed<'_>, Rejection> {
    let mut parts = token.splitn(4, '.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed("token is not a JWS compact serialization"));
    };
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header_json = URL_SAFE_NO_PAD.decode(header).map_err(|_| Rejection::Malformed("bad token header encoding"))?;
    let header: Header<'_> =
        serde_json::from_slice(&header_json).map_err(|_| Rejection::Malformed("bad token header"))?;
    if header.crit.is_some() {
        return Err(Rejection::Invalid("unsupported critical header"));
    }
    let alg = Algorithm::from_name(&header.alg).ok_or(Rejection::Invalid("signature algorithm not allowed"))?;
    let kid = header.kid.ok_or(Rejection::Invalid("token has no key ID"))?.into_owned();
    let typ_at_jwt = header.typ.is_some_and(|typ| {
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        typ.eq_ignore_ascii_case("at+jwt")
    });
    Ok(Parsed { alg, kid, typ_at_jwt, signing_input, payload, signature })
}

impl Parsed<'_> {
    /// Verifies the signature with `key` and returns the payload (the JSON
    /// claims set). Nothing in the claims is checked here.
    pub fn verify(&self, key: &VerifyingKey) -> Result<String, Rejection> {
        if key.alg != self.alg {
            return Err(Rejection::Invalid("algorithm does not match the key"));
        }
        // Room for RSA signatures up to 8192 bits (base64 decoding estimates high).
        let mut sig = [0u8; 1040];
        let len = URL_SAFE_NO_PAD
            .decode_slice(self.signature, &mut sig)
            .map_err(|_| Rejection::Malformed("bad signature encoding"))?;
        let sig = sig.get(..len).ok_or(Rejection::Malformed("bad signature encoding"))?;
        key.key
            .verify_sig(self.signing_input.as_bytes(), sig)
            .map_err(|_| Rejection::Invalid("signature verification failed"))?;
        let payload =
            URL_SAFE_NO_PAD.decode(self.payload).map_err(|_| Rejection::Malformed("bad token payload encoding"))?;
        String::from_utf8(payload).map_err(|_| Rejection::Malformed("token payload is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    fn b64json(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn token_with_header(header: serde_json::Value) -> String {
        format!("{}.{}.c2ln", b64json(&header), b64json(&json!({"iss": "x", "exp": 1})))
    }

    #[test]
    fn header_checks() {
        let ok = token_with_header(json!({"alg": "RS256", "kid": "k"}));
        assert_eq!(parse(&ok).map(|p| p.alg), Ok(Algorithm::Rs256));
        for (header, why) in [
            (json!({"alg": "none", "kid": "k"}), "signature algorithm not allowed"),
            (json!({"alg": "HS256", "kid": "k"}), "signature algorithm not allowed"),
            (json!({"alg": "PS256", "kid": "k"}), "signature algorithm not allowed"),
            (json!({"alg": "RS256"}), "token has no key ID"),
            (json!({"alg": "RS256", "kid": "k", "crit": ["exp"]}), "unsupported critical header"),
        ] {
            assert_eq!(parse(&token_with_header(header)).err(), Some(Rejection::Invalid(why)));
        }
        let dup = format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","alg":"none","kid":"k"}"#));
        assert!(matches!(parse(&dup).err(), Some(Rejection::Malformed(_))));
        assert!(matches!(parse("a.b.c.d.e").err(), Some(Rejection::Malformed(_))));
    }

    #[test]
    fn jwk_alg_must_match_key_type() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = |alg: &str, kid: &str| {
            json!({"kty": "EC", "crv": "P-256", "alg": alg, "kid": kid,
                   "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
        };
        let set: JwkSet = serde_json::from_value(json!({"keys": [
            jwk("ES256", "good"), jwk("RS256", "mislabelled"), jwk("HS256", "hmac"),
            {"kty": "EC", "crv": "P-256", "kid": "bad-point", "x": "AAAA", "y": "AAAA"},
        ]}))
        .unwrap();
        let keys = KeySet::from_jwks(&set);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.get("good").map(|k| k.alg), Some(Algorithm::Es256));
    }
}
