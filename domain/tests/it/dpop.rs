//! DPoP at the token endpoint (RFC 9449): bound tokens for every grant,
//! each proof rule the endpoint enforces, replay across processes, server
//! nonces, and applications that must use DPoP.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Duration;
use clavis_oauth::dpop::{ProofAlg, ProofClaims, ProofKey};
use clavis_oauth::request::RawRequest;
use clavis_oauth::{ErrorCode, OAuthError};
use clavis_types::ManagementAccess;
use domain::services::{DpopConfig, TokenResponse};
use serde_json::json;

use super::directory::{PASSWORD, sign_up};
use super::support::{SharedDb, TestEnv, envs, introspect, payload_of};

struct Client {
    tenant_id: String,
    client_id: String,
    secret: String,
    /// The URL proofs must name: the tenant's token endpoint.
    htu: String,
}

async fn client(env: &TestEnv, name: &str) -> Client {
    let (tenant, scope) = env.tenant(name).await;
    let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
    Client {
        htu: format!("{}/token", tenant.oauth_server_url),
        tenant_id: tenant.tenant_id,
        client_id: app.client_id,
        secret: app.secret.unwrap(),
    }
}

/// A fresh proof for `client`'s token endpoint at the env's time.
fn proof(env: &TestEnv, key: &ProofKey, client: &Client, nonce: Option<&str>) -> String {
    let jti = uuid::Uuid::new_v4().to_string();
    let claims =
        ProofClaims { htm: "POST", htu: &client.htu, iat: env.now().timestamp(), jti: &jti, nonce, access_token: None };
    key.sign(&claims).unwrap()
}

/// A token request of `client` with `body` and, when given, a `DPoP` header.
async fn request(env: &TestEnv, client: &Client, body: &str, dpop: Option<&str>) -> Result<TokenResponse, OAuthError> {
    let authorization = format!("Basic {}", STANDARD.encode(format!("{}:{}", client.client_id, client.secret)));
    let raw = RawRequest {
        authorization: Some(authorization.as_bytes()),
        several_authorizations: false,
        content_type: Some(b"application/x-www-form-urlencoded"),
        body: Some(body.as_bytes()),
        dpop: dpop.map(str::as_bytes),
        several_dpops: false,
    };
    env.services.token(&client.tenant_id, raw, None, env.now()).await
}

async fn with_proof(env: &TestEnv, client: &Client, dpop: &str) -> Result<TokenResponse, OAuthError> {
    request(env, client, "grant_type=client_credentials", Some(dpop)).await
}

fn refused(answer: Result<TokenResponse, OAuthError>) -> (ErrorCode, u16, String) {
    let err = answer.expect_err("the request is refused");
    (err.code, err.status, err.description.into_owned())
}

fn invalid_proof(answer: Result<TokenResponse, OAuthError>, why: &str) {
    assert_eq!(refused(answer), (ErrorCode::InvalidDpopProof, 400, why.to_owned()));
}

async fn require_nonces(env: &TestEnv, client: &Client) {
    let scope = env.cli.tenant_scope(&env.services, &client.tenant_id).await.unwrap();
    let config = env.services.set_dpop_config(&scope, DpopConfig { nonce_required: true }, env.now()).await.unwrap();
    assert!(config.nonce_required);
    assert_eq!(env.services.dpop_config(&scope).await.unwrap(), DpopConfig { nonce_required: true });
}

#[tokio::test]
async fn a_proof_binds_the_token_to_its_key() {
    for env in envs().await {
        let client = client(&env, "Acme").await;
        for alg in ProofAlg::ALL {
            let key = ProofKey::generate(alg).unwrap();
            let token = with_proof(&env, &client, &proof(&env, &key, &client, None)).await.unwrap();
            assert_eq!(token.token_type, "DPoP", "{alg:?} on {}", env.backend);
            assert_eq!(payload_of(&token.access_token)["cnf"], json!({"jkt": key.thumbprint()}));
            assert_eq!(token.dpop_nonce, None, "no nonce when the tenant requires none");
            let seen = introspect(&env, &client.tenant_id, &client.client_id, &client.secret, &token.access_token)
                .await
                .unwrap();
            assert!(seen.active);
            assert_eq!(seen.cnf.map(|cnf| cnf.jkt).as_deref(), Some(key.thumbprint()));
            assert_eq!(seen.token_type, Some("DPoP"));
        }
        // Without a proof, the same client gets a plain Bearer token.
        let bearer = request(&env, &client, "grant_type=client_credentials", None).await.unwrap();
        assert_eq!(bearer.token_type, "Bearer");
        assert!(payload_of(&bearer.access_token).get("cnf").is_none());
    }
}

#[tokio::test]
async fn password_and_refresh_grants_bind_their_access_tokens_too() {
    for env in envs().await {
        let client = client(&env, "Acme").await;
        let scope = env.cli.tenant_scope(&env.services, &client.tenant_id).await.unwrap();
        sign_up(&env, &scope, "ada@example.com").await;
        let key = ProofKey::generate(ProofAlg::EdDsa).unwrap();
        let body = format!("grant_type=password&username=ada%40example.com&password={PASSWORD}");
        let answer = request(&env, &client, &body, Some(&proof(&env, &key, &client, None))).await.unwrap();
        assert_eq!(answer.token_type, "DPoP");
        assert_eq!(payload_of(&answer.access_token)["cnf"]["jkt"], key.thumbprint());
        let refresh = answer.refresh_token.unwrap();
        let body = format!("grant_type=refresh_token&refresh_token={refresh}");
        let refreshed = request(&env, &client, &body, Some(&proof(&env, &key, &client, None))).await.unwrap();
        assert_eq!(refreshed.token_type, "DPoP");
        assert_eq!(payload_of(&refreshed.access_token)["cnf"]["jkt"], key.thumbprint());
    }
}

#[tokio::test]
async fn proofs_for_another_method_url_or_time_are_refused() {
    for env in envs().await {
        let client = client(&env, "Acme").await;
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        let now = env.now().timestamp();
        let sign = |htm: &str, htu: &str, iat: i64| {
            let jti = uuid::Uuid::new_v4().to_string();
            key.sign(&ProofClaims { htm, htu, iat, jti: &jti, nonce: None, access_token: None }).unwrap()
        };
        let htu = client.htu.clone();
        invalid_proof(
            with_proof(&env, &client, &sign("GET", &htu, now)).await,
            "DPoP proof htm does not match the request method",
        );
        let elsewhere = htu.replace("/token", "/introspect");
        invalid_proof(
            with_proof(&env, &client, &sign("POST", &elsewhere, now)).await,
            "DPoP proof htu does not match the request URL",
        );
        invalid_proof(with_proof(&env, &client, &sign("POST", &htu, now - 61)).await, "DPoP proof is too old");
        invalid_proof(
            with_proof(&env, &client, &sign("POST", &htu, now + 30)).await,
            "DPoP proof iat is in the future",
        );
        // The query of the URL is not part of the comparison.
        assert!(with_proof(&env, &client, &sign("POST", &format!("{htu}?x=1"), now)).await.is_ok());
    }
}

#[tokio::test]
async fn malformed_unsigned_and_private_key_proofs_are_refused() {
    for env in envs().await {
        let client = client(&env, "Acme").await;
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        let claims = json!({"jti": "j-1", "htm": "POST", "htu": client.htu, "iat": env.now().timestamp()});
        // Signed by another key than the one in the header.
        let other = ProofKey::generate(ProofAlg::Es256).unwrap();
        invalid_proof(
            with_proof(&env, &client, &other.sign_raw(&key.header(), &claims).unwrap()).await,
            "DPoP proof signature is invalid",
        );
        let mut private = key.header();
        private["jwk"]["d"] = json!("c2VjcmV0");
        invalid_proof(
            with_proof(&env, &client, &key.sign_raw(&private, &claims).unwrap()).await,
            "DPoP proof jwk must not contain a private key",
        );
        let mut typ = key.header();
        typ["typ"] = json!("JWT");
        invalid_proof(
            with_proof(&env, &client, &key.sign_raw(&typ, &claims).unwrap()).await,
            "DPoP proof typ must be dpop+jwt",
        );
        let none = json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk()});
        let unsigned =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(none.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        invalid_proof(with_proof(&env, &client, &unsigned).await, "DPoP proof algorithm not allowed");
        invalid_proof(with_proof(&env, &client, "not-a-jwt").await, "DPoP proof is not a JWT");
        // A proof is checked only after the client authenticated.
        let wrong = Client { secret: "wrong".into(), ..client };
        assert_eq!(refused(with_proof(&env, &wrong, "not-a-jwt").await).0, ErrorCode::InvalidClient);
    }
}

#[tokio::test]
async fn a_proof_is_used_once_across_processes() {
    for db in SharedDb::all().await {
        let (first, second) = (db.instance().await, db.instance().await);
        let client = client(&first, "Acme").await;
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        let dpop = proof(&first, &key, &client, None);
        assert!(with_proof(&first, &client, &dpop).await.is_ok(), "{}", db.backend);
        invalid_proof(with_proof(&second, &client, &dpop).await, "DPoP proof was already used");
        invalid_proof(with_proof(&first, &client, &dpop).await, "DPoP proof was already used");
        // A new proof of the same key is fine.
        assert!(with_proof(&second, &client, &proof(&second, &key, &client, None)).await.is_ok());
    }
}

#[tokio::test]
async fn a_tenant_can_require_server_nonces() {
    for db in SharedDb::all().await {
        let (env, replica) = (db.instance().await, db.instance().await);
        let client = client(&env, "Acme").await;
        let other = client_in_new_tenant(&env).await;
        require_nonces(&env, &client).await;
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        // Without a nonce: use_dpop_nonce, with one to retry with.
        let err = with_proof(&env, &client, &proof(&env, &key, &client, None)).await.unwrap_err();
        assert_eq!((err.code, err.status), (ErrorCode::UseDpopNonce, 400), "{}", db.backend);
        let nonce = err.dpop_nonce.expect("a nonce to retry with");
        // The retry succeeds, on this process or another, and names the next nonce.
        let token = with_proof(&env, &client, &proof(&env, &key, &client, Some(&nonce))).await.unwrap();
        assert_eq!(token.token_type, "DPoP");
        assert!(token.dpop_nonce.is_some(), "successful responses carry a fresh nonce");
        assert!(with_proof(&replica, &client, &proof(&replica, &key, &client, Some(&nonce))).await.is_ok());
        // A made-up nonce, or another tenant's, is answered with a fresh one.
        let err = with_proof(&env, &client, &proof(&env, &key, &client, Some("made-up"))).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::UseDpopNonce);
        let err = with_proof(&env, &other, &proof(&env, &key, &other, None)).await;
        assert!(err.is_ok(), "the other tenant requires no nonce");
        let other_scope = env.cli.tenant_scope(&env.services, &other.tenant_id).await.unwrap();
        env.services.set_dpop_config(&other_scope, DpopConfig { nonce_required: true }, env.now()).await.unwrap();
        let err = with_proof(&env, &other, &proof(&env, &key, &other, Some(&nonce))).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::UseDpopNonce, "a nonce is good for its own tenant only");
        // A nonce lasts into the next window, not beyond.
        env.clock.advance(Duration::seconds(300));
        assert!(with_proof(&env, &client, &proof(&env, &key, &client, Some(&nonce))).await.is_ok());
        env.clock.advance(Duration::seconds(300));
        let err = with_proof(&env, &client, &proof(&env, &key, &client, Some(&nonce))).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::UseDpopNonce, "an old window's nonce is refused");
        assert_ne!(err.dpop_nonce.as_deref(), Some(nonce.as_str()));
        // Turning the rule off again: proofs need no nonce.
        let scope = env.cli.tenant_scope(&env.services, &client.tenant_id).await.unwrap();
        env.services.set_dpop_config(&scope, DpopConfig { nonce_required: false }, env.now()).await.unwrap();
        assert!(with_proof(&env, &client, &proof(&env, &key, &client, None)).await.is_ok());
        let actions = env.audit_actions(&client.tenant_id).await;
        assert_eq!(actions.iter().filter(|action| *action == "config.dpop").count(), 2);
    }
}

async fn client_in_new_tenant(env: &TestEnv) -> Client {
    client(env, "Other").await
}

#[tokio::test]
async fn a_dpop_required_application_gets_no_bearer_token() {
    for env in envs().await {
        let client = client(&env, "Acme").await;
        let scope = env.cli.tenant_scope(&env.services, &client.tenant_id).await.unwrap();
        // Warm the client cache: the flag must reach it.
        assert!(request(&env, &client, "grant_type=client_credentials", None).await.is_ok());
        env.services.set_application_dpop_required(&scope, &client.client_id, true, env.now()).await.unwrap();
        assert!(env.services.get_application(&scope, &client.client_id, env.now()).await.unwrap().dpop_required);
        assert_eq!(
            refused(request(&env, &client, "grant_type=client_credentials", None).await),
            (ErrorCode::InvalidRequest, 400, "this application's tokens must be DPoP-bound".to_owned())
        );
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        assert_eq!(with_proof(&env, &client, &proof(&env, &key, &client, None)).await.unwrap().token_type, "DPoP");
        env.services.set_application_dpop_required(&scope, &client.client_id, false, env.now()).await.unwrap();
        assert!(request(&env, &client, "grant_type=client_credentials", None).await.is_ok());
        let actions = env.audit_actions(&client.tenant_id).await;
        assert!(actions.contains(&"application.dpop_required".to_owned()));
        // Another tenant's application is not found.
        let other = client_in_new_tenant(&env).await;
        let err = env.services.set_application_dpop_required(&scope, &other.client_id, true, env.now()).await;
        assert!(matches!(err, Err(domain::Error::NotFound(_))), "{err:?}");
    }
}

#[tokio::test]
async fn several_dpop_headers_are_refused() {
    for env in envs().await {
        let client = client(&env, "Acme").await;
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        let dpop = proof(&env, &key, &client, None);
        let authorization = format!("Basic {}", STANDARD.encode(format!("{}:{}", client.client_id, client.secret)));
        let raw = RawRequest {
            authorization: Some(authorization.as_bytes()),
            several_authorizations: false,
            content_type: Some(b"application/x-www-form-urlencoded"),
            body: Some(b"grant_type=client_credentials"),
            dpop: Some(dpop.as_bytes()),
            several_dpops: true,
        };
        invalid_proof(
            env.services.token(&client.tenant_id, raw, None, env.now()).await,
            "only one DPoP header is allowed",
        );
    }
}
