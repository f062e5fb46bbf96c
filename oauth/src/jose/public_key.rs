//! The one reading of a public JWK into aws-lc-rs key material, shared by
//! the three verifiers: tenant signing keys ([`verify`](super::verify)),
//! client assertion keys ([`client_verify`](super::client_verify)) and a
//! DPoP proof's key ([`dpop`](crate::dpop)).
//!
//! Only the mechanics live here: which `kty`/`crv` pairs are understood, how
//! the members decode and what makes a point or modulus valid. Each caller
//! keeps its own policy around it: which algorithms a key may serve, what its
//! `use` and `kid` must be, and the words or codes of its errors (hence the
//! two steps, [`KeyType::of`] then [`decode`], so a caller can refuse a key
//! for its algorithm before any member is decoded).

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::jwk::Jwk;

/// The key types the verifiers understand (RFC 7518 §6.2, §6.3; RFC 8037 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    Rsa,
    P256,
    Ed25519,
}

/// Why a JWK gave no key. [`KeyError::message`] is the tenant-key verifier's
/// wording; the other callers map the variants to theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("unsupported EC curve")]
    EcCurve,
    #[error("unsupported OKP curve")]
    OkpCurve,
    #[error("unsupported key type")]
    KeyType,
    #[error("key lacks a required member")]
    MissingMember,
    #[error("bad base64url in key")]
    BadBase64,
    #[error("bad P-256 coordinates")]
    P256Coordinates,
    #[error("invalid RSA key")]
    InvalidRsa,
    #[error("invalid P-256 key")]
    InvalidP256,
    #[error("invalid Ed25519 key")]
    InvalidEd25519,
}

impl KeyError {
    /// The fixed description (the same text as `Display`, as a `&'static str`).
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::EcCurve => "unsupported EC curve",
            Self::OkpCurve => "unsupported OKP curve",
            Self::KeyType => "unsupported key type",
            Self::MissingMember => "key lacks a required member",
            Self::BadBase64 => "bad base64url in key",
            Self::P256Coordinates => "bad P-256 coordinates",
            Self::InvalidRsa => "invalid RSA key",
            Self::InvalidP256 => "invalid P-256 key",
            Self::InvalidEd25519 => "invalid Ed25519 key",
        }
    }
}

impl KeyType {
    /// The type a JWK's `kty` and `crv` name; nothing is decoded yet.
    pub(crate) fn of(jwk: &Jwk) -> Result<Self, KeyError> {
        match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => Ok(Self::Rsa),
            ("EC", Some("P-256")) => Ok(Self::P256),
            ("EC", _) => Err(KeyError::EcCurve),
            ("OKP", Some("Ed25519")) => Ok(Self::Ed25519),
            ("OKP", _) => Err(KeyError::OkpCurve),
            _ => Err(KeyError::KeyType),
        }
    }
}

/// Whether members may carry `=` padding. RFC 7515 §2 base64url has none;
/// keys Clavis stores or fetches have been read with it tolerated, while a
/// DPoP proof's key is hashed into its `jkt` exactly as sent, so there it is
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Padding {
    Tolerated,
    Refused,
}

/// An RSA key's decoded modulus and exponent: each caller parses it for the
/// padding (PKCS#1 v1.5 or PSS) its algorithms need.
#[derive(Debug)]
pub(crate) struct RsaKey {
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
}

/// The RSA signature paddings the verifiers use, both with SHA-256 and
/// 2048 to 8192 bit moduli.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaPadding {
    Pkcs1,
    Pss,
}

impl RsaKey {
    /// The key parsed for one padding.
    pub(crate) fn parse(&self, padding: RsaPadding) -> Result<ParsedPublicKey, KeyError> {
        let params = match padding {
            RsaPadding::Pkcs1 => &RSA_PKCS1_2048_8192_SHA256,
            RsaPadding::Pss => &RSA_PSS_2048_8192_SHA256,
        };
        let components = RsaPublicKeyComponents { n: self.n.as_slice(), e: self.e.as_slice() };
        components.to_parsed_public_key(params).map_err(|_| KeyError::InvalidRsa)
    }
}

/// A JWK's key material, decoded and (for the curves) parsed.
#[derive(Debug)]
pub(crate) enum PublicKey {
    Rsa(RsaKey),
    P256(ParsedPublicKey),
    Ed25519(ParsedPublicKey),
}

fn member(value: Option<&String>, padding: Padding) -> Result<Vec<u8>, KeyError> {
    let value = value.ok_or(KeyError::MissingMember)?;
    let value = match padding {
        Padding::Tolerated => value.trim_end_matches('='),
        Padding::Refused => value.as_str(),
    };
    URL_SAFE_NO_PAD.decode(value).map_err(|_| KeyError::BadBase64)
}

/// Decodes the members `key_type` needs (its type as [`KeyType::of`] read it).
pub(crate) fn decode(jwk: &Jwk, key_type: KeyType, padding: Padding) -> Result<PublicKey, KeyError> {
    match key_type {
        KeyType::Rsa => {
            let n = member(jwk.n.as_ref(), padding)?;
            let e = member(jwk.e.as_ref(), padding)?;
            Ok(PublicKey::Rsa(RsaKey { n, e }))
        }
        KeyType::P256 => {
            let x = member(jwk.x.as_ref(), padding)?;
            let y = member(jwk.y.as_ref(), padding)?;
            // RFC 7518 §6.2.1.2: "The length of this octet string MUST be
            // the full size of a coordinate for the curve specified in the
            // "crv" parameter", 32 octets for P-256.
            if x.len() != 32 || y.len() != 32 {
                return Err(KeyError::P256Coordinates);
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).map_err(|_| KeyError::InvalidP256)?;
            Ok(PublicKey::P256(key))
        }
        KeyType::Ed25519 => {
            let x = member(jwk.x.as_ref(), padding)?;
            Ok(PublicKey::Ed25519(ParsedPublicKey::new(&ED25519, x).map_err(|_| KeyError::InvalidEd25519)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    fn p256() -> Jwk {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = pair.public_key().as_ref();
        serde_json::from_value(json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])}))
        .unwrap()
    }

    #[test]
    fn types_are_read_from_kty_and_crv() {
        let jwk = |value| serde_json::from_value::<Jwk>(value).unwrap();
        assert_eq!(KeyType::of(&jwk(json!({"kty": "RSA"}))), Ok(KeyType::Rsa));
        assert_eq!(KeyType::of(&jwk(json!({"kty": "EC", "crv": "P-256"}))), Ok(KeyType::P256));
        assert_eq!(KeyType::of(&jwk(json!({"kty": "EC", "crv": "P-384"}))), Err(KeyError::EcCurve));
        assert_eq!(KeyType::of(&jwk(json!({"kty": "OKP", "crv": "Ed25519"}))), Ok(KeyType::Ed25519));
        assert_eq!(KeyType::of(&jwk(json!({"kty": "OKP", "crv": "X25519"}))), Err(KeyError::OkpCurve));
        assert_eq!(KeyType::of(&jwk(json!({"kty": "oct"}))), Err(KeyError::KeyType));
    }

    #[test]
    fn a_p256_key_decodes_and_bad_members_are_named() {
        let good = p256();
        assert!(matches!(decode(&good, KeyType::P256, Padding::Refused), Ok(PublicKey::P256(_))));
        let short = Jwk { x: Some("AAAA".into()), ..good.clone() };
        assert_eq!(decode(&short, KeyType::P256, Padding::Tolerated).err(), Some(KeyError::P256Coordinates));
        let missing = Jwk { y: None, ..good.clone() };
        assert_eq!(decode(&missing, KeyType::P256, Padding::Tolerated).err(), Some(KeyError::MissingMember));
        let off_curve = Jwk { y: good.x.clone(), ..good.clone() };
        assert_eq!(decode(&off_curve, KeyType::P256, Padding::Tolerated).err(), Some(KeyError::InvalidP256));
    }

    #[test]
    fn padding_is_tolerated_only_where_asked() {
        let good = p256();
        // 32 octets encode to 43 characters; one `=` pads them to 44.
        let padded = Jwk { x: good.x.as_ref().map(|x| format!("{x}=")), ..good.clone() };
        assert!(decode(&padded, KeyType::P256, Padding::Tolerated).is_ok());
        assert_eq!(decode(&padded, KeyType::P256, Padding::Refused).err(), Some(KeyError::BadBase64));
    }

    #[test]
    fn messages_match_display() {
        for err in [
            KeyError::EcCurve,
            KeyError::OkpCurve,
            KeyError::KeyType,
            KeyError::MissingMember,
            KeyError::BadBase64,
            KeyError::P256Coordinates,
            KeyError::InvalidRsa,
            KeyError::InvalidP256,
            KeyError::InvalidEd25519,
        ] {
            assert_eq!(err.message(), err.to_string());
        }
    }
}
