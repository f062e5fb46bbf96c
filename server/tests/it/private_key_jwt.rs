//! `private_key_jwt` over HTTP: the `/applications/{clientId}/jwks` routes
//! (shapes, refusals, tenant isolation, read-only tokens) and token requests
//! authenticated by a signed assertion, with the keys stored or served from
//! a `jwks_uri` on a loopback port.

use axum::http::{Method, StatusCode};
use axum::routing::get;
use clavis_oauth::jose::Algorithm;
use clavis_oauth::jose::jwk::Jwk;
use clavis_oauth::jose::sign::{Signer, generate};
use clavis_types::ManagementAccess;
use serde_json::{Value, json};

use super::management::{Fixture, assert_error, call};
use super::support::{TestServer, servers};

const ASSERTION_TYPE: &str = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";

fn key() -> (Signer, Jwk) {
    let key = generate(Algorithm::Es256).unwrap();
    (Signer::from_pkcs8(&key.kid, key.alg, &key.pkcs8_der).unwrap(), key.public_jwk)
}

/// An assertion for `client_id` at `tenant_id`'s token endpoint.
fn assertion(s: &TestServer, signer: &Signer, tenant_id: &str, client_id: &str) -> String {
    let now = s.now().timestamp();
    let claims = json!({
        "iss": client_id, "sub": client_id,
        "aud": format!("{}/token", s.services.oauth_server_url(tenant_id)),
        "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
    });
    signer.sign_jwt(claims.to_string().as_bytes()).unwrap()
}

/// `POST /token` authenticated by `assertion` alone (no client_id).
async fn token_with_assertion(s: &TestServer, tenant_id: &str, assertion: &str) -> (StatusCode, Value) {
    let body =
        format!("grant_type=client_credentials&client_assertion_type={ASSERTION_TYPE}&client_assertion={assertion}");
    let reply = s.post_form(&format!("/oauth/v4/{tenant_id}/token"), None, &body).await;
    (reply.status, reply.json())
}

/// A JWKS on 127.0.0.1; its URL.
async fn loopback_jwks(jwks: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/jwks.json", get(move || async move { axum::Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn private_key_jwt_keys_are_set_read_used_and_removed_over_http() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "payments", ManagementAccess::None).await;
        let path = f.app_path(&app.client_id, "/jwks");
        let (signer, jwk) = key();
        let set = call(&s, Method::PUT, &path, Some(&f.token), Some(json!({"keys": [jwk]}))).await;
        assert_eq!(set.status, StatusCode::OK, "{}: {}", s.backend, set.text());
        assert_eq!(set.json(), json!({"keys": [jwk]}));
        let read = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!((read.status, read.json()), (StatusCode::OK, json!({"keys": [jwk]})));
        let view = call(&s, Method::GET, &f.app_path(&app.client_id, ""), Some(&f.token), None).await;
        assert_eq!(view.json()["credentialType"], "keys", "{}", s.backend);

        let (status, body) =
            token_with_assertion(&s, &f.tenant.tenant_id, &assertion(&s, &signer, &f.tenant.tenant_id, &app.client_id))
                .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", s.backend);
        assert_eq!(body["token_type"], "Bearer");
        // Its secret went with the keys.
        let basic = s
            .post_form(
                &format!("/oauth/v4/{}/token", f.tenant.tenant_id),
                Some((&app.client_id, app.secret.as_deref().unwrap())),
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(basic.status, StatusCode::UNAUTHORIZED, "{}", s.backend);
        // The same assertion again is a replay.
        let once = assertion(&s, &signer, &f.tenant.tenant_id, &app.client_id);
        assert_eq!(token_with_assertion(&s, &f.tenant.tenant_id, &once).await.0, StatusCode::OK);
        let (status, body) = token_with_assertion(&s, &f.tenant.tenant_id, &once).await;
        assert_eq!(
            (status, body["error_description"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("assertion jti was already used"))
        );

        let deleted = call(&s, Method::DELETE, &path, Some(&f.token), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
        assert_error(&call(&s, Method::GET, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&call(&s, Method::DELETE, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        let view = call(&s, Method::GET, &f.app_path(&app.client_id, ""), Some(&f.token), None).await;
        assert_eq!(view.json()["credentialType"], "secret", "{}", s.backend);
        let (status, _) =
            token_with_assertion(&s, &f.tenant.tenant_id, &assertion(&s, &signer, &f.tenant.tenant_id, &app.client_id))
                .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}: removed keys no longer authenticate", s.backend);
    }
}

#[tokio::test]
async fn private_key_jwt_bad_bodies_are_400() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "payments", ManagementAccess::None).await;
        let path = f.app_path(&app.client_id, "/jwks");
        let (_, jwk) = key();
        let mut private = serde_json::to_value(&jwk).unwrap();
        private["d"] = json!("c2VjcmV0");
        // A loopback port nothing listens on any more.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/jwks.json", listener.local_addr().unwrap())
        };
        for (body, why) in [
            (json!({"keys": [jwk], "jwks_uri": "https://keys.example/jwks"}), "exactly one"),
            (json!({}), "exactly one"),
            (json!({"keys": [private]}), "private member \"d\""),
            (json!({"keys": []}), "no key"),
            (json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), "private member \"k\""),
            (json!({"jwks_uri": "http://keys.example/jwks"}), "https"),
            (json!({"jwks_uri": "not a url"}), "URL"),
            (json!({"jwks_uri": closed}), "could not be fetched"),
            (json!({"keys": "nope"}), ""),
            (json!({"keys": [jwk], "extra": 1}), ""),
        ] {
            let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(body.clone())).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
            assert!(
                reply.json()["message"].as_str().unwrap().contains(why),
                "{}: {body} -> {}",
                s.backend,
                reply.text()
            );
        }
        // Nothing was set, and the secret still works.
        assert_error(&call(&s, Method::GET, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        s.token_for(&app).await;
    }
}

#[tokio::test]
async fn private_key_jwt_routes_are_per_tenant_and_writing_needs_write_access() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let other = Fixture::new(&s, "Other").await;
        let app = s.app(&f.scope, "payments", ManagementAccess::None).await;
        let (_, jwk) = key();
        let body = json!({"keys": [jwk]});
        assert_eq!(
            call(&s, Method::PUT, &f.app_path(&app.client_id, "/jwks"), Some(&f.token), Some(body.clone()))
                .await
                .status,
            StatusCode::OK
        );
        // Another tenant's token, on its own tenant's path: no such application.
        let elsewhere = other.app_path(&app.client_id, "/jwks");
        assert_error(
            &call(&s, Method::GET, &elsewhere, Some(&other.token), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &call(&s, Method::PUT, &elsewhere, Some(&other.token), Some(body.clone())).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &call(&s, Method::DELETE, &elsewhere, Some(&other.token), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        // A read-only token reads, and writes nothing.
        let reader = s.app(&f.scope, "reader", ManagementAccess::Read).await;
        let read_token = s.management_token_for(&reader).await;
        let path = f.app_path(&app.client_id, "/jwks");
        assert_eq!(call(&s, Method::GET, &path, Some(&read_token), None).await.status, StatusCode::OK);
        assert_eq!(call(&s, Method::PUT, &path, Some(&read_token), Some(body)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(call(&s, Method::DELETE, &path, Some(&read_token), None).await.status, StatusCode::FORBIDDEN);
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.status, StatusCode::OK, "still there");
    }
}

#[tokio::test]
async fn private_key_jwt_keys_from_a_jwks_uri_authenticate() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "payments", ManagementAccess::None).await;
        let (signer, jwk) = key();
        let url = loopback_jwks(json!({"keys": [jwk]})).await;
        let path = f.app_path(&app.client_id, "/jwks");
        let set = call(&s, Method::PUT, &path, Some(&f.token), Some(json!({"jwks_uri": url}))).await;
        assert_eq!((set.status, set.json()), (StatusCode::OK, json!({"jwks_uri": url})), "{}", s.backend);
        let read = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!(read.json(), json!({"jwks_uri": url}));
        let (status, body) =
            token_with_assertion(&s, &f.tenant.tenant_id, &assertion(&s, &signer, &f.tenant.tenant_id, &app.client_id))
                .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", s.backend);
        // A key the URL does not serve is unknown.
        let (stranger, _) = key();
        let (status, body) = token_with_assertion(
            &s,
            &f.tenant.tenant_id,
            &assertion(&s, &stranger, &f.tenant.tenant_id, &app.client_id),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{}",
            s.backend
        );
    }
}
