//! DPoP proofs (RFC 9449): the §4.3 checks of a proof JWT, shared by the
//! token endpoint and the SDK's resource-server layer, and a builder of
//! proofs for clients ([`ProofKey`]).
//!
//! The checker is pure: the caller passes the method and URL the proof must
//! name, the time it trusts, the nonces it accepts and, on a resource server,
//! the access token the proof must be bound to. Single use of the `jti` is
//! the caller's (it needs storage); the result carries the `jti` and `iat` it
//! needs for that, and the RFC 7638 thumbprint (`jkt`) the token is bound to.
//!
//! ```
//! use clavis_oauth::dpop::{self, Expected, ProofClaims, ProofKey, ProofAlg};
//!
//! let key = ProofKey::generate(ProofAlg::Es256).unwrap();
//! let url = "https://id.example.com/oauth/v4/t1/token";
//! let proof = key
//!     .sign(&ProofClaims { htm: "POST", htu: url, iat: 1_700_000_000, jti: "j-1", nonce: None, access_token: None })
//!     .unwrap();
//! let expected = Expected { htm: "POST", htu: url, nonces: None, access_token: None };
//! let verified = dpop::verify(&proof, &expected, 1_700_000_001).unwrap();
//! assert_eq!(verified.jkt, key.thumbprint());
//! assert_eq!(verified.jti, "j-1");
//! ```

mod proof;
#[cfg(test)]
mod tests;

use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jose::jwk::Jwk;
use crate::jose::public_key::{self, KeyType, Padding, PublicKey, RsaPadding};

pub use proof::{ProofClaims, ProofKey};

/// The `typ` header of a proof (RFC 9449 §4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";
/// How old a proof's `iat` may be, in seconds.
pub const MAX_AGE_SECS: i64 = 60;
/// How far ahead of the verifier's clock a proof's `iat` may be (clock skew).
pub const MAX_FUTURE_SECS: i64 = 5;
/// The longest `jti` accepted: a UUID or 128 random bits need far less, and
/// every spent `jti` is stored until its proof is stale.
pub const MAX_JTI_LEN: usize = 128;
/// The longest proof accepted (an RSA 4096 key and signature fit well within).
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// The proof signature algorithms accepted: asymmetric only (RFC 9449 §4.3
/// point 5), never `none` or HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProofAlg {
    Es256,
    EdDsa,
    Rs256,
    Ps256,
}

impl ProofAlg {
    /// Every accepted algorithm, in the order discovery lists them
    /// (`dpop_signing_alg_values_supported`).
    pub const ALL: [ProofAlg; 4] = [ProofAlg::Es256, ProofAlg::EdDsa, ProofAlg::Rs256, ProofAlg::Ps256];

    /// Parses a JOSE `alg` name; `None` outside the allow-list.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }
}

/// Why a proof was refused. The messages are fixed, name nothing from the
/// proof, and are safe as an `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    #[error("only one DPoP header is allowed")]
    Multiple,
    #[error("DPoP proof is too large")]
    TooLarge,
    #[error("DPoP proof is not a JWT")]
    Malformed,
    #[error("DPoP proof typ must be dpop+jwt")]
    WrongType,
    #[error("DPoP proof algorithm not allowed")]
    AlgNotAllowed,
    #[error("DPoP proof has an unsupported critical header")]
    Critical,
    #[error("DPoP proof has no public jwk")]
    MissingJwk,
    #[error("DPoP proof jwk must not contain a private key")]
    PrivateKey,
    #[error("DPoP proof jwk is not a usable public key")]
    BadKey,
    #[error("DPoP proof jwk does not match its algorithm")]
    KeyAlgMismatch,
    #[error("DPoP proof signature is invalid")]
    BadSignature,
    #[error("DPoP proof claims are malformed")]
    BadClaims,
    #[error("DPoP proof has no valid jti")]
    BadJti,
    #[error("DPoP proof htm does not match the request method")]
    WrongMethod,
    #[error("DPoP proof htu does not match the request URL")]
    WrongUrl,
    #[error("DPoP proof has no iat")]
    MissingIat,
    #[error("DPoP proof is too old")]
    Stale,
    #[error("DPoP proof iat is in the future")]
    Future,
    #[error("DPoP proof ath does not match the access token")]
    WrongAth,
    /// The proof lacks a nonce the verifier requires, or names one it no
    /// longer (or never) issued: RFC 9449 §8 `use_dpop_nonce`.
    #[error("a DPoP nonce is required")]
    UseNonce,
}

impl DpopError {
    /// Whether the answer is `use_dpop_nonce` (with a fresh nonce) rather
    /// than `invalid_dpop_proof`.
    pub fn is_nonce(self) -> bool {
        self == Self::UseNonce
    }
}

/// What the proof must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request method, e.g. `POST`.
    pub htm: &'a str,
    /// The request URL as the client addressed it; query and fragment are
    /// ignored (RFC 9449 §4.3 point 9).
    pub htu: &'a str,
    /// When `Some`, the proof must carry one of these nonces.
    pub nonces: Option<&'a [&'a str]>,
    /// On a resource server: the access token the proof must hash into `ath`.
    pub access_token: Option<&'a str>,
}

/// A proof that passed every check but the single use of its `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The RFC 7638 thumbprint of the proof's key: a bound token's `cnf.jkt`.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
    /// The proof's public key (only its public members).
    pub jwk: Jwk,
}

/// The members of a private JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2):
/// a proof carrying one leaks its key and is refused.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    typ: Option<String>,
    alg: String,
    #[serde(default)]
    jwk: Option<Map<String, Value>>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    htm: Option<String>,
    #[serde(default)]
    htu: Option<String>,
    #[serde(default)]
    iat: Option<serde_json::Number>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    ath: Option<String>,
}

/// Picks the one proof of a request: RFC 9449 §4.3 point 1, "There is not
/// more than one DPoP HTTP request header field".
pub fn single<'a>(mut values: impl Iterator<Item = &'a str>) -> Result<Option<&'a str>, DpopError> {
    let first = values.next();
    if values.next().is_some() {
        return Err(DpopError::Multiple);
    }
    Ok(first)
}

/// Checks a proof (RFC 9449 §4.3 points 2 to 11) at `now` (Unix seconds).
///
/// The `jti` is not spent here: the caller stores it until
/// `iat + MAX_AGE_SECS` and refuses it if seen.
pub fn verify(proof: &str, expected: &Expected<'_>, now: i64) -> Result<Verified, DpopError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(DpopError::TooLarge);
    }
    let mut parts = proof.splitn(4, '.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DpopError::Malformed);
    };
    let header_json = URL_SAFE_NO_PAD.decode(header_b64).map_err(|_| DpopError::Malformed)?;
    let header: Header = serde_json::from_slice(&header_json).map_err(|_| DpopError::Malformed)?;
    if !header.typ.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case(PROOF_TYPE)) {
        return Err(DpopError::WrongType);
    }
    let alg = ProofAlg::from_name(&header.alg).ok_or(DpopError::AlgNotAllowed)?;
    if header.crit.is_some() {
        return Err(DpopError::Critical);
    }
    let jwk_members = header.jwk.ok_or(DpopError::MissingJwk)?;
    if PRIVATE_MEMBERS.iter().any(|member| jwk_members.contains_key(*member)) {
        return Err(DpopError::PrivateKey);
    }
    let jwk: Jwk = serde_json::from_value(Value::Object(jwk_members)).map_err(|_| DpopError::BadKey)?;
    let key = public_key(&jwk, alg)?;

    let signature = URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| DpopError::Malformed)?;
    let signing_input = &proof[..header_b64.len() + 1 + payload_b64.len()];
    key.verify_sig(signing_input.as_bytes(), &signature).map_err(|_| DpopError::BadSignature)?;

    let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| DpopError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| DpopError::BadClaims)?;
    let jti = claims.jti.filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN).ok_or(DpopError::BadJti)?;
    if claims.htm.as_deref() != Some(expected.htm) {
        return Err(DpopError::WrongMethod);
    }
    let htu = claims.htu.as_deref().ok_or(DpopError::WrongUrl)?;
    if !same_url(htu, expected.htu) {
        return Err(DpopError::WrongUrl);
    }
    let iat = claims.iat.as_ref().and_then(whole_seconds).ok_or(DpopError::MissingIat)?;
    if iat < now.saturating_sub(MAX_AGE_SECS) {
        return Err(DpopError::Stale);
    }
    if iat > now.saturating_add(MAX_FUTURE_SECS) {
        return Err(DpopError::Future);
    }
    if let Some(token) = expected.access_token
        && claims.ath.as_deref() != Some(ath(token).as_str())
    {
        return Err(DpopError::WrongAth);
    }
    // Last, so that `use_dpop_nonce` answers only an otherwise good proof:
    // the client retries the same request with the nonce and succeeds.
    if let Some(accepted) = expected.nonces
        && !claims.nonce.as_deref().is_some_and(|nonce| accepted.contains(&nonce))
    {
        return Err(DpopError::UseNonce);
    }
    let jkt = jwk.thumbprint().ok_or(DpopError::BadKey)?;
    Ok(Verified { jkt, jti, iat, jwk: public_members(jwk) })
}

/// `ath` of an access token (RFC 9449 §4.2): base64url(SHA-256(token)).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// `iat` as whole seconds: an integer, or a number with a fraction (some
/// clients send milliseconds after the point), truncated.
fn whole_seconds(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| number.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
}

/// RFC 9449 §4.3 point 9: the `htu` matches "the HTTP URI value for the HTTP
/// request in which the JWT was received, ignoring any query and fragment
/// parts", compared after RFC 3986 §6.2.2 and §6.2.3 normalisation (scheme
/// and host case, default ports, percent-encoding case, dot segments), which
/// the WHATWG URL parser applies.
pub fn same_url(htu: &str, expected: &str) -> bool {
    match (url::Url::parse(htu), url::Url::parse(expected)) {
        (Ok(a), Ok(b)) => {
            a.cannot_be_a_base() == b.cannot_be_a_base()
                && a.scheme() == b.scheme()
                && a.host() == b.host()
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path() == b.path()
                && a.username().is_empty()
                && a.password().is_none()
        }
        _ => false,
    }
}

/// Parses the proof's key for `alg` (RFC 9449 §4.3 point 7: the `jwk`
/// matches the algorithm; a key naming an `alg` must name that one).
fn public_key(jwk: &Jwk, alg: ProofAlg) -> Result<ParsedPublicKey, DpopError> {
    if jwk.alg.as_deref().is_some_and(|named| named != alg.name()) {
        return Err(DpopError::KeyAlgMismatch);
    }
    // A key of a type the verifier does not know matches no algorithm.
    let key_type = KeyType::of(jwk).map_err(|_| DpopError::KeyAlgMismatch)?;
    let fits = matches!(
        (alg, key_type),
        (ProofAlg::Es256, KeyType::P256)
            | (ProofAlg::EdDsa, KeyType::Ed25519)
            | (ProofAlg::Rs256 | ProofAlg::Ps256, KeyType::Rsa)
    );
    if !fits {
        return Err(DpopError::KeyAlgMismatch);
    }
    let bad_key = |_| DpopError::BadKey;
    match public_key::decode(jwk, key_type, Padding::Refused).map_err(bad_key)? {
        PublicKey::Rsa(rsa) => {
            let padding = if alg == ProofAlg::Rs256 { RsaPadding::Pkcs1 } else { RsaPadding::Pss };
            rsa.parse(padding).map_err(bad_key)
        }
        PublicKey::P256(key) | PublicKey::Ed25519(key) => Ok(key),
    }
}

/// The key without `kid`, `use` and `alg`: what a bound token's holder is.
fn public_members(jwk: Jwk) -> Jwk {
    Jwk { use_: None, kid: None, alg: None, ..jwk }
}
