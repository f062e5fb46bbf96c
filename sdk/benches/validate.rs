//! Validated tokens per second, single thread, for RS256, ES256 and EdDSA.
//!
//! Runs `TokenValidator::validate` (the code path `ProtectLayer` uses) on
//! Clavis-shaped tokens, with keys fetched once through discovery from a small
//! in-process issuer on 127.0.0.1. For comparison it also times
//! `jsonwebtoken::decode` with a `DecodingKey` built once from the same JWK.
//!
//! `cargo bench -p clavis-sdk --bench validate` (set `BENCH_SECONDS` to change
//! the time per figure, default 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_sdk::{Claims, TokenValidator};
use serde_json::{Value, json};

const TOKENS: usize = 64;

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

struct Case {
    alg: &'static str,
    key: Key,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Case {
    fn jwk(&self) -> Value {
        let kid = format!("bench-{}", self.alg);
        match &self.key {
            Key::Rsa(k) => {
                let c = PublicKeyComponents::<Vec<u8>>::from(k.public_key());
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64(&c.n), "e": b64(&c.e)})
            }
            Key::Ec(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                       "x": b64(&p[1..33]), "y": b64(&p[33..65])})
            }
            Key::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                                 "x": b64(k.public_key().as_ref())})
            }
        }
    }

    /// The bare signature check, for scale.
    fn parsed_public_key(&self) -> ParsedPublicKey {
        match &self.key {
            Key::Rsa(k) => PublicKeyComponents::<Vec<u8>>::from(k.public_key())
                .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                .unwrap(),
            Key::Ec(k) => ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, k.public_key().as_ref()).unwrap(),
            Key::Ed(k) => ParsedPublicKey::new(&ED25519, k.public_key().as_ref()).unwrap(),
        }
    }

    fn mint(&self, issuer: &str, n: usize) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let header = json!({"alg": self.alg, "kid": format!("bench-{}", self.alg), "typ": "at+jwt", "ver": 4});
        let claims = json!({
            "iss": issuer, "sub": "client-bench", "client_id": "client-bench", "azp": "client-bench",
            "aud": ["client-bench", "https://api.example"], "iat": now, "exp": now + 3600,
            "jti": format!("jti-{n}"), "tenant": "bench", "scope": "appid_default read",
            "amr": ["appid_client_credentials"], "gty": "client-credentials",
        });
        let input =
            format!("{}.{}", b64(&serde_json::to_vec(&header).unwrap()), b64(&serde_json::to_vec(&claims).unwrap()));
        let sig = match &self.key {
            Key::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
                sig
            }
            Key::Ec(k) => k.sign(&SystemRandom::new(), input.as_bytes()).unwrap().as_ref().to_vec(),
            Key::Ed(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(&sig))
    }
}

/// Runs `f` over the tokens for about `secs`; returns operations per second.
fn measure(secs: f64, tokens: &[String], mut f: impl FnMut(&str)) -> f64 {
    for t in tokens {
        f(t); // warm-up
    }
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < budget {
        for t in tokens {
            f(t);
        }
        ops += tokens.len() as u64;
    }
    ops as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cases = [
        Case { alg: "RS256", key: Key::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()) },
        Case { alg: "ES256", key: Key::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()) },
        Case { alg: "EdDSA", key: Key::Ed(Ed25519KeyPair::generate().unwrap()) },
    ];
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let issuer = format!("http://{}/oauth/v4/bench", listener.local_addr().unwrap());
    let jwks = json!({"keys": cases.iter().map(Case::jwk).collect::<Vec<_>>()});
    let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/publickeys")});
    let app = Router::new()
        .route("/oauth/v4/bench/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
        .route(
            "/oauth/v4/bench/publickeys",
            get({
                let jwks = jwks.clone();
                move || async move { Json(jwks) }
            }),
        );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let validator = TokenValidator::builder(&issuer)
        .audience("https://api.example")
        .required_scopes(["appid_default"])
        .build()
        .unwrap();

    println!("single-thread token validation, {secs} s per figure, {TOKENS} distinct tokens");
    println!(
        "{:<7} {:>22} {:>28} {:>26}",
        "alg", "clavis-sdk (tokens/s)", "jsonwebtoken::decode (/s)", "signature only (/s)"
    );
    for case in &cases {
        let tokens: Vec<String> = (0..TOKENS).map(|n| case.mint(&issuer, n)).collect();
        // The first call fetches discovery and JWKS; the rest use the cache.
        runtime.block_on(validator.validate(&tokens[0])).unwrap();
        let ours = runtime.block_on(async {
            let mut ok = 0u64;
            let rate = measure(secs, &tokens, |t| {
                // `validate` does not yield once the keys are cached.
                let fut = validator.validate(t);
                let claims = futures_now(fut).expect("validates");
                ok += u64::from(black_box(&claims).exp > 0);
            });
            assert!(ok > 0);
            rate
        });

        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(case.jwk()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let alg: jsonwebtoken::Algorithm = case.alg.parse().unwrap();
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&["https://api.example"]);
        let theirs = measure(secs, &tokens, |t| {
            let data = jsonwebtoken::decode::<Claims>(t, &key, &validation).unwrap();
            black_box(data);
        });
        let public_key = case.parsed_public_key();
        let split: Vec<(String, Vec<u8>)> = tokens
            .iter()
            .map(|t| {
                let (input, sig) = t.rsplit_once('.').unwrap();
                (input.to_owned(), URL_SAFE_NO_PAD.decode(sig).unwrap())
            })
            .collect();
        let mut i = 0;
        let raw = measure(secs, &tokens, |_| {
            let (input, sig) = &split[i % split.len()];
            i += 1;
            public_key.verify_sig(input.as_bytes(), sig).unwrap();
        });
        println!("{:<7} {:>22.0} {:>28.0} {:>26.0}", case.alg, ours, theirs, raw);
    }
}

/// Polls a future that is expected to be ready at once (validation with
/// cached keys never waits), without a runtime round trip per token.
fn futures_now<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("validation waited although the keys are cached"),
    }
}
