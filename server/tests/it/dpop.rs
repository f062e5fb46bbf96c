//! DPoP over HTTP (RFC 9449): bound tokens from the token endpoint, the
//! `DPoP-Nonce` header and status codes of its errors, introspection's
//! `cnf`, discovery's algorithms, and the management routes that set the
//! tenant's nonce rule and an application's DPoP requirement.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use clavis_oauth::dpop::{ProofAlg, ProofClaims, ProofKey};
use clavis_types::ManagementAccess;
use domain::services::ApplicationView;
use serde_json::{Value, json};

use super::support::{PUBLIC_URL, Reply, TestServer, basic_header, servers};

fn token_url(tenant_id: &str) -> String {
    format!("{PUBLIC_URL}/oauth/v4/{tenant_id}/token")
}

fn proof(s: &TestServer, key: &ProofKey, htu: &str, iat_offset: i64, nonce: Option<&str>) -> String {
    let jti = uuid::Uuid::new_v4().to_string();
    let iat = s.now().timestamp() + iat_offset;
    key.sign(&ProofClaims { htm: "POST", htu, iat, jti: &jti, nonce, access_token: None }).unwrap()
}

/// A client credentials request of `app` with these `DPoP` headers.
async fn token_request(s: &TestServer, app: &ApplicationView, dpops: &[&str]) -> Reply {
    let mut request = Request::post(format!("/oauth/v4/{}/token", app.tenant_id))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic_header(&app.client_id, app.secret.as_deref().unwrap()));
    for dpop in dpops {
        request = request.header("DPoP", *dpop);
    }
    s.send(request.body(Body::from("grant_type=client_credentials")).unwrap()).await
}

fn claims_of(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn assert_error(reply: &Reply, code: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.json()["error"], code, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

async fn management(s: &TestServer, admin: &ApplicationView, method: &str, path: &str, body: Option<Value>) -> Reply {
    let token = s.management_token_for(admin).await;
    let request = Request::builder()
        .method(method)
        .uri(format!("/management/v4/{}{path}", admin.tenant_id))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
    s.send(request.body(body).unwrap()).await
}

#[tokio::test]
async fn a_dpop_request_gets_a_bound_token_that_introspects_with_cnf() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        let reply = token_request(&s, &app, &[&proof(&s, &key, &token_url(&tenant.tenant_id), 0, None)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}: {}", s.backend, reply.text());
        assert_eq!(reply.json()["token_type"], "DPoP");
        assert_eq!(reply.header("dpop-nonce"), None, "no nonce unless the tenant requires them");
        let token = reply.json()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(claims_of(&token)["cnf"], json!({"jkt": key.thumbprint()}));
        let introspected = s
            .post_form(
                &format!("/oauth/v4/{}/introspect", tenant.tenant_id),
                Some((&app.client_id, app.secret.as_deref().unwrap())),
                &format!("token={token}"),
            )
            .await;
        assert_eq!(introspected.status, StatusCode::OK);
        assert_eq!(introspected.json()["active"], true);
        assert_eq!(introspected.json()["cnf"], json!({"jkt": key.thumbprint()}));
        assert_eq!(introspected.json()["token_type"], "DPoP");
        // A Bearer token introspects without cnf.
        let bearer = s.token_for(&app).await;
        let introspected = s
            .post_form(
                &format!("/oauth/v4/{}/introspect", tenant.tenant_id),
                Some((&app.client_id, app.secret.as_deref().unwrap())),
                &format!("token={bearer}"),
            )
            .await;
        assert!(introspected.json().get("cnf").is_none());
        let discovery = s.get(&format!("/oauth/v4/{}/.well-known/openid-configuration", tenant.tenant_id)).await;
        assert_eq!(discovery.json()["dpop_signing_alg_values_supported"], json!(["ES256", "EdDSA", "RS256", "PS256"]));
    }
}

#[tokio::test]
async fn bad_and_replayed_proofs_are_400_invalid_dpop_proof() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let key = ProofKey::generate(ProofAlg::EdDsa).unwrap();
        let url = token_url(&tenant.tenant_id);
        let other_tenant = token_url("another-tenant");
        for bad in [
            proof(&s, &key, &other_tenant, 0, None),
            proof(&s, &key, &url, -120, None),
            proof(&s, &key, &url, 60, None),
            "not-a-proof".to_owned(),
        ] {
            assert_error(&token_request(&s, &app, &[&bad]).await, "invalid_dpop_proof");
        }
        let good = proof(&s, &key, &url, 0, None);
        assert_eq!(token_request(&s, &app, &[&good]).await.status, StatusCode::OK);
        let replay = token_request(&s, &app, &[&good]).await;
        assert_error(&replay, "invalid_dpop_proof");
        assert_eq!(replay.json()["error_description"], "DPoP proof was already used");
        let two = [proof(&s, &key, &url, 0, None), proof(&s, &key, &url, 0, None)];
        assert_error(&token_request(&s, &app, &[&two[0], &two[1]]).await, "invalid_dpop_proof");
    }
}

#[tokio::test]
async fn required_nonces_come_in_the_dpop_nonce_header() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let admin = s.app(&scope, "admin", ManagementAccess::Write).await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let reply = management(&s, &admin, "GET", "/config/dpop", None).await;
        assert_eq!((reply.status, reply.json()), (StatusCode::OK, json!({"nonceRequired": false})));
        let reply = management(&s, &admin, "PUT", "/config/dpop", Some(json!({"nonceRequired": true}))).await;
        assert_eq!((reply.status, reply.json()), (StatusCode::OK, json!({"nonceRequired": true})), "{}", s.backend);
        let key = ProofKey::generate(ProofAlg::Es256).unwrap();
        let url = token_url(&tenant.tenant_id);
        let first = token_request(&s, &app, &[&proof(&s, &key, &url, 0, None)]).await;
        assert_error(&first, "use_dpop_nonce");
        let nonce = first.header("dpop-nonce").expect("a DPoP-Nonce header").to_owned();
        let retry = token_request(&s, &app, &[&proof(&s, &key, &url, 0, Some(&nonce))]).await;
        assert_eq!(retry.status, StatusCode::OK, "{}", retry.text());
        assert_eq!(retry.json()["token_type"], "DPoP");
        assert!(retry.header("dpop-nonce").is_some(), "a fresh nonce with the token");
        // Two windows later the nonce is stale, and a new one comes back.
        s.clock.advance(Duration::seconds(600));
        let stale = token_request(&s, &app, &[&proof(&s, &key, &url, 0, Some(&nonce))]).await;
        assert_error(&stale, "use_dpop_nonce");
        assert_ne!(stale.header("dpop-nonce"), Some(nonce.as_str()));
        // The setting is validated as a boolean.
        for body in [json!({"nonceRequired": "yes"}), json!({}), json!({"nonceRequired": true, "extra": 1})] {
            let reply = management(&s, &admin, "PUT", "/config/dpop", Some(body)).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
        }
    }
}

#[tokio::test]
async fn a_dpop_required_application_is_refused_a_bearer_token() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let admin = s.app(&scope, "admin", ManagementAccess::Write).await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let path = format!("/applications/{}", app.client_id);
        assert_eq!(management(&s, &admin, "GET", &path, None).await.json()["dpopRequired"], false);
        let reply = management(&s, &admin, "PUT", &format!("{path}/dpop"), Some(json!({"required": true}))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json()["dpopRequired"], true);
        assert_eq!(management(&s, &admin, "GET", &path, None).await.json()["dpopRequired"], true);
        let bearer = token_request(&s, &app, &[]).await;
        assert_error(&bearer, "invalid_request");
        assert_eq!(bearer.json()["error_description"], "this application's tokens must be DPoP-bound");
        let key = ProofKey::generate(ProofAlg::Rs256).unwrap();
        let bound = token_request(&s, &app, &[&proof(&s, &key, &token_url(&tenant.tenant_id), 0, None)]).await;
        assert_eq!(bound.status, StatusCode::OK, "{}", bound.text());
        let reply = management(&s, &admin, "PUT", &format!("{path}/dpop"), Some(json!({"required": 1}))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let unknown = management(&s, &admin, "PUT", "/applications/nobody/dpop", Some(json!({"required": true}))).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    }
}
