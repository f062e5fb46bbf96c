//! Workload identity over HTTP: a Kubernetes-style issuer on a loopback
//! port (its JWKS, and in one test its discovery document) signs projected
//! service-account tokens, and an application gets Clavis tokens with them
//! and no secret anywhere; a GitHub Actions-shaped token with static keys.

use axum::http::{Method, StatusCode};
use axum::routing::get;
use clavis_oauth::jose::Algorithm;
use clavis_oauth::jose::jwk::JwkSet;
use clavis_oauth::jose::sign::{Signer, generate};
use clavis_types::ManagementAccess;
use serde_json::json;

use super::management::{Fixture, assert_error, call};
use super::support::{TestServer, servers};

const ASSERTION_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";

/// A Kubernetes API server's OIDC endpoints on 127.0.0.1: the JWKS at
/// `/openid/v1/jwks` and the discovery document naming it. Its issuer URL.
async fn kubernetes_issuer(jwks: JwkSet) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let discovery = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/openid/v1/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let jwks = serde_json::to_value(jwks).unwrap();
    let app = axum::Router::new()
        .route("/openid/v1/jwks", get(move || async move { axum::Json(jwks) }))
        .route("/.well-known/openid-configuration", get(move || async move { axum::Json(discovery) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

/// A projected service-account token as the kubelet mounts it.
fn service_account_token(signer: &Signer, s: &TestServer, issuer: &str, audience: &str) -> String {
    let now = s.now().timestamp();
    let claims = json!({
        "aud": [audience],
        "exp": now + 3600,
        "iat": now,
        "iss": issuer,
        "jti": uuid::Uuid::new_v4().to_string(),
        "kubernetes.io": {
            "namespace": "payments",
            "node": {"name": "node-1", "uid": uuid::Uuid::new_v4().to_string()},
            "pod": {"name": "api-7d9c6f-x2x9q", "uid": uuid::Uuid::new_v4().to_string()},
            "serviceaccount": {"name": "api", "uid": uuid::Uuid::new_v4().to_string()},
        },
        "nbf": now,
        "sub": "system:serviceaccount:payments:api",
    });
    signer.sign_jwt(claims.to_string().as_bytes()).unwrap()
}

/// `POST /token` with `client_id` and the federated token, nothing else.
async fn token_with_assertion(
    s: &TestServer,
    tenant_id: &str,
    client_id: &str,
    assertion: &str,
) -> (StatusCode, serde_json::Value) {
    let body = format!(
        "grant_type=client_credentials&client_id={client_id}&client_assertion_type={ASSERTION_TYPE}&client_assertion={assertion}"
    );
    let reply = s.post_form(&format!("/oauth/v4/{tenant_id}/token"), None, &body).await;
    (reply.status, reply.json())
}

fn key() -> (Signer, JwkSet) {
    let key = generate(Algorithm::Rs256).unwrap();
    let signer = Signer::from_pkcs8(&key.kid, key.alg, &key.pkcs8_der).unwrap();
    (signer, JwkSet { keys: vec![key.public_jwk] })
}

fn payload(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Sets up a trusted issuer (`issuer_body`) and a federated credential for
/// the Kubernetes service account over the REST API; the application's ID.
async fn federate(
    s: &TestServer,
    f: &Fixture,
    issuer_body: serde_json::Value,
    subject: &str,
    audience: Option<&str>,
) -> String {
    let created = call(s, Method::POST, &f.path("/trusted_issuers"), Some(&f.token), Some(issuer_body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let issuer_id = created.json()["id"].as_str().unwrap().to_owned();
    let app = s.app(&f.scope, "payments-api", ManagementAccess::None).await;
    let mut body = json!({"issuer_id": issuer_id, "subject": subject});
    if let Some(audience) = audience {
        body["audience"] = json!(audience);
    }
    let path = f.app_path(&app.client_id, "/federated_credentials");
    let added = call(s, Method::POST, &path, Some(&f.token), Some(body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["subject"], subject);
    // The application's secret went with the first federated credential.
    let (status, _) =
        super::management::try_token(s, &f.tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap(), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.client_id
}

#[tokio::test]
async fn a_kubernetes_service_account_token_gets_a_token_with_no_secret_anywhere() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let (signer, jwks) = key();
        let issuer = kubernetes_issuer(jwks).await;
        let body = json!({"name": "cluster", "issuer": issuer, "jwks_uri": format!("{issuer}/openid/v1/jwks")});
        let client_id = federate(&s, &f, body, "system:serviceaccount:payments:api", Some("clavis")).await;
        let token = service_account_token(&signer, &s, &issuer, "clavis");
        let (status, answer) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &token).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", s.backend);
        let claims = payload(answer["access_token"].as_str().unwrap());
        assert_eq!(claims["sub"], client_id.as_str());
        assert_eq!(answer["token_type"], "Bearer");
        // Another service account of the same cluster is not this application.
        let (other_signer, _) = key();
        let forged = service_account_token(&other_signer, &s, &issuer, "clavis");
        let (status, answer) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &forged).await;
        assert_eq!((status, answer["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
        // The listing shows the credential; deleting it ends the federation.
        let path = f.app_path(&client_id, "/federated_credentials");
        let listed = call(&s, Method::GET, &path, Some(&f.token), None).await.json();
        let credential = listed["federated_credentials"][0].clone();
        assert_eq!(
            (credential["issuer"].as_str(), credential["audience"].as_str()),
            (Some(issuer.as_str()), Some("clavis"))
        );
        let id = credential["id"].as_str().unwrap();
        let deleted = call(&s, Method::DELETE, &format!("{path}/{id}"), Some(&f.token), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let (status, _) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn an_issuer_with_neither_keys_nor_jwks_uri_is_discovered() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let (signer, jwks) = key();
        let issuer = kubernetes_issuer(jwks).await;
        let client_id =
            federate(&s, &f, json!({"name": "cluster", "issuer": issuer}), "system:serviceaccount:payments:api", None)
                .await;
        // The audience defaults to the tenant's oAuthServerUrl.
        let audience = s.services.oauth_server_url(&f.tenant.tenant_id);
        let token = service_account_token(&signer, &s, &issuer, &audience);
        let (status, answer) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &token).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", s.backend);
        // The issuer removed: its tokens stop working.
        let issuers = call(&s, Method::GET, &f.path("/trusted_issuers"), Some(&f.token), None).await.json();
        let id = issuers["trusted_issuers"][0]["id"].as_str().unwrap().to_owned();
        let deleted = call(&s, Method::DELETE, &f.path(&format!("/trusted_issuers/{id}")), Some(&f.token), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let (status, answer) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &token).await;
        assert_eq!((status, answer["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    }
}

#[tokio::test]
async fn a_github_actions_token_authenticates_with_a_static_jwks_issuer() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let (signer, jwks) = key();
        let issuer = "https://token.actions.githubusercontent.com";
        let body = json!({"name": "GitHub Actions", "issuer": issuer, "jwks": jwks});
        let subject = "repo:octo-org/payments:ref:refs/heads/main";
        let client_id = federate(&s, &f, body, subject, Some("https://github.com/octo-org")).await;
        let listed = call(&s, Method::GET, &f.path("/trusted_issuers"), Some(&f.token), None).await.json();
        assert_eq!(listed["trusted_issuers"][0]["jwks"]["keys"].as_array().map(Vec::len), Some(1));
        let now = s.now().timestamp();
        let claims = |sub: &str| {
            json!({
                "jti": uuid::Uuid::new_v4().to_string(), "sub": sub, "aud": "https://github.com/octo-org",
                "ref": "refs/heads/main", "sha": "e1f2a3", "repository": "octo-org/payments",
                "repository_owner": "octo-org", "run_id": "42", "workflow": "deploy", "event_name": "push",
                "ref_type": "branch", "job_workflow_ref": "octo-org/payments/.github/workflows/deploy.yml@refs/heads/main",
                "runner_environment": "github-hosted", "iss": issuer, "nbf": now - 5, "exp": now + 300, "iat": now,
            })
        };
        let token = signer.sign_jwt(claims(subject).to_string().as_bytes()).unwrap();
        let (status, answer) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &token).await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", s.backend);
        // A pull request's token of the same repository is another subject.
        let pr = signer.sign_jwt(claims("repo:octo-org/payments:pull_request").to_string().as_bytes()).unwrap();
        let (status, answer) = token_with_assertion(&s, &f.tenant.tenant_id, &client_id, &pr).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(answer["error_description"].as_str().unwrap().contains("subject"), "{answer}");
        // Private key members are refused when trusting an issuer.
        let private = json!({"name": "x", "issuer": "https://x.example",
                             "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}]}});
        let refused = call(&s, Method::POST, &f.path("/trusted_issuers"), Some(&f.token), Some(private)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
        let duplicate = json!({"name": "again", "issuer": issuer});
        let conflict = call(&s, Method::POST, &f.path("/trusted_issuers"), Some(&f.token), Some(duplicate)).await;
        assert_eq!(conflict.status, StatusCode::CONFLICT);
    }
}

/// An application authenticates one way: one with public keys gets no
/// federated credential (409) until its keys are removed.
#[tokio::test]
async fn an_application_with_public_keys_gets_no_federated_credential() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let (_, issuer_keys) = key();
        let body = json!({"name": "cluster", "issuer": "https://k8s.example.test", "jwks": issuer_keys});
        let created = call(&s, Method::POST, &f.path("/trusted_issuers"), Some(&f.token), Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let issuer_id = created.json()["id"].as_str().unwrap().to_owned();
        let app = s.app(&f.scope, "payments-api", ManagementAccess::None).await;
        let jwks_path = f.app_path(&app.client_id, "/jwks");
        let (_, app_keys) = key();
        let set =
            call(&s, Method::PUT, &jwks_path, Some(&f.token), Some(serde_json::to_value(app_keys).unwrap())).await;
        assert_eq!(set.status, StatusCode::OK, "{}: {}", s.backend, set.text());

        let path = f.app_path(&app.client_id, "/federated_credentials");
        let credential = json!({"issuer_id": issuer_id, "subject": "system:serviceaccount:payments:api"});
        let refused = call(&s, Method::POST, &path, Some(&f.token), Some(credential.clone())).await;
        assert_error(&refused, StatusCode::CONFLICT, "conflict");
        assert!(refused.json()["message"].as_str().unwrap().contains("public keys"), "{}", refused.text());
        // Nothing was added; the application still authenticates by its keys.
        let listed = call(&s, Method::GET, &path, Some(&f.token), None).await.json();
        assert_eq!(listed["federated_credentials"], json!([]), "{}", s.backend);
        let view = call(&s, Method::GET, &f.app_path(&app.client_id, ""), Some(&f.token), None).await;
        assert_eq!(view.json()["credentialType"], "keys", "{}", s.backend);
        // Once the keys are removed, the credential can be added.
        let removed = call(&s, Method::DELETE, &jwks_path, Some(&f.token), None).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text());
        let added = call(&s, Method::POST, &path, Some(&f.token), Some(credential)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    }
}
