//! Signing keys: generation, the public JWK, and a signer parsed once per
//! process so that issuing a token never re-parses a private key.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The JWS algorithms a tenant can sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "RS256" => Ok(SigningAlg::RS256),
            "ES256" => Ok(SigningAlg::ES256),
            "EdDSA" => Ok(SigningAlg::EdDSA),
            _ => Err(Error::validation("signing algorithm must be RS256, ES256 or EdDSA")),
        }
    }
}

/// A freshly generated key pair, ready to be sealed and stored.
pub struct GeneratedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub pkcs8_der: Vec<u8>,
    pub public_jwk: serde_json::Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638 thumbprint: the kid is derived from the public key itself.
fn thumbprint(required_members: &str) -> String {
    b64(&Sha256::digest(required_members.as_bytes()))
}

pub fn generate(alg: SigningAlg) -> Result<GeneratedKey> {
    let failed = |_| Error::internal("key generation failed");
    match alg {
        SigningAlg::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?;
            let der = pair.as_der().map_err(failed)?.as_ref().to_vec();
            let public = pair.public_key();
            let n = b64(public.modulus().big_endian_without_leading_zero());
            let e = b64(public.exponent().big_endian_without_leading_zero());
            let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
            let jwk = serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
            Ok(GeneratedKey { kid, alg, pkcs8_der: der, public_jwk: jwk })
        }
        SigningAlg::ES256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?;
            let der = pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
            // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
            let point = pair.public_key().as_ref();
            if point.len() != 65 {
                return Err(Error::internal("unexpected P-256 public key length"));
            }
            let x = b64(&point[1..33]);
            let y = b64(&point[33..65]);
            let kid = thumbprint(&format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#));
            let jwk = serde_json::json!({"kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256", "x": x, "y": y});
            Ok(GeneratedKey { kid, alg, pkcs8_der: der, public_jwk: jwk })
        }
        SigningAlg::EdDSA => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            let der = pair.to_pkcs8().map_err(failed)?.as_ref().to_vec();
            let x = b64(pair.public_key().as_ref());
            let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
            let jwk =
                serde_json::json!({"kty": "OKP", "use": "sig", "alg": "EdDSA", "kid": kid, "crv": "Ed25519", "x": x});
            Ok(GeneratedKey { kid, alg, pkcs8_der: der, public_jwk: jwk })
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
    alg: SigningAlg,
    key: ParsedKey,
    encoded_header: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl Signer {
    pub fn from_pkcs8(kid: &str, alg: SigningAlg, der: &[u8]) -> Result<Self> {
        let rejected = |_| Error::internal("stored signing key does not parse");
        let key = match alg {
            SigningAlg::RS256 => ParsedKey::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(rejected)?),
            SigningAlg::ES256 => {
                ParsedKey::Ecdsa(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(rejected)?)
            }
            SigningAlg::EdDSA => ParsedKey::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
        };
        let header = crate::oauth::access_token::header_json(alg.as_str(), kid);
        Ok(Self { kid: kid.to_owned(), alg, key, encoded_header: b64(header.as_bytes()), rng: SystemRandom::new() })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Builds the compact JWS `header.payload.signature` for `claims_json`,
    /// in one allocation.
    pub fn sign_jwt(&self, claims_json: &[u8]) -> Result<String> {
        let mut token = String::with_capacity(
            self.encoded_header.len() + 1 + claims_json.len().div_ceil(3) * 4 + 1 + MAX_SIGNATURE_B64,
        );
        token.push_str(&self.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
        let failed = |_| Error::internal("signing failed");
        match &self.key {
            ParsedKey::Rsa(pair) => {
                let mut out = [0u8; MAX_RSA_SIGNATURE];
                let out =
                    out.get_mut(..pair.public_modulus_len()).ok_or_else(|| Error::internal("RSA key too large"))?;
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), out).map_err(failed)?;
                push_signature(&mut token, out);
            }
            ParsedKey::Ecdsa(pair) => {
                let signature = pair.sign(&self.rng, token.as_bytes()).map_err(failed)?;
                push_signature(&mut token, signature.as_ref());
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
const MAX_SIGNATURE_B64: usize = MAX_RSA_SIGNATURE.div_ceil(3) * 4;

fn push_signature(token: &mut String, signature: &[u8]) {
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, token);
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};

    #[test]
    fn every_algorithm_signs_tokens_that_verify_against_its_jwk() {
        for alg in SigningAlg::ALL {
            let key = generate(alg).unwrap();
            let signer = Signer::from_pkcs8(&key.kid, alg, &key.pkcs8_der).unwrap();
            let token = signer.sign_jwt(br#"{"sub":"abc","aud":["x"],"exp":99999999999}"#).unwrap();
            let jwk: Jwk = serde_json::from_value(key.public_jwk.clone()).unwrap();
            let decoding = DecodingKey::from_jwk(&jwk).unwrap();
            let algorithm = match alg {
                SigningAlg::RS256 => Algorithm::RS256,
                SigningAlg::ES256 => Algorithm::ES256,
                SigningAlg::EdDSA => Algorithm::EdDSA,
            };
            let mut validation = Validation::new(algorithm);
            validation.set_audience(&["x"]);
            let data = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
            assert_eq!(data.claims["sub"], "abc");
            assert_eq!(data.header.kid.as_deref(), Some(key.kid.as_str()));
            assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
        }
    }
}
