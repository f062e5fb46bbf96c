//! Test fixtures: the `Issuer` abstraction (an in-test fake tenant, or a real
//! Clavis server), a counting proxy, and helpers that forge bad tokens and call
//! a protected app.

pub mod clavis;
pub mod fake_issuer;
pub mod keys;
pub mod proxy;
pub mod raw_http;
pub mod stub;

use std::time::Duration;

use aws_lc_rs::hmac;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_sdk::{Claims, ProtectLayer, RetryPolicy, TokenManager, TokenManagerBuilder, TokenValidator};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub use clavis::Clavis;
pub use fake_issuer::FakeIssuer;
pub use proxy::Proxy;

/// What the scenarios need from an issuer: `FakeIssuer` (in-test) and
/// `Clavis` (the real server, started by the test) implement it.
#[allow(async_fn_in_trait)]
pub trait Issuer {
    /// The tenant's `oAuthServerUrl` (also the tokens' `iss`).
    fn oauth_server_url(&self) -> String;
    /// An application's client ID in that tenant.
    fn client_id(&self) -> String;
    /// That application's secret.
    fn client_secret(&self) -> String;
    /// A protected API the application may ask tokens for (`audience`) with
    /// the scope `read`. Clavis's role grants `read` and not `write`; the fake
    /// grants whatever is asked, so scenarios ask only for `read`.
    fn api_audience(&self) -> String;
    /// Makes the tenant sign new tokens with a new key (new `kid`).
    async fn rotate_signing_key(&self);
}

/// Fast retries for tests.
pub fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy { max_retries, initial_backoff: Duration::from_millis(10), max_backoff: Duration::from_millis(50) }
}

/// A token manager for `issuer`'s application, with fast retries.
pub fn manager_for(issuer: &impl Issuer) -> TokenManagerBuilder {
    TokenManager::builder(issuer.oauth_server_url(), issuer.client_id(), issuer.client_secret())
        .retry_policy(quick_retries(3))
}

/// A token manager whose requests go through `proxy`.
pub fn manager_via(issuer: &impl Issuer, proxy: &Proxy) -> TokenManagerBuilder {
    manager_for(issuer).token_url(proxy.url("/token"))
}

/// A fresh token from the issuer's token endpoint.
pub async fn fetch_token(issuer: &impl Issuer) -> String {
    manager_for(issuer).build().unwrap().access_token().await.unwrap().as_str().to_owned()
}

/// The issuer's JWKS, as served.
pub async fn fetch_jwks(issuer: &impl Issuer) -> Value {
    let url = format!("{}/publickeys", issuer.oauth_server_url());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn split(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWS: {token}");
    let decode = |p: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (decode(parts[0]), decode(parts[1]), parts[2].to_owned())
}

fn join(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", keys::b64_json(header), keys::b64_json(claims))
}

/// The token's header and claims.
pub fn decode(token: &str) -> (Value, Value) {
    let (header, claims, _) = split(token);
    (header, claims)
}

/// The same claims under `alg: none` with an empty signature.
pub fn forge_alg_none(token: &str) -> String {
    let (mut header, claims, _) = split(token);
    header["alg"] = json!("none");
    join(&header, &claims, "")
}

/// The classic key-confusion attack: HS256 keyed with the issuer's public key.
pub fn forge_hs256_with_public_key(token: &str, jwks: &Value) -> String {
    let (mut header, claims, _) = split(token);
    let kid = header["kid"].clone();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap();
    let public_key = serde_json::to_vec(jwk).unwrap();
    header["alg"] = json!("HS256");
    let input = format!("{}.{}", keys::b64_json(&header), keys::b64_json(&claims));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &public_key), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The claims changed (more scope), the original signature kept.
pub fn forge_tampered_claims(token: &str) -> String {
    let (header, mut claims, signature) = split(token);
    claims["scope"] = json!(format!("{} admin", claims["scope"].as_str().unwrap()));
    join(&header, &claims, &signature)
}

/// The signature altered in its first byte.
pub fn forge_tampered_signature(token: &str) -> String {
    let (header, claims, signature) = split(token);
    let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
    sig[0] ^= 0x01;
    join(&header, &claims, &URL_SAFE_NO_PAD.encode(sig))
}

/// The same token claiming a `kid` nobody published.
pub fn forge_unknown_kid(token: &str, n: usize) -> String {
    let (mut header, claims, signature) = split(token);
    header["kid"] = json!(format!("garbage-{n}"));
    join(&header, &claims, &signature)
}

/// A resource server with `GET /protected_resource` behind `layer`; the
/// handler echoes the claims it was handed.
pub fn protected_app(layer: ProtectLayer) -> Router {
    Router::new()
        .route(
            "/protected_resource",
            get(|claims: Claims| async move { Json(json!({"sub": claims.sub, "scope": claims.scope})) }),
        )
        .layer(layer)
}

/// The answer to a call of the app.
pub struct Answer {
    pub status: StatusCode,
    pub challenge: Option<String>,
    pub body: Value,
}

/// Calls `GET /protected_resource` with `authorization` as the header value.
pub async fn call(app: &Router, authorization: Option<&str>) -> Answer {
    let mut request = Request::get("/protected_resource");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let challenge = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, challenge, body }
}

/// Calls the app with `Bearer {token}`.
pub async fn call_with(app: &Router, token: &str) -> Answer {
    call(app, Some(&format!("Bearer {token}"))).await
}

/// Asserts a 401 `invalid_token` answer.
pub fn assert_invalid_token(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: status");
    let challenge = answer.challenge.as_deref().unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{what}: challenge {challenge:?}");
    assert!(challenge.contains("error=\"invalid_token\""), "{what}: challenge {challenge:?}");
    // The body repeats the reason for a developer reading the answer.
    assert_eq!(answer.body["error"], "invalid_token", "{what}: body {}", answer.body);
    let description = answer.body["error_description"].as_str().unwrap_or_default();
    assert!(!description.is_empty() && challenge.contains(description), "{what}: body {}", answer.body);
}

/// A validator builder for `issuer` with the defaults the scenarios use.
/// The expected audience is the caller's client ID: the `aud` of a token
/// requested without `audience`, from Clavis and from the fake alike.
pub fn validator_for(issuer: &impl Issuer) -> clavis_sdk::TokenValidatorBuilder {
    TokenValidator::builder(issuer.oauth_server_url()).audience(issuer.client_id())
}
