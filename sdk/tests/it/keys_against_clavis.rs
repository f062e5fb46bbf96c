//! The TokenManager and the layer against a real Clavis without shared secrets: private-key applications (RFC 7523) and DPoP-bound tokens (RFC 9449), nonces required by the tenant included.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clavis_oauth::dpop::{ProofAlg, ProofClaims, ProofKey};
use clavis_sdk::{PrivateKey, ProtectLayer, SigningAlgorithm, TokenError, TokenManager};
use reqwest::Method;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::keys::{Alg, SigningKey};
use crate::support::{Clavis, Issuer, call_with, decode, protected_app, quick_retries, validator_for};

/// Registers `key`'s public JWK as the application's only credential.
async fn register_key(clavis: &Clavis, client_id: &str, key: &PrivateKey) {
    let (status, body) = clavis
        .management(Method::PUT, &format!("/applications/{client_id}/jwks"), json!({"keys": [key.public_jwk()]}))
        .await;
    assert!(status.is_success(), "PUT jwks: HTTP {status}: {body}");
}

/// Each algorithm: a key-authenticated application gets tokens (two, so two
/// assertions with their own jti), the layer accepts them, and its old
/// secret no longer works.
async fn private_keys_get_tokens(clavis: &Clavis) {
    for alg in SigningAlgorithm::ALL {
        let (client_id, secret) = clavis.create_application(&format!("keyed-{}", alg.name())).await;
        let key = PrivateKey::generate(alg).unwrap();
        register_key(clavis, &client_id, &key).await;
        let tokens = TokenManager::with_private_key(clavis.oauth_server_url(), &client_id, key)
            .retry_policy(quick_retries(1))
            .build()
            .unwrap();
        let first = tokens.access_token().await.unwrap_or_else(|e| panic!("{alg}: {e}"));
        tokens.invalidate();
        let second = tokens.access_token().await.unwrap_or_else(|e| panic!("{alg}: second assertion: {e}"));
        assert_ne!(first.as_str(), second.as_str());
        let (_, claims) = decode(second.as_str());
        assert_eq!(claims["sub"], client_id.as_str(), "{alg}");
        let validator = clavis_sdk::TokenValidator::builder(clavis.oauth_server_url()).audience(&client_id);
        let app = protected_app(ProtectLayer::new(validator.build().unwrap()));
        assert_eq!(call_with(&app, second.as_str()).await.status, StatusCode::OK, "{alg}");

        let with_secret = TokenManager::builder(clavis.oauth_server_url(), &client_id, secret).build().unwrap();
        let err = with_secret.access_token().await.unwrap_err();
        assert!(matches!(err, TokenError::InvalidClient { .. }), "{alg}: a keyed application's secret works: {err:?}");
        // Another key than the registered one is refused.
        let stranger = PrivateKey::generate(alg).unwrap();
        let wrong = TokenManager::with_private_key(clavis.oauth_server_url(), &client_id, stranger).build().unwrap();
        assert!(matches!(wrong.access_token().await, Err(TokenError::InvalidClient { .. })), "{alg}");
    }
}

/// A DPoP key: the token is bound (`token_type: DPoP`, `cnf.jkt` of the
/// key), the layer accepts it with a proof and refuses it as Bearer.
async fn dpop_bound_tokens(clavis: &Clavis) {
    for alg in [SigningAlgorithm::Es256, SigningAlgorithm::Ps256] {
        let tokens = TokenManager::builder(clavis.oauth_server_url(), clavis.client_id(), clavis.client_secret())
            .dpop_key(PrivateKey::generate(alg).unwrap())
            .retry_policy(quick_retries(1))
            .build()
            .unwrap();
        let token = tokens.access_token().await.unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(token.token_type(), "DPoP");
        let (_, claims) = decode(token.as_str());
        assert_eq!(claims["cnf"]["jkt"].as_str(), tokens.dpop_thumbprint(), "{alg}");

        let app = protected_app(ProtectLayer::new(validator_for(clavis).build().unwrap()));
        let url = "http://api.test/protected_resource";
        let auth = tokens.authorize("GET", url).await.unwrap();
        let request = Request::get("/protected_resource")
            .header(header::HOST, "api.test")
            .header(header::AUTHORIZATION, auth.authorization())
            .header("DPoP", auth.dpop().unwrap())
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{alg}");
        let answer = call_with(&app, token.as_str()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{alg}: a bound token passed as Bearer");
        assert!(answer.challenge.unwrap_or_default().starts_with("DPoP error=\"invalid_token\""));
    }
}

/// The tenant requires server nonces: a proof without one is refused with
/// `use_dpop_nonce` and a nonce, so a manager (whose first proof has none)
/// gets its token through the one retry with the nonce.
async fn dpop_nonces_required_by_the_tenant(clavis: &Clavis) {
    let (status, body) = clavis.management(Method::PUT, "/config/dpop", json!({"nonceRequired": true})).await;
    assert!(status.is_success(), "PUT /config/dpop: HTTP {status}: {body}");
    let token_url = format!("{}/token", clavis.oauth_server_url());
    let key = ProofKey::generate(ProofAlg::Es256).unwrap();
    let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let proof = key
        .sign(&ProofClaims { htm: "POST", htu: &token_url, iat, jti: "no-nonce-1", nonce: None, access_token: None })
        .unwrap();
    let response = reqwest::Client::new()
        .post(&token_url)
        .basic_auth(clavis.client_id(), Some(clavis.client_secret()))
        .header("DPoP", proof)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(response.headers().get("dpop-nonce").is_some(), "a nonce is handed out");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "use_dpop_nonce");

    for _ in 0..3 {
        let tokens = TokenManager::builder(clavis.oauth_server_url(), clavis.client_id(), clavis.client_secret())
            .dpop_key(PrivateKey::generate(SigningAlgorithm::EdDsa).unwrap())
            .retry_policy(quick_retries(1))
            .build()
            .unwrap();
        let token = tokens.access_token().await.unwrap();
        assert_eq!(token.token_type(), "DPoP");
        // The nonce is remembered for the next token request.
        tokens.invalidate();
        assert_eq!(tokens.access_token().await.unwrap().token_type(), "DPoP");
    }
}

/// A Kubernetes-style issuer (static keys, as a cluster without public
/// discovery) trusted by the tenant; a projected service-account token in a
/// file, rotated in place, is the only credential.
async fn a_projected_service_account_token_gets_tokens(clavis: &Clavis) {
    let cluster_key = SigningKey::generate(Alg::Rs256);
    let issuer = "https://kubernetes.default.svc.cluster.local";
    let body = json!({"name": "cluster-1", "issuer": issuer, "jwks": {"keys": [cluster_key.jwk()]}});
    let (status, trusted) = clavis.management(Method::POST, "/trusted_issuers", body).await;
    assert!(status.is_success(), "POST /trusted_issuers: HTTP {status}: {trusted}");
    let (client_id, _) = clavis.create_application("orders-in-cluster").await;
    let subject = "system:serviceaccount:orders:orders-api";
    let body = json!({"issuer_id": trusted["id"], "subject": subject});
    let path = format!("/applications/{client_id}/federated_credentials");
    let (status, credential) = clavis.management(Method::POST, &path, body).await;
    assert!(status.is_success(), "POST federated_credentials: HTTP {status}: {credential}");

    let service_account_token = |pod: &str, subject: &str| {
        let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        cluster_key.mint_with_typ(
            None,
            &json!({
                "iss": issuer, "sub": subject, "aud": [clavis.oauth_server_url()],
                "iat": iat, "nbf": iat, "exp": iat + 3600,
                "kubernetes.io": {"namespace": "orders", "pod": {"name": pod, "uid": "a1"},
                                  "serviceaccount": {"name": "orders-api", "uid": "b2"}},
            }),
        )
    };
    let dir = std::env::temp_dir().join(format!("clavis-sdk-sa-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, service_account_token("orders-api-1", subject)).unwrap();
    let tokens = TokenManager::with_federated_token_file(clavis.oauth_server_url(), &client_id, &file)
        .retry_policy(quick_retries(1))
        .build()
        .unwrap();
    let first = tokens.access_token().await.unwrap();
    assert_eq!(decode(first.as_str()).1["sub"], client_id.as_str());
    std::fs::write(&file, service_account_token("orders-api-2", subject)).unwrap();
    tokens.invalidate();
    tokens.access_token().await.unwrap();
    // A token of another service account of the same cluster is refused.
    std::fs::write(&file, service_account_token("billing-1", "system:serviceaccount:billing:billing")).unwrap();
    tokens.invalidate();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidClient { .. }), "{err:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_secrets_against_clavis() {
    let clavis = Clavis::start(Alg::Es256).await;
    private_keys_get_tokens(&clavis).await;
    dpop_bound_tokens(&clavis).await;
    a_projected_service_account_token_gets_tokens(&clavis).await;
    dpop_nonces_required_by_the_tenant(&clavis).await;
}
