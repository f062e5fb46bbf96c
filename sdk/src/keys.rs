//! The caller's own private keys: parsed once from PKCS#8 (PEM or DER), they sign client assertions (RFC 7523) and DPoP proofs (RFC 9449).

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The JWS algorithms a [`PrivateKey`] signs with.
///
/// ```
/// use clavis_sdk::SigningAlgorithm;
///
/// assert_eq!(SigningAlgorithm::Ps256.name(), "PS256");
/// assert_eq!(SigningAlgorithm::ALL.len(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of 2048 bits or more).
    Rs256,
    /// RSASSA-PSS with SHA-256 (RSA keys of 2048 bits or more).
    Ps256,
}

impl SigningAlgorithm {
    /// Every algorithm, in the order `algs` challenges list them.
    pub const ALL: [SigningAlgorithm; 4] =
        [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256, SigningAlgorithm::Ps256];

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

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a key could not be read or used. The messages never quote key material.
///
/// ```
/// let err = clavis_sdk::PrivateKey::from_pem("not a key").unwrap_err();
/// assert!(err.to_string().contains("PEM"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a PEM document.
    #[error("the key is not a PEM document")]
    NotPem,
    /// A PEM document of another kind than an unencrypted PKCS#8 `PRIVATE KEY`.
    #[error(
        "the PEM document is a {0:?}, not an unencrypted PKCS#8 \"PRIVATE KEY\" (convert it with `openssl pkcs8 -topk8 -nocrypt`)"
    )]
    WrongPemLabel(String),
    /// The DER is not an unencrypted PKCS#8 P-256, Ed25519 or RSA (2048 bits or more) private key.
    #[error("the key is not a PKCS#8 P-256, Ed25519 or RSA (2048 bits or more) private key")]
    Unsupported,
    /// The algorithm asked for does not fit the key's type.
    #[error("{alg} cannot be used with this {kty} key")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        alg: SigningAlgorithm,
        /// The key's JWK `kty`.
        kty: &'static str,
    },
    /// The key could not be generated.
    #[error("key generation failed")]
    Generation,
    /// Signing failed.
    #[error("signing failed")]
    Signing,
}

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

struct Parsed {
    pair: Pair,
    /// The public members only (`kty`, `crv`, `x`, `y`, `n`, `e`).
    public_jwk: Value,
    thumbprint: String,
    rng: SystemRandom,
}

/// A private signing key held by the caller: P-256 (ES256), Ed25519 (EdDSA)
/// or RSA of 2048 bits or more (RS256 by default, or PS256). Parsed once;
/// cheap to clone. Its `Debug` output shows the algorithm and key ID only.
///
/// The key ID defaults to the key's RFC 7638 thumbprint, as Clavis names
/// keys; register the [`public_jwk`](Self::public_jwk) with the application.
///
/// ```
/// use clavis_sdk::{PrivateKey, SigningAlgorithm};
///
/// let key = PrivateKey::generate(SigningAlgorithm::Es256)?;
/// assert_eq!(key.kid(), key.thumbprint());
/// assert_eq!(key.public_jwk()["kty"], "EC");
/// assert!(key.public_jwk().get("d").is_none());
/// assert!(!format!("{key:?}").contains(key.public_jwk()["x"].as_str().unwrap()));
/// # Ok::<(), clavis_sdk::KeyError>(())
/// ```
#[derive(Clone)]
pub struct PrivateKey {
    parsed: Arc<Parsed>,
    alg: SigningAlgorithm,
    kid: Arc<str>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Reads an unencrypted PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`),
    /// as `openssl genpkey` writes it.
    ///
    /// # Errors
    /// [`KeyError::NotPem`], [`KeyError::WrongPemLabel`] (an encrypted or
    /// PKCS#1/SEC1 document) or [`KeyError::Unsupported`].
    ///
    /// ```no_run
    /// let key = clavis_sdk::PrivateKey::from_pem(&std::fs::read_to_string("client-key.pem")?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let document = pem::parse(pem.trim()).map_err(|_| KeyError::NotPem)?;
        if document.tag() != "PRIVATE KEY" {
            return Err(KeyError::WrongPemLabel(document.tag().to_owned()));
        }
        Self::from_pkcs8_der(document.contents())
    }

    /// Reads an unencrypted PKCS#8 DER private key.
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] for anything but a P-256, Ed25519 or RSA
    /// (2048 bits or more) key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair = if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            Pair::Ec(pair)
        } else if let Ok(pair) = Ed25519KeyPair::from_pkcs8(der) {
            Pair::Ed(pair)
        } else if let Ok(pair) = RsaKeyPair::from_pkcs8(der) {
            // RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used".
            if pair.public_modulus_len() < 256 {
                return Err(KeyError::Unsupported);
            }
            Pair::Rsa(pair)
        } else {
            return Err(KeyError::Unsupported);
        };
        Self::from_pair(pair)
    }

    /// A new random key for `alg` (RSA keys are 2048 bits), for instance a
    /// DPoP key that lives as long as the process.
    ///
    /// # Errors
    /// [`KeyError::Generation`] if the system's random source fails.
    pub fn generate(alg: SigningAlgorithm) -> Result<Self, KeyError> {
        let failed = |_| KeyError::Generation;
        let pair = match alg {
            SigningAlgorithm::Es256 => {
                Pair::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?)
            }
            SigningAlgorithm::EdDsa => Pair::Ed(Ed25519KeyPair::generate().map_err(failed)?),
            SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256 => {
                Pair::Rsa(RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?)
            }
        };
        Self::from_pair(pair)?.with_algorithm(alg)
    }

    fn from_pair(pair: Pair) -> Result<Self, KeyError> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let (alg, public_jwk) = match &pair {
            Pair::Ec(pair) => {
                // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = pair.public_key().as_ref();
                let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
                    return Err(KeyError::Unsupported);
                };
                (SigningAlgorithm::Es256, json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}))
            }
            Pair::Ed(pair) => {
                (SigningAlgorithm::EdDsa, json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())}))
            }
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                let n = b64(public.modulus().big_endian_without_leading_zero());
                let e = b64(public.exponent().big_endian_without_leading_zero());
                (SigningAlgorithm::Rs256, json!({"kty": "RSA", "n": n, "e": e}))
            }
        };
        let thumbprint = serde_json::from_value::<clavis_oauth::jose::jwk::Jwk>(public_jwk.clone())
            .ok()
            .and_then(|jwk| jwk.thumbprint())
            .ok_or(KeyError::Unsupported)?;
        let kid = Arc::from(thumbprint.as_str());
        Ok(Self { parsed: Arc::new(Parsed { pair, public_jwk, thumbprint, rng: SystemRandom::new() }), alg, kid })
    }

    /// The same key under another key ID (the `kid` of the JWKS it is
    /// registered in).
    ///
    /// ```
    /// let key = clavis_sdk::PrivateKey::generate(clavis_sdk::SigningAlgorithm::EdDsa)?.with_kid("ci-2026");
    /// assert_eq!(key.kid(), "ci-2026");
    /// # Ok::<(), clavis_sdk::KeyError>(())
    /// ```
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Arc::from(kid.into());
        self
    }

    /// The same key signing with `alg`: an RSA key signs RS256 by default
    /// and PS256 on request; EC and OKP keys have one algorithm each.
    ///
    /// # Errors
    /// [`KeyError::AlgorithmMismatch`] when `alg` does not fit the key.
    ///
    /// ```
    /// use clavis_sdk::{PrivateKey, SigningAlgorithm};
    ///
    /// let key = PrivateKey::generate(SigningAlgorithm::Es256)?;
    /// assert!(key.with_algorithm(SigningAlgorithm::Ps256).is_err());
    /// # Ok::<(), clavis_sdk::KeyError>(())
    /// ```
    pub fn with_algorithm(mut self, alg: SigningAlgorithm) -> Result<Self, KeyError> {
        let fits = matches!(
            (&self.parsed.pair, alg),
            (Pair::Ec(_), SigningAlgorithm::Es256)
                | (Pair::Ed(_), SigningAlgorithm::EdDsa)
                | (Pair::Rsa(_), SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256)
        );
        if !fits {
            return Err(KeyError::AlgorithmMismatch { alg, kty: self.kty() });
        }
        self.alg = alg;
        Ok(self)
    }

    fn kty(&self) -> &'static str {
        match self.parsed.pair {
            Pair::Ec(_) => "EC",
            Pair::Ed(_) => "OKP",
            Pair::Rsa(_) => "RSA",
        }
    }

    /// The algorithm it signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The key ID put in the header of what it signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The RFC 7638 thumbprint of the public key (what `cnf.jkt` names in a
    /// DPoP-bound token).
    pub fn thumbprint(&self) -> &str {
        &self.parsed.thumbprint
    }

    /// The public JWK, with `kid`, `alg` and `use: sig`: what to register
    /// with the application (`PUT …/applications/{clientId}/jwks`).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.parsed.public_jwk.clone();
        if let Some(members) = jwk.as_object_mut() {
            members.insert("kid".into(), Value::from(&*self.kid));
            members.insert("alg".into(), Value::from(self.alg.name()));
            members.insert("use".into(), Value::from("sig"));
        }
        jwk
    }

    /// The public key members only, as a DPoP proof's `jwk` header carries them.
    pub(crate) fn bare_public_jwk(&self) -> &Value {
        &self.parsed.public_jwk
    }

    /// The PKCS#8 DER of the key, to store a generated key. Handle it as the
    /// secret it is.
    ///
    /// # Errors
    /// [`KeyError::Signing`] if the key cannot be serialized.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError::Signing;
        let der = match &self.parsed.pair {
            Pair::Ec(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Pair::Ed(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Pair::Rsa(pair) => AsDer::<Pkcs8V1Der>::as_der(pair).map_err(failed)?.as_ref().to_vec(),
        };
        Ok(der)
    }

    /// A compact JWS of `claims` under `header` (to which `alg` is added).
    pub(crate) fn sign_jws(&self, mut header: Value, claims: &Value) -> Result<String, KeyError> {
        if let Some(members) = header.as_object_mut() {
            members.insert("alg".into(), Value::from(self.alg.name()));
        }
        let encode = |value: &Value| serde_json::to_vec(value).map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
        let header = encode(&header).map_err(|_| KeyError::Signing)?;
        let claims = encode(claims).map_err(|_| KeyError::Signing)?;
        let input = format!("{header}.{claims}");
        let failed = |_| KeyError::Signing;
        let parsed = &self.parsed;
        let signature = match (&parsed.pair, self.alg) {
            (Pair::Ec(pair), _) => pair.sign(&parsed.rng, input.as_bytes()).map_err(failed)?.as_ref().to_vec(),
            (Pair::Ed(pair), _) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            (Pair::Rsa(pair), alg) => {
                let padding = if alg == SigningAlgorithm::Ps256 { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(padding, &parsed.rng, input.as_bytes(), &mut out).map_err(failed)?;
                out
            }
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_pkcs8_and_keeps_its_thumbprint() {
        for alg in SigningAlgorithm::ALL {
            let key = PrivateKey::generate(alg).unwrap();
            assert_eq!(key.algorithm(), alg);
            let der = key.to_pkcs8_der().unwrap();
            let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.clone()));
            let again = PrivateKey::from_pem(&pem).unwrap();
            assert_eq!(again.thumbprint(), key.thumbprint(), "{alg}");
            let again = PrivateKey::from_pkcs8_der(&der).unwrap().with_algorithm(alg).unwrap();
            assert_eq!(again.algorithm(), alg);
        }
    }

    #[test]
    fn wrong_documents_get_clear_errors() {
        let label = pem::encode(&pem::Pem::new("EC PRIVATE KEY", vec![1, 2, 3]));
        assert_eq!(PrivateKey::from_pem(&label).unwrap_err(), KeyError::WrongPemLabel("EC PRIVATE KEY".into()));
        let junk = pem::encode(&pem::Pem::new("PRIVATE KEY", vec![1, 2, 3]));
        assert_eq!(PrivateKey::from_pem(&junk).unwrap_err(), KeyError::Unsupported);
        assert_eq!(PrivateKey::from_pem("hello").unwrap_err(), KeyError::NotPem);
    }
}
