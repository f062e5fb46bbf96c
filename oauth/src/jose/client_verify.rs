//! Verification of JWS a client signed with its own key (RFC 7523 §2.2
//! client assertions): RS256, PS256, ES256 and EdDSA.
//!
//! PS256 lives here and not in [`Algorithm`](super::Algorithm): Clavis
//! verifies it from clients, but never signs with it, so it must not become a
//! tenant's signing choice. An RSA key that names no `alg` verifies RS256 and
//! PS256; one that names an `alg` verifies only that one.

use std::fmt;

use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::jwk::{Jwk, JwkSet};
use super::public_key::{self, KeyError, KeyType, Padding, PublicKey, RsaPadding};
use super::verify::Rejection;

/// The algorithms a client may sign an assertion with.
///
/// ```
/// use clavis_oauth::jose::client_verify::ClientAlgorithm;
///
/// assert_eq!(ClientAlgorithm::from_name("PS256"), Some(ClientAlgorithm::Ps256));
/// assert_eq!(ClientAlgorithm::from_name("none"), None);
/// assert_eq!(ClientAlgorithm::from_name("HS256"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAlgorithm {
    Rs256,
    Ps256,
    Es256,
    EdDsa,
}

impl ClientAlgorithm {
    /// Every algorithm, in the order discovery lists them.
    pub const ALL: [ClientAlgorithm; 4] = [Self::Rs256, Self::Ps256, Self::Es256, Self::EdDsa];

    /// Parses a JOSE `alg` name; `None` for anything outside the allow-list.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Whether a key of this type may verify this algorithm.
    fn fits(self, key_type: KeyType) -> bool {
        matches!(
            (key_type, self),
            (KeyType::Rsa, Self::Rs256 | Self::Ps256) | (KeyType::P256, Self::Es256) | (KeyType::Ed25519, Self::EdDsa)
        )
    }
}

impl fmt::Display for ClientAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

enum Material {
    /// The same RSA key, parsed for each padding.
    Rsa {
        pkcs1: ParsedPublicKey,
        pss: ParsedPublicKey,
    },
    Es256(ParsedPublicKey),
    EdDsa(ParsedPublicKey),
}

/// One client key, parsed once.
pub struct ClientKey {
    kid: String,
    /// `Some` when the JWK names its algorithm: then only that one verifies.
    named: Option<ClientAlgorithm>,
    material: Material,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey").field("kid", &self.kid).field("named", &self.named).finish_non_exhaustive()
    }
}

/// The size in bits of a big-endian unsigned integer.
pub(crate) fn bit_length(bytes: &[u8]) -> usize {
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    bytes.len() * 8 - bytes.first().map_or(0, |b| b.leading_zeros() as usize)
}

impl ClientKey {
    /// Parses a public JWK. The kid is the JWK's, or its RFC 7638 thumbprint.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, &'static str> {
        if jwk.use_.as_deref().is_some_and(|usage| usage != "sig") {
            return Err("key is not for signatures (use must be \"sig\")");
        }
        let named = match jwk.alg.as_deref() {
            None => None,
            Some(name) => Some(ClientAlgorithm::from_name(name).ok_or("key alg is not RS256, PS256, ES256 or EdDSA")?),
        };
        let key_type = KeyType::of(jwk).map_err(|err| match err {
            KeyError::EcCurve => "EC keys must be on P-256",
            KeyError::OkpCurve => "OKP keys must be Ed25519",
            _ => "key type must be RSA, EC (P-256) or OKP (Ed25519)",
        })?;
        // The named alg is matched to the key's type before anything is
        // decoded, so a mislabelled key is refused as such.
        if named.is_some_and(|alg| !alg.fits(key_type)) {
            return Err(match key_type {
                KeyType::Rsa => "an RSA key's alg must be RS256 or PS256",
                KeyType::P256 => "a P-256 key's alg must be ES256",
                KeyType::Ed25519 => "an Ed25519 key's alg must be EdDSA",
            });
        }
        let material = match public_key::decode(jwk, key_type, Padding::Tolerated).map_err(KeyError::message)? {
            PublicKey::Rsa(rsa) => {
                if !(2048..=8192).contains(&bit_length(&rsa.n)) {
                    return Err("RSA keys must have 2048 to 8192 bits");
                }
                let pkcs1 = rsa.parse(RsaPadding::Pkcs1).map_err(KeyError::message)?;
                let pss = rsa.parse(RsaPadding::Pss).map_err(KeyError::message)?;
                Material::Rsa { pkcs1, pss }
            }
            PublicKey::P256(key) => Material::Es256(key),
            PublicKey::Ed25519(key) => Material::EdDsa(key),
        };
        let kid = match &jwk.kid {
            Some(kid) => kid.clone(),
            None => jwk.thumbprint().ok_or("key lacks a required member")?,
        };
        Ok(Self { kid, named, material })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The parsed key that verifies `alg`, if this key may.
    fn for_alg(&self, alg: ClientAlgorithm) -> Option<&ParsedPublicKey> {
        if self.named.is_some_and(|named| named != alg) {
            return None;
        }
        match (&self.material, alg) {
            (Material::Rsa { pkcs1, .. }, ClientAlgorithm::Rs256) => Some(pkcs1),
            (Material::Rsa { pss, .. }, ClientAlgorithm::Ps256) => Some(pss),
            (Material::Es256(key), ClientAlgorithm::Es256) | (Material::EdDsa(key), ClientAlgorithm::EdDsa) => {
                Some(key)
            }
            _ => None,
        }
    }
}

/// A client's keys, parsed once.
#[derive(Debug, Default)]
pub struct ClientKeySet {
    keys: Vec<ClientKey>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// A JWS whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub alg: ClientAlgorithm,
    /// The kid of the key that verified it.
    pub kid: String,
    /// The JSON claims set, unchecked.
    pub payload: String,
}

impl ClientKeySet {
    /// Parses every key of `jwks`; one unusable key fails the whole set,
    /// since the set was validated when it was stored.
    pub fn from_jwks(jwks: &JwkSet) -> Result<Self, &'static str> {
        Ok(Self { keys: jwks.keys.iter().map(ClientKey::from_jwk).collect::<Result<_, _>>()? })
    }

    /// Parses the usable keys of a JWKS fetched from elsewhere, leaving out
    /// the others (one odd key must not take down the rest).
    pub fn from_jwks_lenient(jwks: &JwkSet) -> Self {
        Self { keys: jwks.keys.iter().filter_map(|jwk| ClientKey::from_jwk(jwk).ok()).collect() }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key has this kid.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid == kid)
    }

    /// Verifies a JWS compact serialization with the key its `kid` names,
    /// or, with no `kid`, with each key that may verify its `alg`.
    ///
    /// RFC 7515 §4.1.11: "If any of the listed extension Header Parameters
    /// are not understood and supported by the recipient, then the JWS is
    /// invalid", and Clavis understands none, so any `crit` is refused.
    pub fn verify(&self, token: &str) -> Result<Verified, Rejection> {
        let mut parts = token.splitn(4, '.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Rejection::Malformed("assertion is not a JWS compact serialization"));
        };
        let signing_input = &token[..header.len() + 1 + payload.len()];
        let header_json =
            URL_SAFE_NO_PAD.decode(header).map_err(|_| Rejection::Malformed("bad assertion header encoding"))?;
        let header: Header =
            serde_json::from_slice(&header_json).map_err(|_| Rejection::Malformed("bad assertion header"))?;
        if header.crit.is_some() {
            return Err(Rejection::Invalid("unsupported critical header"));
        }
        let alg = ClientAlgorithm::from_name(&header.alg)
            .ok_or(Rejection::Invalid("assertion alg must be RS256, PS256, ES256 or EdDSA"))?;
        // Room for RSA signatures up to 8192 bits (base64 decoding estimates high).
        let mut sig = [0u8; 1040];
        let len = URL_SAFE_NO_PAD
            .decode_slice(signature, &mut sig)
            .map_err(|_| Rejection::Malformed("bad signature encoding"))?;
        let sig = sig.get(..len).ok_or(Rejection::Malformed("bad signature encoding"))?;
        let verified_by = match header.kid.as_deref() {
            Some(kid) => {
                let key = self.keys.iter().find(|key| key.kid == kid).ok_or(Rejection::UnknownKid)?;
                let parsed = key.for_alg(alg).ok_or(Rejection::Invalid("assertion alg does not match the key"))?;
                parsed
                    .verify_sig(signing_input.as_bytes(), sig)
                    .map_err(|_| Rejection::Invalid("assertion signature verification failed"))?;
                key
            }
            None => {
                let mut candidates = self.keys.iter().filter_map(|key| Some((key, key.for_alg(alg)?))).peekable();
                if candidates.peek().is_none() {
                    return Err(Rejection::Invalid("assertion alg does not match any key"));
                }
                candidates
                    .find(|(_, parsed)| parsed.verify_sig(signing_input.as_bytes(), sig).is_ok())
                    .map(|(key, _)| key)
                    .ok_or(Rejection::Invalid("assertion signature verification failed"))?
            }
        };
        let payload =
            URL_SAFE_NO_PAD.decode(payload).map_err(|_| Rejection::Malformed("bad assertion payload encoding"))?;
        let payload = String::from_utf8(payload).map_err(|_| Rejection::Malformed("assertion payload is not UTF-8"))?;
        Ok(Verified { alg, kid: verified_by.kid.clone(), payload })
    }
}
