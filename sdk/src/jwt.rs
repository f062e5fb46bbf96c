//! JWS compact verification against pre-parsed public keys, and the access token claims.
//!
//! Signatures are checked with aws-lc-rs [`ParsedPublicKey`]s built once per
//! JWK (see [`KeySet::from_jwks`]), so the per-request cost is one base64
//! decode, one signature verification and one small JSON parse.
//! `jsonwebtoken` supplies the JWK data model.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The signature algorithms a resource server accepts. Nothing else is ever
/// accepted: not `none`, not HMAC (`HS*`), not RSA-PSS.
///
/// ```
/// use clavis_sdk::Algorithm;
///
/// assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::Rs256));
/// assert_eq!(Algorithm::from_name("none"), None);
/// assert_eq!(Algorithm::from_name("HS256"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of 2048 bits or more).
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Algorithm {
    /// Parses a JOSE `alg` name; `None` for anything outside the allow-list.
    ///
    /// ```
    /// assert!(clavis_sdk::Algorithm::from_name("EdDSA").is_some());
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    /// The JOSE `alg` name.
    ///
    /// ```
    /// assert_eq!(clavis_sdk::Algorithm::Es256.name(), "ES256");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

/// The `aud` claim: a list of audiences (a single string is accepted too).
///
/// ```
/// use clavis_sdk::Audience;
///
/// let aud = Audience(vec!["client-1".into(), "https://api.example".into()]);
/// assert!(aud.contains("https://api.example"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Audience(pub Vec<String>);

impl Audience {
    /// Whether `audience` is one of the audiences.
    ///
    /// ```
    /// let aud = clavis_sdk::Audience(vec!["a".into()]);
    /// assert!(!aud.contains("b"));
    /// ```
    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|a| a == audience)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudVisitor;
        impl<'de> Visitor<'de> for AudVisitor {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(16));
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(Audience(out))
            }
        }
        deserializer.deserialize_any(AudVisitor)
    }
}

/// The verified claims of a Clavis access token.
///
/// In a handler behind [`ProtectLayer`](crate::ProtectLayer), take `Claims` as
/// an argument (it is an axum extractor). Claims this struct does not name can
/// be read with [`Claims::custom`].
///
/// ```no_run
/// use clavis_sdk::Claims;
///
/// async fn handler(claims: Claims) -> String {
///     format!("client {} of tenant {:?} with scopes {:?}", claims.sub, claims.tenant, claims.scopes().collect::<Vec<_>>())
/// }
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer: the tenant's `oAuthServerUrl`.
    pub iss: String,
    /// Subject: the caller's client ID.
    #[serde(default)]
    pub sub: String,
    /// The caller's client ID.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Authorized party (the client ID).
    #[serde(default)]
    pub azp: Option<String>,
    /// Audiences.
    #[serde(default)]
    pub aud: Audience,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: Option<u64>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// Token ID.
    #[serde(default)]
    pub jti: Option<String>,
    /// Tenant ID.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Granted scopes, space-separated.
    #[serde(default)]
    pub scope: String,
    /// Authentication methods, `["appid_client_credentials"]`.
    #[serde(default)]
    pub amr: Vec<String>,
    /// Grant type, `client-credentials`.
    #[serde(default)]
    pub gty: Option<String>,
    #[serde(skip)]
    raw: Arc<str>,
}

impl Claims {
    /// The granted scopes.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) {
    /// let scopes: Vec<&str> = claims.scopes().collect();
    /// # }
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }

    /// Whether `scope` was granted.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) {
    /// if claims.has_scope("write") { /* ... */ }
    /// # }
    /// ```
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// Deserializes the whole verified payload into `T`, for claims this
    /// struct does not name.
    ///
    /// ```no_run
    /// # fn f(claims: clavis_sdk::Claims) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Extra { department: Option<String> }
    /// let extra: Extra = claims.custom()?;
    /// # Ok(()) }
    /// ```
    pub fn custom<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.raw)
    }
}

/// One verification key, parsed once.
pub(crate) struct VerifyingKey {
    pub(crate) alg: Algorithm,
    key: ParsedPublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// The usable keys of a JWKS, by `kid`.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, VerifyingKey>,
}

impl KeySet {
    /// Parses every usable signing key of `jwks`; unusable ones are skipped
    /// (and logged), so one odd key does not take the others down.
    pub(crate) fn from_jwks(jwks: &JwkSet) -> Self {
        let mut keys = HashMap::with_capacity(jwks.keys.len());
        for jwk in &jwks.keys {
            let Some(kid) = jwk.common.key_id.as_deref() else {
                tracing::debug!("skipping a JWK without kid");
                continue;
            };
            match parse_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid.to_owned(), key);
                }
                Err(why) => tracing::warn!(kid, why, "skipping unusable JWK"),
            }
        }
        Self { keys }
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

fn b64(field: &str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD.decode(field.trim_end_matches('=')).map_err(|_| "bad base64url in key")
}

fn parse_jwk(jwk: &Jwk) -> Result<VerifyingKey, &'static str> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("key is not for signatures");
    }
    let (alg, key) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let (n, e) = (b64(&rsa.n)?, b64(&rsa.e)?);
            let components = RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() };
            let key = components.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256).map_err(|_| "invalid RSA key")?;
            (Algorithm::Rs256, key)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            if ec.curve != EllipticCurve::P256 {
                return Err("unsupported EC curve");
            }
            let (x, y) = (b64(&ec.x)?, b64(&ec.y)?);
            if x.len() != 32 || y.len() != 32 {
                return Err("bad P-256 coordinates");
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).map_err(|_| "invalid P-256 key")?;
            (Algorithm::Es256, key)
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return Err("unsupported OKP curve");
            }
            let x = b64(&okp.x)?;
            let key = ParsedPublicKey::new(&ED25519, x).map_err(|_| "invalid Ed25519 key")?;
            (Algorithm::EdDsa, key)
        }
        _ => return Err("unsupported key type"),
    };
    // A key that names an algorithm must name the one its type implies.
    if let Some(named) = jwk.common.key_algorithm {
        let expected = match alg {
            Algorithm::Rs256 => KeyAlgorithm::RS256,
            Algorithm::Es256 => KeyAlgorithm::ES256,
            Algorithm::EdDsa => KeyAlgorithm::EdDSA,
        };
        if named != expected {
            return Err("key alg is not allowed for its key type");
        }
    }
    Ok(VerifyingKey { alg, key })
}

/// Why a token failed verification. The messages are fixed strings, safe to
/// put in a `WWW-Authenticate` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    Malformed(&'static str),
    UnknownKid,
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
pub(crate) struct Parsed<'t> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: String,
    /// Whether `typ` is `at+jwt` (RFC 9068).
    pub(crate) typ_at_jwt: bool,
    signing_input: &'t str,
    payload: &'t str,
    signature: &'t str,
}

/// Splits and decodes the header; checks the algorithm allow-list.
pub(crate) fn parse(token: &str) -> Result<Parsed<'_>, Rejection> {
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
    /// Verifies the signature with `key` and decodes the claims. Nothing in
    /// the claims is checked here.
    pub(crate) fn verify(&self, key: &VerifyingKey) -> Result<Claims, Rejection> {
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
        let payload = String::from_utf8(payload).map_err(|_| Rejection::Malformed("token payload is not UTF-8"))?;
        let mut claims: Claims =
            serde_json::from_str(&payload).map_err(|_| Rejection::Malformed("bad token claims"))?;
        claims.raw = Arc::from(payload);
        Ok(claims)
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
