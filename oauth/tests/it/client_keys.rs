//! Client key import (JWKS and PEM) and the verification of client-signed
//! assertions with RS256, PS256, ES256 and EdDSA.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
    RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clavis_oauth::jose::client_keys::{MAX_KEYS, import_jwks, import_jwks_value, import_pem};
use clavis_oauth::jose::client_verify::{ClientAlgorithm, ClientKeySet};
use clavis_oauth::jose::jwk::JwkSet;
use clavis_oauth::jose::verify::Rejection;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa(bits: KeySize) -> (RsaKeyPair, Value) {
    let pair = RsaKeyPair::generate(bits).unwrap();
    let public = pair.public_key();
    let jwk = json!({"kty": "RSA", "n": b64(public.modulus().big_endian_without_leading_zero()),
                     "e": b64(public.exponent().big_endian_without_leading_zero())});
    (pair, jwk)
}

fn ec() -> (EcdsaKeyPair, Value) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    (pair, jwk)
}

fn ed() -> (Ed25519KeyPair, Value) {
    let pair = Ed25519KeyPair::generate().unwrap();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
    (pair, jwk)
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk[member] = value;
    jwk
}

fn jws(header: Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(br#"{"iss":"app"}"#));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn rsa_sign(pair: &RsaKeyPair, pss: bool) -> impl FnOnce(&[u8]) -> Vec<u8> + '_ {
    move |input| {
        let mut sig = vec![0; pair.public_modulus_len()];
        let padding = if pss { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
        pair.sign(padding, &SystemRandom::new(), input, &mut sig).unwrap();
        sig
    }
}

fn set(keys: Vec<Value>) -> ClientKeySet {
    let jwks = import_jwks_value(&json!({ "keys": keys })).unwrap();
    ClientKeySet::from_jwks(&jwks).unwrap()
}

fn pem(der: &[u8]) -> String {
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(der))
}

#[test]
fn a_jwks_is_imported_with_thumbprint_kids_and_public_members_only() {
    let (_, rsa_jwk) = rsa(KeySize::Rsa2048);
    let (_, ec_jwk) = ec();
    let (_, ed_jwk) = ed();
    let text = json!({"keys": [
        with(rsa_jwk.clone(), "kid", json!("rsa-1")),
        with(ec_jwk.clone(), "x5c", json!(["MIIB"])),
        with(ed_jwk, "alg", json!("EdDSA")),
    ]})
    .to_string();
    let jwks = import_jwks(&text).unwrap();
    assert_eq!(jwks.keys.len(), 3);
    assert_eq!(jwks.keys[0].kid.as_deref(), Some("rsa-1"));
    assert_eq!(jwks.keys[1].kid, jwks.keys[1].thumbprint(), "a key without kid is named by its thumbprint");
    assert_eq!(jwks.keys[2].alg.as_deref(), Some("EdDSA"));
    let round_trip = serde_json::to_value(&jwks).unwrap();
    assert!(round_trip["keys"][1].get("x5c").is_none());
}

#[test]
fn private_members_are_refused_by_name() {
    let (_, rsa_jwk) = rsa(KeySize::Rsa2048);
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        let err = import_jwks_value(&json!({"keys": [with(rsa_jwk.clone(), member, json!("AQAB"))]})).unwrap_err();
        assert!(err.to_string().contains(&format!("private member \"{member}\"")), "{member}: {err}");
        assert!(!err.to_string().contains("AQAB"), "the message quotes no key material");
    }
}

#[test]
fn weak_odd_and_excess_keys_are_refused() {
    let (_, small) = rsa(KeySize::Rsa2048);
    // A 1024-bit modulus: aws-lc-rs no longer generates one, so half of a real one.
    let n = URL_SAFE_NO_PAD.decode(small["n"].as_str().unwrap()).unwrap();
    let rsa_1024 = with(small.clone(), "n", json!(b64(&n[..128])));
    let (_, ec_jwk) = ec();
    let cases = [
        (json!({"keys": [rsa_1024]}), "at least 2048 bits, this one has 1024"),
        (json!({"keys": [{"kty": "oct", "kid": "h"}]}), "symmetric keys are not accepted"),
        (json!({"keys": [with(ec_jwk.clone(), "crv", json!("P-384"))]}), "EC keys must be on P-256"),
        (json!({"keys": [{"kty": "OKP", "crv": "X25519", "x": "AAAA"}]}), "OKP keys must be Ed25519"),
        (json!({"keys": [with(ec_jwk.clone(), "alg", json!("RS256"))]}), "a P-256 key's alg must be ES256"),
        (json!({"keys": [with(small.clone(), "alg", json!("HS256"))]}), "key alg is not RS256, PS256, ES256 or EdDSA"),
        (json!({"keys": [with(ec_jwk.clone(), "use", json!("enc"))]}), "not for signatures"),
        (json!({"keys": [with(ec_jwk.clone(), "x", json!("AAAA"))]}), "bad P-256 coordinates"),
        (
            json!({"keys": [with(ec_jwk.clone(), "kid", json!("a")), with(small, "kid", json!("a"))]}),
            "the kid \"a\" is used",
        ),
        (json!({"keys": []}), "the JWKS has no key"),
        (json!([ec_jwk.clone()]), "an object with a \"keys\" array"),
        (json!({"keys": vec![ec_jwk; MAX_KEYS + 1]}), "at most 10 keys"),
    ];
    for (value, why) in cases {
        let err = import_jwks_value(&value).unwrap_err();
        assert!(err.to_string().contains(why), "expected {why:?}, got {err}");
    }
    assert!(import_jwks("{not json").unwrap_err().to_string().contains("invalid JSON"));
}

#[test]
fn pem_public_keys_become_jwks() {
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let ed = Ed25519KeyPair::generate().unwrap();
    let rsa_der = rsa.public_key().as_der().unwrap();
    let ec_der = ec.public_key().as_der().unwrap();
    let ed_der = ed.public_key().as_der().unwrap();
    for (der, kty) in [(rsa_der.as_ref(), "RSA"), (ec_der.as_ref(), "EC"), (ed_der.as_ref(), "OKP")] {
        let jwk = import_pem(&format!("  {}  ", pem(der))).unwrap();
        assert_eq!(jwk.kty, kty);
        assert_eq!(jwk.kid, jwk.thumbprint());
    }
    let jwk = import_pem(&pem(ec_der.as_ref())).unwrap();
    assert_eq!(b64(&ec.public_key().as_ref()[1..33]), jwk.x.unwrap());

    let private = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    assert!(import_pem(private).unwrap_err().to_string().contains("this is a private key"));
    let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    assert!(import_pem(cert).unwrap_err().to_string().contains("certificate"));
    assert!(import_pem("hello").unwrap_err().to_string().contains("not a PEM public key"));
    assert!(import_pem(&pem(b"\x30\x03\x02\x01\x01")).unwrap_err().to_string().contains("SubjectPublicKeyInfo"));
}

#[test]
fn each_algorithm_verifies_with_its_key() {
    let (rsa_pair, rsa_jwk) = rsa(KeySize::Rsa2048);
    let (ec_pair, ec_jwk) = ec();
    let (ed_pair, ed_jwk) = ed();
    let keys =
        set(vec![with(rsa_jwk, "kid", json!("r")), with(ec_jwk, "kid", json!("e")), with(ed_jwk, "kid", json!("d"))]);
    let rs = jws(json!({"alg": "RS256", "kid": "r"}), rsa_sign(&rsa_pair, false));
    let ps = jws(json!({"alg": "PS256", "kid": "r"}), rsa_sign(&rsa_pair, true));
    let es = jws(json!({"alg": "ES256", "kid": "e"}), |input| {
        ec_pair.sign(&SystemRandom::new(), input).unwrap().as_ref().to_vec()
    });
    let eddsa = jws(json!({"alg": "EdDSA"}), |input| ed_pair.sign(input).as_ref().to_vec());
    for (token, alg, kid) in [
        (&rs, ClientAlgorithm::Rs256, "r"),
        (&ps, ClientAlgorithm::Ps256, "r"),
        (&es, ClientAlgorithm::Es256, "e"),
        (&eddsa, ClientAlgorithm::EdDsa, "d"),
    ] {
        let verified = keys.verify(token).unwrap();
        assert_eq!((verified.alg, verified.kid.as_str(), verified.payload.as_str()), (alg, kid, r#"{"iss":"app"}"#));
    }
    // A PKCS#1 signature presented as PS256 fails, and the other way round.
    let swapped = jws(json!({"alg": "PS256", "kid": "r"}), rsa_sign(&rsa_pair, false));
    assert_eq!(keys.verify(&swapped), Err(Rejection::Invalid("assertion signature verification failed")));
    // The RSA key's kid with ES256: the alg does not match the key.
    let mismatch = jws(json!({"alg": "ES256", "kid": "r"}), |_| vec![0; 64]);
    assert_eq!(keys.verify(&mismatch), Err(Rejection::Invalid("assertion alg does not match the key")));
    let unknown = jws(json!({"alg": "RS256", "kid": "zz"}), rsa_sign(&rsa_pair, false));
    assert_eq!(keys.verify(&unknown), Err(Rejection::UnknownKid));
}

#[test]
fn an_rsa_key_naming_its_alg_verifies_only_that_one() {
    let (pair, jwk) = rsa(KeySize::Rsa2048);
    let keys = set(vec![with(with(jwk, "kid", json!("r")), "alg", json!("RS256"))]);
    assert!(keys.verify(&jws(json!({"alg": "RS256", "kid": "r"}), rsa_sign(&pair, false))).is_ok());
    let ps = jws(json!({"alg": "PS256", "kid": "r"}), rsa_sign(&pair, true));
    assert_eq!(keys.verify(&ps), Err(Rejection::Invalid("assertion alg does not match the key")));
    let no_kid = jws(json!({"alg": "PS256"}), rsa_sign(&pair, true));
    assert_eq!(keys.verify(&no_kid), Err(Rejection::Invalid("assertion alg does not match any key")));
}

#[test]
fn none_hmac_and_crit_are_refused() {
    let (pair, jwk) = rsa(KeySize::Rsa2048);
    let keys = set(vec![jwk]);
    let refused = Rejection::Invalid("assertion alg must be RS256, PS256, ES256 or EdDSA");
    let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(br#"{"iss":"app"}"#));
    assert_eq!(keys.verify(&none), Err(refused));
    assert_eq!(keys.verify(&jws(json!({"alg": "HS256"}), |_| vec![1; 32])), Err(refused));
    let crit = jws(json!({"alg": "RS256", "crit": ["exp"]}), rsa_sign(&pair, false));
    assert_eq!(keys.verify(&crit), Err(Rejection::Invalid("unsupported critical header")));
    assert!(matches!(keys.verify("a.b"), Err(Rejection::Malformed(_))));
    // A key set that came from storage must parse whole.
    let stored: JwkSet =
        serde_json::from_value(json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]})).unwrap();
    assert!(ClientKeySet::from_jwks(&stored).is_err());
    assert!(ClientKeySet::from_jwks_lenient(&stored).is_empty());
}
