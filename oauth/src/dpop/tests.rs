//! One test per RFC 9449 §4.3 rule the verifier enforces.

use serde_json::{Value, json};

use super::*;

const URL: &str = "https://id.example.com/oauth/v4/t1/token";
const NOW: i64 = 1_700_000_000;

fn claims<'a>() -> ProofClaims<'a> {
    ProofClaims { htm: "POST", htu: URL, iat: NOW, jti: "jti-1", nonce: None, access_token: None }
}

fn expected<'a>() -> Expected<'a> {
    Expected { htm: "POST", htu: URL, nonces: None, access_token: None }
}

fn es256() -> ProofKey {
    ProofKey::generate(ProofAlg::Es256).unwrap()
}

fn body() -> Value {
    json!({"jti": "jti-1", "htm": "POST", "htu": URL, "iat": NOW})
}

#[test]
fn every_algorithm_gives_a_verified_proof_with_the_keys_thumbprint() {
    for alg in ProofAlg::ALL {
        let key = ProofKey::generate(alg).unwrap();
        let proof = key.sign(&claims()).unwrap();
        let verified = verify(&proof, &expected(), NOW).unwrap();
        assert_eq!(verified.jkt, key.thumbprint(), "{alg:?}");
        assert_eq!(verified.jkt, key.public_jwk().thumbprint().unwrap());
        assert_eq!((verified.jti.as_str(), verified.iat), ("jti-1", NOW));
        // The stored key signs proofs with the same thumbprint.
        let again = ProofKey::from_pkcs8(alg, &key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
    }
}

#[test]
fn rs256_and_ps256_are_not_interchangeable() {
    let rs = ProofKey::generate(ProofAlg::Rs256).unwrap();
    let mut header = rs.header();
    header["alg"] = json!("PS256");
    let proof = rs.sign_raw(&header, &body()).unwrap();
    assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::BadSignature));
}

#[test]
fn the_typ_must_be_dpop_jwt() {
    let key = es256();
    for typ in [json!("JWT"), json!("at+jwt"), Value::Null] {
        let mut header = key.header();
        header["typ"] = typ;
        let proof = key.sign_raw(&header, &body()).unwrap();
        assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::WrongType));
    }
}

#[test]
fn none_hmac_and_unknown_algorithms_are_refused() {
    let key = es256();
    for alg in ["none", "HS256", "ES384", "es256"] {
        let mut header = key.header();
        header["alg"] = json!(alg);
        let proof = key.sign_raw(&header, &body()).unwrap();
        assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::AlgNotAllowed), "{alg}");
    }
    // An unsigned token, as `alg: none` would send it.
    let header = URL_SAFE_NO_PAD.encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk()}).to_string());
    let unsigned = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(body().to_string()));
    assert_eq!(verify(&unsigned, &expected(), NOW), Err(DpopError::AlgNotAllowed));
}

#[test]
fn a_jwk_with_a_private_part_is_refused() {
    let key = es256();
    for member in ["d", "p", "k"] {
        let mut header = key.header();
        header["jwk"][member] = json!("AAAA");
        let proof = key.sign_raw(&header, &body()).unwrap();
        assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::PrivateKey), "{member}");
    }
}

#[test]
fn the_jwk_must_be_present_usable_and_match_the_algorithm() {
    let key = es256();
    let mut header = key.header();
    header.as_object_mut().unwrap().remove("jwk");
    assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::MissingJwk));

    let mut header = key.header();
    header["alg"] = json!("EdDSA");
    assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::KeyAlgMismatch));

    let mut header = key.header();
    header["jwk"]["alg"] = json!("RS256");
    assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::KeyAlgMismatch));

    let mut header = key.header();
    header["jwk"]["x"] = json!("AAAA");
    assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::BadKey));

    // The key is hashed into the jkt as sent, so base64url padding, which
    // stored keys may carry, is refused here.
    let mut header = key.header();
    header["jwk"]["x"] = json!(format!("{}=", header["jwk"]["x"].as_str().unwrap()));
    assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::BadKey));

    // A curve or key type the verifier does not know matches no algorithm.
    for (member, value) in [("crv", "P-384"), ("kty", "oct")] {
        let mut header = key.header();
        header["jwk"][member] = json!(value);
        assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::KeyAlgMismatch));
    }
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let (key, other) = (es256(), es256());
    let proof = other.sign_raw(&key.header(), &body()).unwrap();
    assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::BadSignature));
    // A tampered payload under the original signature.
    let good = key.sign(&claims()).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(json!({"jti": "x", "htm": "POST", "htu": URL, "iat": NOW}).to_string());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(verify(&tampered, &expected(), NOW), Err(DpopError::BadSignature));
}

#[test]
fn malformed_and_oversized_proofs_are_refused() {
    for proof in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
        assert_eq!(verify(proof, &expected(), NOW), Err(DpopError::Malformed), "{proof}");
    }
    assert_eq!(verify(&"a".repeat(MAX_PROOF_LEN + 1), &expected(), NOW), Err(DpopError::TooLarge));
    let key = es256();
    let mut header = key.header();
    header["crit"] = json!(["exp"]);
    assert_eq!(verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW), Err(DpopError::Critical));
}

#[test]
fn the_jti_is_required_and_bounded() {
    let key = es256();
    for jti in [Value::Null, json!(""), json!("j".repeat(MAX_JTI_LEN + 1)), json!(5)] {
        let mut claims = body();
        claims["jti"] = jti;
        let result = verify(&key.sign_raw(&key.header(), &claims).unwrap(), &expected(), NOW);
        assert!(matches!(result, Err(DpopError::BadJti | DpopError::BadClaims)), "{result:?}");
    }
    let mut claims = body();
    claims["jti"] = json!("j".repeat(MAX_JTI_LEN));
    assert!(verify(&key.sign_raw(&key.header(), &claims).unwrap(), &expected(), NOW).is_ok());
}

#[test]
fn htm_must_be_the_method() {
    let key = es256();
    for htm in ["GET", "post"] {
        let proof = key.sign(&ProofClaims { htm, ..claims() }).unwrap();
        assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::WrongMethod));
    }
}

#[test]
fn htu_is_compared_without_query_and_fragment_after_normalisation() {
    let key = es256();
    for same in [
        "https://id.example.com/oauth/v4/t1/token?x=1",
        "https://id.example.com/oauth/v4/t1/token#frag",
        "HTTPS://ID.Example.COM:443/oauth/v4/t1/token",
        "https://id.example.com/oauth/v4/t1/x/../token",
    ] {
        let proof = key.sign(&ProofClaims { htu: same, ..claims() }).unwrap();
        assert!(verify(&proof, &expected(), NOW).is_ok(), "{same}");
    }
    for other in [
        "http://id.example.com/oauth/v4/t1/token",
        "https://id.example.com:8443/oauth/v4/t1/token",
        "https://evil.example.com/oauth/v4/t1/token",
        "https://id.example.com/oauth/v4/t2/token",
        "https://id.example.com/oauth/v4/t1/token/",
        "https://user@id.example.com/oauth/v4/t1/token",
        "not a url",
    ] {
        let proof = key.sign(&ProofClaims { htu: other, ..claims() }).unwrap();
        assert_eq!(verify(&proof, &expected(), NOW), Err(DpopError::WrongUrl), "{other}");
    }
}

#[test]
fn iat_must_be_within_the_window() {
    let key = es256();
    let at = |iat: i64| verify(&key.sign(&ProofClaims { iat, ..claims() }).unwrap(), &expected(), NOW);
    assert!(at(NOW - MAX_AGE_SECS).is_ok());
    assert!(at(NOW + MAX_FUTURE_SECS).is_ok());
    assert_eq!(at(NOW - MAX_AGE_SECS - 1), Err(DpopError::Stale));
    assert_eq!(at(NOW + MAX_FUTURE_SECS + 1), Err(DpopError::Future));
    let mut claims = body();
    claims.as_object_mut().unwrap().remove("iat");
    assert_eq!(verify(&key.sign_raw(&key.header(), &claims).unwrap(), &expected(), NOW), Err(DpopError::MissingIat));
    claims["iat"] = json!(NOW as f64 + 0.25);
    assert_eq!(verify(&key.sign_raw(&key.header(), &claims).unwrap(), &expected(), NOW).map(|v| v.iat), Ok(NOW));
}

#[test]
fn ath_must_hash_the_access_token_when_one_is_given() {
    let key = es256();
    let bound = Expected { access_token: Some("the-token"), ..expected() };
    let with = key.sign(&ProofClaims { access_token: Some("the-token"), ..claims() }).unwrap();
    assert!(verify(&with, &bound, NOW).is_ok());
    let other = key.sign(&ProofClaims { access_token: Some("another"), ..claims() }).unwrap();
    assert_eq!(verify(&other, &bound, NOW), Err(DpopError::WrongAth));
    let without = key.sign(&claims()).unwrap();
    assert_eq!(verify(&without, &bound, NOW), Err(DpopError::WrongAth));
    // RFC 9449 §7.1's example.
    assert_eq!(ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

#[test]
fn a_required_nonce_must_be_one_the_verifier_accepts() {
    let key = es256();
    let accepted = ["n-now", "n-before"];
    let with_nonces = Expected { nonces: Some(&accepted), ..expected() };
    let nonce = |nonce| verify(&key.sign(&ProofClaims { nonce, ..claims() }).unwrap(), &with_nonces, NOW);
    assert!(nonce(Some("n-now")).is_ok());
    assert!(nonce(Some("n-before")).is_ok());
    assert_eq!(nonce(None), Err(DpopError::UseNonce));
    assert_eq!(nonce(Some("n-other")), Err(DpopError::UseNonce));
    assert!(DpopError::UseNonce.is_nonce() && !DpopError::Stale.is_nonce());
    // A bad proof is a bad proof, nonce or not.
    let stale = key.sign(&ProofClaims { iat: NOW - 600, ..claims() }).unwrap();
    assert_eq!(verify(&stale, &with_nonces, NOW), Err(DpopError::Stale));
}

#[test]
fn only_one_proof_per_request() {
    assert_eq!(single(std::iter::empty()), Ok(None));
    assert_eq!(single(["a"].into_iter()), Ok(Some("a")));
    assert_eq!(single(["a", "b"].into_iter()), Err(DpopError::Multiple));
}

#[test]
fn the_result_holds_only_public_members_and_debug_shows_no_key() {
    let key = es256();
    let mut header = key.header();
    header["jwk"]["kid"] = json!("mine");
    let verified = verify(&key.sign_raw(&header, &body()).unwrap(), &expected(), NOW).unwrap();
    assert_eq!(verified.jwk.kid, None);
    assert_eq!(verified.jwk.kty, "EC");
    let debug = format!("{key:?}");
    assert!(debug.contains(key.thumbprint()) && !debug.contains("pair"));
}
