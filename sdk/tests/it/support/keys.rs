//! Signing keys for the fake issuer: generation, JWK export and JWS signing.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Which algorithm a fake issuer signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
    EdDsa,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private signing key with its `kid`.
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    pair: Pair,
}

static KID_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// RSA key generation is slow in debug builds: keep a few per process and
/// hand them out round-robin (each hand-out gets a fresh kid).
fn rsa_pool() -> &'static Vec<Vec<u8>> {
    static POOL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    POOL.get_or_init(|| {
        (0..3)
            .map(|_| {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
                aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap().as_ref().to_vec()
            })
            .collect()
    })
}

impl SigningKey {
    pub fn generate(alg: Alg) -> Self {
        let n = KID_COUNTER.fetch_add(1, Ordering::Relaxed);
        let kid = format!("test-{}-{n}", alg.name().to_lowercase());
        let pair = match alg {
            Alg::Rs256 => {
                let pool = rsa_pool();
                Pair::Rsa(RsaKeyPair::from_pkcs8(&pool[n % pool.len()]).unwrap())
            }
            Alg::Es256 => Pair::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()),
            Alg::EdDsa => Pair::Ed(Ed25519KeyPair::generate().unwrap()),
        };
        Self { kid, alg, pair }
    }

    /// The public JWK, as Clavis publishes it.
    pub fn jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match &self.pair {
            Pair::Rsa(pair) => {
                let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                       "n": b64(&components.n), "e": b64(&components.e)})
            }
            Pair::Ec(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
                       "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
            Pair::Ed(pair) => json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
                                      "kid": self.kid, "x": b64(pair.public_key().as_ref())}),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig).unwrap();
                sig
            }
            Pair::Ec(pair) => pair.sign(&SystemRandom::new(), message).unwrap().as_ref().to_vec(),
            Pair::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }

    /// A JWS compact token with the Clavis header and the given claims.
    pub fn mint(&self, claims: &Value) -> String {
        self.mint_with_typ(Some("at+jwt"), claims)
    }

    /// Like `mint`, with another header `typ` (or none), correctly signed.
    pub fn mint_with_typ(&self, typ: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": self.alg.name(), "kid": self.kid, "ver": 4});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let input = format!("{}.{}", b64_json(&header), b64_json(claims));
        let sig = self.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}
