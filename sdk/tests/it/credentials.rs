//! TokenManager without a shared secret: private-key assertions (RFC 7523) and federated token files, checked at a recording token endpoint.

use std::time::{SystemTime, UNIX_EPOCH};

use clavis_sdk::{PrivateKey, SigningAlgorithm, TokenError, TokenManager};
use serde_json::Value;

use crate::support::quick_retries;
use crate::support::stub::{Received, Script, StubTokenEndpoint, jwt_claims, jwt_header};

const CLIENT_ID: &str = "3f2c9b1e-client";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A key as an operator keeps it: a PKCS#8 PEM file's text.
fn pem_of(key: &PrivateKey) -> String {
    pem::encode(&pem::Pem::new("PRIVATE KEY", key.to_pkcs8_der().unwrap()))
}

/// The assertion of `request`, after checking the parameters around it.
fn assertion_of(request: &Received) -> String {
    assert!(request.headers.get("authorization").is_none(), "no Basic header with an assertion");
    assert_eq!(request.param("client_id"), Some(CLIENT_ID));
    assert_eq!(request.param("client_assertion_type"), Some(JWT_BEARER));
    assert_eq!(request.param("client_secret"), None);
    assert_eq!(request.param("grant_type"), Some("client_credentials"));
    request.param("client_assertion").unwrap().to_owned()
}

/// Verifies an assertion with an independent library against the public JWK.
fn verify_independently(assertion: &str, jwk: &Value, alg: SigningAlgorithm, audience: &str) -> Value {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(alg.name().parse().unwrap());
    validation.set_audience(&[audience]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub", "jti"]);
    jsonwebtoken::decode::<Value>(assertion, &key, &validation).unwrap().claims
}

#[tokio::test]
async fn private_key_assertions_are_signed_afresh_for_every_request_with_each_algorithm() {
    for alg in SigningAlgorithm::ALL {
        let stub = StubTokenEndpoint::start(Script::default()).await;
        let generated = PrivateKey::generate(alg).unwrap();
        // Read back from PEM, as from a file; RSA keys sign RS256 unless told.
        let key = PrivateKey::from_pem(&pem_of(&generated)).unwrap().with_algorithm(alg).unwrap().with_kid("ci-key-1");
        let tokens = TokenManager::with_private_key(stub.oauth_server_url(), CLIENT_ID, key.clone())
            .retry_policy(quick_retries(1))
            .build()
            .unwrap();
        tokens.access_token().await.unwrap();
        tokens.invalidate();
        tokens.access_token().await.unwrap();
        let received = stub.received();
        assert_eq!(received.len(), 2, "{alg}");
        let mut jtis = Vec::new();
        for request in &received {
            let assertion = assertion_of(request);
            let header = jwt_header(&assertion);
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], "ci-key-1");
            let claims = verify_independently(&assertion, &key.public_jwk(), alg, &stub.token_url());
            assert_eq!(claims["iss"], CLIENT_ID);
            assert_eq!(claims["sub"], CLIENT_ID);
            assert_eq!(claims["aud"], stub.token_url());
            let iat = claims["iat"].as_u64().unwrap();
            assert!(iat.abs_diff(now()) <= 5, "{alg}: iat {iat}");
            assert_eq!(claims["exp"].as_u64().unwrap() - iat, 60, "{alg}");
            jtis.push(claims["jti"].as_str().unwrap().to_owned());
        }
        assert_ne!(jtis[0], jtis[1], "{alg}: every assertion has its own jti");
    }
}

#[tokio::test]
async fn a_federated_token_file_is_read_again_for_every_request() {
    let stub = StubTokenEndpoint::start(Script::default()).await;
    let dir = std::env::temp_dir().join(format!("clavis-sdk-fed-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    std::fs::write(&path, "eyJ.first-projected-token.sig\n").unwrap();
    let tokens = TokenManager::with_federated_token_file(stub.oauth_server_url(), CLIENT_ID, &path).build().unwrap();
    tokens.access_token().await.unwrap();
    // The platform rotates the token in place, as the kubelet does.
    std::fs::write(&path, "eyJ.second-projected-token.sig").unwrap();
    tokens.invalidate();
    tokens.access_token().await.unwrap();
    let sent: Vec<String> = stub.received().iter().map(assertion_of).collect();
    assert_eq!(sent, ["eyJ.first-projected-token.sig", "eyJ.second-projected-token.sig"]);

    // A missing, empty or oversized file is a typed error, sent nowhere and
    // never quoting the file.
    std::fs::remove_file(&path).unwrap();
    tokens.invalidate();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::Credential(why) if why.contains("token") && why.contains("not found")), "{err}");
    std::fs::write(&path, "  \n").unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::Credential(why) if why.contains("empty")), "{err}");
    std::fs::write(&path, "x".repeat(100 * 1024)).unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::Credential(why) if why.contains("larger")), "{err}");
    std::fs::write(&path, "two tokens\nin-one-file").unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert!(!err.to_string().contains("in-one-file"), "{err}");
    assert_eq!(stub.received().len(), 2, "no request without a credential");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn keys_are_read_from_pem_or_der_and_bad_ones_are_refused_clearly() {
    let key = PrivateKey::generate(SigningAlgorithm::EdDsa).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    assert_eq!(PrivateKey::from_pkcs8_der(&der).unwrap().thumbprint(), key.thumbprint());
    assert_eq!(PrivateKey::from_pem(&pem_of(&key)).unwrap().thumbprint(), key.thumbprint());
    let sec1 = pem::encode(&pem::Pem::new("EC PRIVATE KEY", der.clone()));
    let err = PrivateKey::from_pem(&sec1).unwrap_err();
    assert!(err.to_string().contains("openssl pkcs8 -topk8"), "{err}");
    let encrypted = pem::encode(&pem::Pem::new("ENCRYPTED PRIVATE KEY", der));
    assert!(PrivateKey::from_pem(&encrypted).is_err());
    assert!(matches!(PrivateKey::from_pkcs8_der(b"garbage"), Err(clavis_sdk::KeyError::Unsupported)));
    let err = key.clone().with_algorithm(SigningAlgorithm::Rs256).unwrap_err();
    assert_eq!(err.to_string(), "RS256 cannot be used with this OKP key");
    // The kid defaults to the thumbprint, which the public JWK carries.
    let jwk = key.public_jwk();
    assert_eq!(jwk["kid"], key.thumbprint());
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert!(jwk.get("d").is_none());
}

#[tokio::test]
async fn debug_output_never_shows_a_key_a_token_or_a_proof() {
    let stub = StubTokenEndpoint::start(Script { token_type: "DPoP", ..Script::default() }).await;
    let client_key = PrivateKey::generate(SigningAlgorithm::Es256).unwrap();
    let dpop_key = PrivateKey::generate(SigningAlgorithm::Rs256).unwrap();
    let secrets: Vec<String> = [&client_key, &dpop_key]
        .iter()
        .flat_map(|key| {
            let pem = pem_of(key);
            // Every line of the PEM body, any of which would leak key material.
            pem.lines().filter(|line| !line.starts_with("-----")).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    let builder = TokenManager::with_private_key(stub.oauth_server_url(), CLIENT_ID, client_key.clone())
        .dpop_key(dpop_key.clone());
    let builder_debug = format!("{builder:?}");
    let tokens = builder.build().unwrap();
    let token = tokens.access_token().await.unwrap();
    let auth = tokens.authorize("GET", "https://api.example/orders").await.unwrap();
    let proof = auth.dpop().unwrap().to_owned();
    let assertion = assertion_of(&stub.received()[0]);
    let shown = [
        builder_debug,
        format!("{tokens:?}"),
        format!("{client_key:?}"),
        format!("{dpop_key:?}"),
        format!("{token:?}"),
        format!("{auth:?}"),
    ];
    for text in &shown {
        for secret in secrets.iter().chain([&proof, &assertion, &token.as_str().to_owned()]) {
            assert!(!text.contains(secret.as_str()), "leaked into {text}");
        }
    }
    assert!(shown[1].contains(client_key.kid()), "the kid names the key: {}", shown[1]);
    assert_eq!(jwt_claims(&proof)["htu"], "https://api.example/orders");
}
