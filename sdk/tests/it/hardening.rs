//! Hardening: absurd numbers do not panic or overflow, response bodies are capped, and issuer URLs
//! must be https except on loopback.

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_sdk::{BuildError, ManualClock, ProtectLayer, TokenError, TokenManager, TokenValidator};
use serde_json::json;

use crate::support::raw_http::{Canned, RawServer};
use crate::support::{
    FakeIssuer, Issuer, assert_invalid_token, call_with, protected_app, quick_retries, validator_for,
};

/// The largest body the SDK reads (1 MiB).
const CAP: usize = 1 << 20;

fn manager_at(server: &RawServer) -> TokenManager {
    TokenManager::builder(server.url("/oauth/v4/t"), "id", "secret").retry_policy(quick_retries(0)).build().unwrap()
}

#[tokio::test]
async fn huge_expires_in_is_cached_without_panic() {
    let body = r#"{"access_token":"opaque-token","token_type":"Bearer","expires_in":18446744073709551615}"#;
    let server = RawServer::start(Canned::Json(body.into())).await;
    let tokens = manager_at(&server);
    let token = tokens.access_token().await.unwrap();
    assert_eq!(token.as_str(), "opaque-token");
    assert!(token.expires_at() > std::time::SystemTime::now() + Duration::from_secs(300 * 24 * 3600));
    // Cached: the second call sends nothing.
    tokens.access_token().await.unwrap();
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn huge_exp_without_expires_in_is_cached_without_panic() {
    let payload = URL_SAFE_NO_PAD.encode(r#"{"exp":18446744073709551615}"#);
    let body = format!(r#"{{"access_token":"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln","token_type":"Bearer"}}"#);
    let server = RawServer::start(Canned::Json(body)).await;
    let tokens = manager_at(&server);
    tokens.access_token().await.unwrap();
    tokens.access_token().await.unwrap();
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn expires_in_beyond_u64_is_an_invalid_response() {
    let body = r#"{"access_token":"t","token_type":"Bearer","expires_in":18446744073709551616}"#;
    let server = RawServer::start(Canned::Json(body.into())).await;
    let err = manager_at(&server).access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidResponse(_)), "{err:?}");
}

#[tokio::test]
async fn an_endless_token_response_stops_at_the_cap() {
    let server = RawServer::start(Canned::Endless).await;
    let tokens = manager_at(&server);
    let err = tokio::time::timeout(Duration::from_secs(30), tokens.access_token())
        .await
        .expect("reading stopped at the cap")
        .unwrap_err();
    match &err {
        TokenError::InvalidResponse(why) => assert!(why.contains(&format!("larger than {CAP} bytes")), "{why}"),
        other => panic!("{other:?}"),
    }
    // The server offered more than the cap; the SDK read no further.
    assert!(server.sent() >= CAP / 2, "sent {}", server.sent());
    assert_eq!(server.requests(), 1, "an oversized body is not retried");
}

#[tokio::test]
async fn an_oversized_content_length_is_refused_unread() {
    let server = RawServer::start(Canned::Announced(10 * CAP as u64)).await;
    let err = manager_at(&server).access_token().await.unwrap_err();
    assert!(matches!(&err, TokenError::InvalidResponse(why) if why.contains("larger than")), "{err:?}");
}

#[tokio::test]
async fn an_oversized_jwks_is_refused() {
    let server = RawServer::start(Canned::Endless).await;
    let issuer = FakeIssuer::start().await;
    let validator = validator_for(&issuer).jwks_uri(server.url("/publickeys")).build().unwrap();
    let token = crate::support::fetch_token(&issuer).await;
    let answer = call_with(&protected_app(ProtectLayer::new(validator)), &token).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn huge_exp_and_nbf_in_a_token_do_not_panic() {
    let issuer = FakeIssuer::start().await;
    let validator = validator_for(&issuer).leeway(Duration::MAX).build().unwrap();
    let strict = validator_for(&issuer).build().unwrap();
    let mut claims = issuer.claims_for(&issuer.client_id(), None, None);
    claims["exp"] = json!(u64::MAX);
    claims["iat"] = json!(u64::MAX);
    // Signed by the issuer, so "never expires" is its call.
    for v in [&validator, &strict] {
        assert_eq!(v.validate(&issuer.mint(&claims)).await.unwrap().exp, u64::MAX);
    }
    claims["nbf"] = json!(u64::MAX);
    let app = protected_app(ProtectLayer::new(strict.clone()));
    let answer = call_with(&app, &issuer.mint(&claims)).await;
    assert_invalid_token(&answer, "nbf u64::MAX");
    assert!(answer.challenge.unwrap().contains("not yet valid"));
    // A leeway of Duration::MAX saturates instead of overflowing.
    assert!(validator.validate(&issuer.mint(&claims)).await.is_ok());
    // Numbers a u64 cannot hold are bad claims, not a panic.
    for exp in [json!(1e300), json!(-1), json!("18446744073709551616")] {
        claims["exp"] = exp.clone();
        claims.as_object_mut().unwrap().remove("nbf");
        assert_invalid_token(&call_with(&app, &issuer.mint(&claims)).await, &format!("exp {exp}"));
    }
    // A clock far in the future does not panic either, nor does moving it
    // past what `SystemTime` can hold.
    let clock = ManualClock::new(std::time::UNIX_EPOCH + Duration::from_secs(1 << 62));
    clock.advance(Duration::MAX);
    let late = validator_for(&issuer).clock(clock).build().unwrap();
    claims["exp"] = json!(u64::MAX);
    assert!(late.validate(&issuer.mint(&claims)).await.is_ok());
}

#[test]
fn http_issuers_are_refused_except_on_loopback() {
    for insecure in ["http://example.com/oauth/v4/t", "http://10.1.2.3:3000/oauth/v4/t", "http://[2001:db8::1]/t"] {
        let err = TokenManager::builder(insecure, "id", "secret").build().unwrap_err();
        assert!(matches!(err, BuildError::InsecureUrl { what: "oAuthServerUrl", .. }), "{insecure}: {err:?}");
        assert!(err.to_string().contains("must use https"), "{err}");
        let err = TokenValidator::builder(insecure).audience("api").build().unwrap_err();
        assert!(matches!(err, BuildError::InsecureUrl { what: "issuer", .. }), "{insecure}: {err:?}");
        // The URL problem is reported before the missing audience.
        let err = TokenValidator::builder(insecure).build().unwrap_err();
        assert!(matches!(err, BuildError::InsecureUrl { .. }), "{insecure}: {err:?}");
    }
    let secure = "https://auth.example/oauth/v4/t";
    let err = TokenManager::builder(secure, "id", "s").token_url("http://example.com/token").build().unwrap_err();
    assert!(matches!(err, BuildError::InsecureUrl { what: "token", .. }), "{err:?}");
    let err = TokenValidator::builder(secure).audience("api").jwks_uri("http://example.com/keys").build().unwrap_err();
    assert!(matches!(err, BuildError::InsecureUrl { what: "JWKS", .. }), "{err:?}");
    for ok in
        [secure, "http://127.0.0.1:3000/oauth/v4/t", "http://127.8.9.10/t", "http://[::1]:3000/t", "http://localhost/t"]
    {
        assert!(TokenManager::builder(ok, "id", "secret").build().is_ok(), "{ok}");
        assert!(TokenValidator::builder(ok).audience("api").build().is_ok(), "{ok}");
    }
}

/// Discovery that points the keys at plain http off loopback is not followed.
#[tokio::test]
async fn an_insecure_jwks_uri_from_discovery_is_not_fetched() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}/oauth/v4/t", listener.local_addr().unwrap());
    let discovery = json!({"issuer": issuer, "jwks_uri": "http://keys.example/publickeys"});
    let app = Router::new()
        .route("/oauth/v4/t/.well-known/openid-configuration", get(move || async move { Json(discovery) }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let fake = FakeIssuer::start().await;
    let token = fake.mint(&fake.claims_for(&fake.client_id(), None, None));
    let validator = TokenValidator::builder(&issuer).allow_any_audience().build().unwrap();
    assert_eq!(validator.validate(&token).await.unwrap_err(), clavis_sdk::AuthError::KeysUnavailable);
    server.abort();
}
