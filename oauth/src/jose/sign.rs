//! Signing keys: generation, the public JWK, and a signer parsed once per
//! process so that issuing a token never re-parses a private key.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    RSA_PKCS1_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::jwk::Jwk;
use super::{Algorithm, b64};

/// Why a key could not be generated, parsed or used. The messages name no
/// key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("key generation failed")]
    Generation,
    #[error("stored signing key does not parse")]
    Unparsable,
    #[error("signing failed")]
    Signing,
}

/// A freshly generated key pair, ready to be sealed and stored.
pub struct GeneratedKey {
    pub kid: String,
    pub alg: Algorithm,
    pub pkcs8_der: Vec<u8>,
    pub public_jwk: Jwk,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// A public JWK whose `kid` is its RFC 7638 thumbprint, so the kid is
/// derived from the key itself.
fn published(mut jwk: Jwk, alg: Algorithm) -> Result<(String, Jwk), SignError> {
    let kid = jwk.thumbprint().ok_or(SignError::Generation)?;
    jwk.use_ = Some("sig".into());
    jwk.alg = Some(alg.name().into());
    jwk.kid = Some(kid.clone());
    Ok((kid, jwk))
}

fn bare(kty: &str) -> Jwk {
    Jwk { kty: kty.into(), use_: None, alg: None, kid: None, crv: None, n: None, e: None, x: None, y: None }
}

/// A new key pair for `alg`: RSA 2048, P-256 or Ed25519.
pub fn generate(alg: Algorithm) -> Result<GeneratedKey, SignError> {
    let failed = |_| SignError::Generation;
    match alg {
        Algorithm::Rs256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?;
            let der = pair.as_der().map_err(failed)?.as_ref().to_vec();
            let public = pair.public_key();
            let jwk = Jwk {
                n: Some(b64(public.modulus().big_endian_without_leading_zero())),
                e: Some(b64(public.exponent().big_endian_without_leading_zero())),
                ..bare("RSA")
            };
            let (kid, public_jwk) = published(jwk, alg)?;
            Ok(GeneratedKey { kid, alg, pkcs8_der: der, public_jwk })
        }
        Algorithm::Es256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?;
            let der = pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
            // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
            let point = pair.public_key().as_ref();
            let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
                return Err(SignError::Generation);
            };
            let jwk = Jwk { crv: Some("P-256".into()), x: Some(b64(x)), y: Some(b64(y)), ..bare("EC") };
            let (kid, public_jwk) = published(jwk, alg)?;
            Ok(GeneratedKey { kid, alg, pkcs8_der: der, public_jwk })
        }
        Algorithm::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            let der = pair.to_pkcs8().map_err(failed)?.as_ref().to_vec();
            let jwk = Jwk { crv: Some("Ed25519".into()), x: Some(b64(pair.public_key().as_ref())), ..bare("OKP") };
            let (kid, public_jwk) = published(jwk, alg)?;
            Ok(GeneratedKey { kid, alg, pkcs8_der: der, public_jwk })
        }
    }
}

enum ParsedKey {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key parsed once, with its JWS header already encoded.
pub struct Signer {
    kid: String,
    alg: Algorithm,
    key: ParsedKey,
    encoded_header: String,
    /// The header of ID tokens: OpenID Connect's plain `JWT` type, not
    /// RFC 9068's `at+jwt`, so an ID token is never taken for an access token.
    encoded_id_header: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl Signer {
    /// Parses a PKCS#8 private key once; `kid` and `alg` go into the header
    /// of every token it signs.
    pub fn from_pkcs8(kid: &str, alg: Algorithm, der: &[u8]) -> Result<Self, SignError> {
        let rejected = |_| SignError::Unparsable;
        let key = match alg {
            Algorithm::Rs256 => ParsedKey::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(rejected)?),
            // The DER signature, turned into JWS's fixed R || S here (see
            // `p256_der_to_fixed`): aws-lc-rs's fixed format parses the DER
            // back into two bignums and copies each out.
            Algorithm::Es256 => {
                ParsedKey::Ecdsa(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der).map_err(rejected)?)
            }
            Algorithm::EdDsa => ParsedKey::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
        };
        let header = crate::access_token::header_json(alg.name(), kid);
        let id_header = serde_json::json!({"alg": alg.name(), "kid": kid, "typ": "JWT", "ver": 4}).to_string();
        Ok(Self {
            kid: kid.to_owned(),
            alg,
            key,
            encoded_header: b64(header.as_bytes()),
            encoded_id_header: b64(id_header.as_bytes()),
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm every token it signs names.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Builds the compact JWS `header.payload.signature` of an access token
    /// for `claims_json`, in one allocation.
    pub fn sign_jwt(&self, claims_json: &[u8]) -> Result<String, SignError> {
        self.sign_with_header(&self.encoded_header, claims_json)
    }

    /// The same for an ID token (header `typ: JWT`).
    pub fn sign_id_token(&self, claims_json: &[u8]) -> Result<String, SignError> {
        self.sign_with_header(&self.encoded_id_header, claims_json)
    }

    /// The length of this key's signatures in base64url: the token is
    /// allocated at its exact size (an ES256 token then stays in the
    /// allocator's small, fast size classes).
    fn signature_b64_len(&self) -> usize {
        match &self.key {
            ParsedKey::Rsa(pair) => b64_len(pair.public_modulus_len()),
            ParsedKey::Ecdsa(_) => b64_len(P256_FIXED_SIGNATURE),
            ParsedKey::Ed25519(_) => b64_len(ED25519_SIGNATURE),
        }
    }

    fn sign_with_header(&self, encoded_header: &str, claims_json: &[u8]) -> Result<String, SignError> {
        let mut token = String::with_capacity(
            encoded_header.len() + 1 + claims_json.len().div_ceil(3) * 4 + 1 + self.signature_b64_len(),
        );
        token.push_str(encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
        let failed = |_| SignError::Signing;
        match &self.key {
            ParsedKey::Rsa(pair) => {
                let mut out = [0u8; MAX_RSA_SIGNATURE];
                let out = out.get_mut(..pair.public_modulus_len()).ok_or(SignError::Signing)?;
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), out).map_err(failed)?;
                push_signature(&mut token, out);
            }
            ParsedKey::Ecdsa(pair) => {
                // Hashing first and signing the digest skips the EVP digest
                // context that signing the message sets up (and copies) per
                // signature; the result is the same ECDSA over SHA-256.
                let hashed = digest(&SHA256, token.as_bytes());
                let der = pair.sign_digest(&hashed).map_err(failed)?;
                let mut fixed = [0u8; P256_FIXED_SIGNATURE];
                p256_der_to_fixed(der.as_ref(), &mut fixed).ok_or(SignError::Signing)?;
                push_signature(&mut token, &fixed);
            }
            ParsedKey::Ed25519(pair) => {
                let signature = pair.sign(token.as_bytes());
                push_signature(&mut token, signature.as_ref());
            }
        }
        Ok(token)
    }
}

/// The largest RSA signature handled: a 4096-bit modulus.
const MAX_RSA_SIGNATURE: usize = 512;
/// An Ed25519 signature, like a P-256 one in JWS form, is 64 bytes.
const ED25519_SIGNATURE: usize = 64;

/// The base64url length, without padding, of `bytes` bytes.
const fn b64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

fn push_signature(token: &mut String, signature: &[u8]) {
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, token);
}

/// RFC 7518 §3.4: an ES256 signature is "the concatenation of the two
/// unsigned integers", R and S, "each 32 octets".
const P256_FIXED_SIGNATURE: usize = 64;
const P256_SCALAR: usize = 32;

/// Writes the DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3: `SEQUENCE { r
/// INTEGER, s INTEGER }`) as JWS's fixed R || S. `None` for anything but
/// one well-formed P-256 signature (never expected from aws-lc).
fn p256_der_to_fixed(der: &[u8], out: &mut [u8; P256_FIXED_SIGNATURE]) -> Option<()> {
    // A P-256 signature is at most 72 bytes, so every length is one byte.
    let body = match der {
        [0x30, len, body @ ..] if usize::from(*len) == body.len() => body,
        _ => return None,
    };
    let (r, rest) = der_unsigned(body)?;
    let (s, rest) = der_unsigned(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let (out_r, out_s) = out.split_at_mut(P256_SCALAR);
    right_align(r, out_r)?;
    right_align(s, out_s)
}

/// A DER INTEGER's magnitude (its sign byte dropped) and what follows it.
fn der_unsigned(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let [0x02, len, rest @ ..] = input else {
        return None;
    };
    let len = usize::from(*len);
    if len > 0x7f || len > rest.len() {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    // The sign byte DER puts before a magnitude whose top bit is set.
    let value = match value {
        [0, tail @ ..] => tail,
        _ => value,
    };
    Some((value, rest))
}

/// Copies `value` into the end of `out`, the leading bytes zero.
fn right_align(value: &[u8], out: &mut [u8]) -> Option<()> {
    let start = out.len().checked_sub(value.len())?;
    let (zeros, tail) = out.split_at_mut(start);
    zeros.fill(0);
    tail.copy_from_slice(value);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::jwk::JwkSet;
    use crate::jose::verify::KeySet;

    #[test]
    fn every_algorithm_signs_tokens_that_verify_against_its_jwk() {
        for alg in Algorithm::ALL {
            let key = generate(alg).unwrap();
            let signer = Signer::from_pkcs8(&key.kid, alg, &key.pkcs8_der).unwrap();
            let token = signer.sign_jwt(br#"{"sub":"abc","aud":["x"],"exp":99999999999}"#).unwrap();
            // Allocated once, at its size (the payload's padding at most over).
            assert!((token.len()..token.len() + 4).contains(&token.capacity()), "{alg:?}: {}", token.capacity());
            let keys = KeySet::from_jwks(&JwkSet { keys: vec![key.public_jwk.clone()] });
            let parsed = crate::jose::verify::parse(&token).unwrap();
            assert_eq!(parsed.kid, key.kid);
            assert!(parsed.typ_at_jwt);
            let payload = parsed.verify(keys.get(&key.kid).unwrap()).unwrap();
            let claims: serde_json::Value = serde_json::from_str(&payload).unwrap();
            assert_eq!(claims["sub"], "abc");
        }
    }

    #[test]
    fn id_tokens_carry_the_plain_jwt_type_and_verify_with_the_same_key() {
        let key = generate(Algorithm::Rs256).unwrap();
        let signer = Signer::from_pkcs8(&key.kid, Algorithm::Rs256, &key.pkcs8_der).unwrap();
        let token = signer.sign_id_token(br#"{"sub":"abc"}"#).unwrap();
        let parsed = crate::jose::verify::parse(&token).unwrap();
        assert!(!parsed.typ_at_jwt, "an ID token must not pass for an access token");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "RS256", "kid": key.kid, "typ": "JWT", "ver": 4}));
        let keys = KeySet::from_jwks(&JwkSet { keys: vec![key.public_jwk.clone()] });
        assert!(parsed.verify(keys.get(&key.kid).unwrap()).is_ok());
    }

    #[test]
    fn es256_signatures_are_64_bytes_of_r_and_s_and_verify() {
        // About one signature in 128 has an R or S under 32 bytes (a leading
        // zero byte), and half have a DER sign byte: 1,000 signatures cover
        // both paddings of the DER to fixed conversion.
        let key = generate(Algorithm::Es256).unwrap();
        let signer = Signer::from_pkcs8(&key.kid, Algorithm::Es256, &key.pkcs8_der).unwrap();
        let keys = KeySet::from_jwks(&JwkSet { keys: vec![key.public_jwk.clone()] });
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            signer_public_key(&signer),
        );
        for i in 0..1000 {
            let token = signer.sign_jwt(format!(r#"{{"sub":"abc","n":{i},"exp":99999999999}}"#).as_bytes()).unwrap();
            let (input, signature) = token.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            assert_eq!(signature.len(), 64);
            public.verify(input.as_bytes(), &signature).unwrap();
            let parsed = crate::jose::verify::parse(&token).unwrap();
            assert!(parsed.verify(keys.get(&key.kid).unwrap()).is_ok());
        }
    }

    fn signer_public_key(signer: &Signer) -> Vec<u8> {
        match &signer.key {
            ParsedKey::Ecdsa(pair) => pair.public_key().as_ref().to_vec(),
            _ => unreachable!("an ES256 signer holds an ECDSA key"),
        }
    }

    #[test]
    fn der_signatures_become_right_aligned_r_and_s() {
        let r: Vec<u8> = std::iter::once(0x80).chain(1..32).collect();
        let s: Vec<u8> = (1..32).collect();
        let mut der = vec![0x30, 0, 0x02, 33, 0];
        der.extend(&r);
        der.extend([0x02, 31]);
        der.extend(&s);
        der[1] = u8::try_from(der.len() - 2).unwrap();
        let mut out = [0xffu8; 64];
        assert_eq!(p256_der_to_fixed(&der, &mut out), Some(()));
        assert_eq!(&out[..32], r.as_slice());
        assert_eq!(out[32], 0);
        assert_eq!(&out[33..], s.as_slice());

        let reject = |bytes: &[u8]| p256_der_to_fixed(bytes, &mut [0u8; 64]).is_none();
        assert!(reject(&[]));
        let mut wrong_tag = der.clone();
        wrong_tag[0] = 0x31;
        assert!(reject(&wrong_tag));
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(reject(&trailing), "the sequence length no longer matches");
        let mut extra = der.clone();
        extra.extend([0x02, 1, 1]);
        extra[1] = u8::try_from(extra.len() - 2).unwrap();
        assert!(reject(&extra), "a third integer");
        let mut too_long = vec![0x30, 0, 0x02, 33, 1];
        too_long.extend(&r);
        too_long.extend([0x02, 1, 1]);
        too_long[1] = u8::try_from(too_long.len() - 2).unwrap();
        assert!(reject(&too_long), "33 significant bytes do not fit");
        assert!(reject(&[0x30, 4, 0x02, 5, 1, 1]), "an integer longer than its input");
    }

    #[test]
    fn the_kid_is_the_thumbprint_of_the_published_key() {
        for alg in Algorithm::ALL {
            let key = generate(alg).unwrap();
            assert_eq!(key.public_jwk.thumbprint().as_deref(), Some(key.kid.as_str()));
            assert_eq!(key.public_jwk.alg.as_deref(), Some(alg.name()));
            assert_eq!(key.public_jwk.use_.as_deref(), Some("sig"));
        }
    }
}
