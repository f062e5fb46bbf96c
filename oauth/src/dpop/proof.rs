//! Building DPoP proofs (RFC 9449 §4.2) from a private key: for the SDK's
//! token manager and for tests of the verifiers.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{PROOF_TYPE, ProofAlg, ath};
use crate::jose::jwk::Jwk;
use crate::jose::sign::SignError;

/// What one proof says.
#[derive(Debug, Clone, Copy)]
pub struct ProofClaims<'a> {
    pub htm: &'a str,
    pub htu: &'a str,
    /// Unix seconds.
    pub iat: i64,
    /// Unique per proof; a random value of 96 bits or more.
    pub jti: &'a str,
    /// The server's latest `DPoP-Nonce`, once it has sent one.
    pub nonce: Option<&'a str>,
    /// The access token a resource-server request presents: hashed into `ath`.
    pub access_token: Option<&'a str>,
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(aws_lc_rs::rsa::KeyPair),
}

/// A client's DPoP key: signs proofs; its public JWK goes into each one.
pub struct ProofKey {
    alg: ProofAlg,
    pair: Pair,
    jwk: Jwk,
    thumbprint: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofKey").field("alg", &self.alg).field("jkt", &self.thumbprint).finish_non_exhaustive()
    }
}

fn bare(kty: &str) -> Jwk {
    Jwk { kty: kty.into(), use_: None, alg: None, kid: None, crv: None, n: None, e: None, x: None, y: None }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl ProofKey {
    /// A fresh key for `alg` (P-256, Ed25519, or RSA 2048 for RS256/PS256).
    pub fn generate(alg: ProofAlg) -> Result<Self, SignError> {
        let failed = |_| SignError::Generation;
        let pair = match alg {
            ProofAlg::Es256 => Pair::Ecdsa(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?),
            ProofAlg::EdDsa => Pair::Ed25519(Ed25519KeyPair::generate().map_err(failed)?),
            ProofAlg::Rs256 | ProofAlg::Ps256 => {
                Pair::Rsa(aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?)
            }
        };
        Self::from_pair(alg, pair).ok_or(SignError::Generation)
    }

    /// A stored key (PKCS#8 DER), so a client keeps one key across restarts.
    pub fn from_pkcs8(alg: ProofAlg, der: &[u8]) -> Result<Self, SignError> {
        let rejected = |_| SignError::Unparsable;
        let pair = match alg {
            ProofAlg::Es256 => {
                Pair::Ecdsa(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(rejected)?)
            }
            ProofAlg::EdDsa => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
            ProofAlg::Rs256 | ProofAlg::Ps256 => Pair::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(rejected)?),
        };
        Self::from_pair(alg, pair).ok_or(SignError::Unparsable)
    }

    fn from_pair(alg: ProofAlg, pair: Pair) -> Option<Self> {
        let jwk = match &pair {
            Pair::Ecdsa(pair) => {
                let point = pair.public_key().as_ref();
                let (x, y) = (point.get(1..33)?, point.get(33..65)?);
                Jwk { crv: Some("P-256".into()), x: Some(b64(x)), y: Some(b64(y)), ..bare("EC") }
            }
            Pair::Ed25519(pair) => {
                Jwk { crv: Some("Ed25519".into()), x: Some(b64(pair.public_key().as_ref())), ..bare("OKP") }
            }
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                Jwk {
                    n: Some(b64(public.modulus().big_endian_without_leading_zero())),
                    e: Some(b64(public.exponent().big_endian_without_leading_zero())),
                    ..bare("RSA")
                }
            }
        };
        let thumbprint = jwk.thumbprint()?;
        Some(Self { alg, pair, jwk, thumbprint, rng: SystemRandom::new() })
    }

    /// The private key as PKCS#8 DER, to store it (a secret: keep it so).
    pub fn to_pkcs8(&self) -> Result<Vec<u8>, SignError> {
        let failed = |_| SignError::Signing;
        Ok(match &self.pair {
            Pair::Ecdsa(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Pair::Ed25519(pair) => pair.to_pkcs8().map_err(failed)?.as_ref().to_vec(),
            Pair::Rsa(pair) => pair.as_der().map_err(failed)?.as_ref().to_vec(),
        })
    }

    pub fn alg(&self) -> ProofAlg {
        self.alg
    }

    /// The public key a proof carries.
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The RFC 7638 thumbprint: what a token bound to this key names in `cnf.jkt`.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The standard proof header: `typ`, `alg` and the public `jwk`.
    pub fn header(&self) -> Value {
        json!({"typ": PROOF_TYPE, "alg": self.alg.name(), "jwk": self.jwk})
    }

    /// Signs a proof.
    pub fn sign(&self, claims: &ProofClaims<'_>) -> Result<String, SignError> {
        let mut body = json!({"jti": claims.jti, "htm": claims.htm, "htu": claims.htu, "iat": claims.iat});
        if let Some(nonce) = claims.nonce {
            body["nonce"] = json!(nonce);
        }
        if let Some(token) = claims.access_token {
            body["ath"] = json!(ath(token));
        }
        self.sign_raw(&self.header(), &body)
    }

    /// Signs any header and claims with this key, checking neither: for
    /// tests that show a verifier refuses a malformed proof.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> Result<String, SignError> {
        let failed = |_| SignError::Signing;
        let mut jws = b64(header.to_string().as_bytes());
        jws.push('.');
        jws.push_str(&b64(claims.to_string().as_bytes()));
        let signature = match &self.pair {
            Pair::Ecdsa(pair) => pair.sign(&self.rng, jws.as_bytes()).map_err(failed)?.as_ref().to_vec(),
            Pair::Ed25519(pair) => pair.sign(jws.as_bytes()).as_ref().to_vec(),
            Pair::Rsa(pair) => {
                let padding = if self.alg == ProofAlg::Ps256 { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(padding, &self.rng, jws.as_bytes(), &mut out).map_err(failed)?;
                out
            }
        };
        jws.push('.');
        jws.push_str(&b64(&signature));
        Ok(jws)
    }
}
