//! Access control: the expected audience is required, `typ: at+jwt` is checked by default, and routes
//! require their own scopes through the axum layer.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use clavis_sdk::{BuildError, Claims, ProtectLayer, TokenValidator};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{
    Answer, FakeIssuer, Issuer, assert_invalid_token, call_with, fetch_token, manager_for, protected_app, validator_for,
};

/// `GET /orders` needs `read`, `POST /orders` needs `write`, `GET /health`
/// needs no token: each route has its own layer, as an API would set it up.
fn orders_app(protect: &ProtectLayer, read: &str, write: &str) -> Router {
    let echo = |claims: Claims| async move { Json(json!({"sub": claims.sub, "scope": claims.scope})) };
    Router::new()
        .route("/orders", get(echo).route_layer(protect.clone().require_scopes([read])))
        .route("/orders", post(echo).route_layer(protect.clone().require_scopes([write])))
        .route("/health", get(|| async { "ok" }))
}

/// Calls `method path` on `app` with `Bearer {token}` (or no token).
async fn request(app: &Router, method: Method, path: &str, token: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let challenge = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    Answer { status, challenge, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

fn assert_insufficient_scope(answer: &Answer, scope: &str) {
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    let challenge = answer.challenge.as_deref().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains(&format!("scope=\"{scope}\"")), "{challenge}");
    assert_eq!(answer.body["error"], "insufficient_scope");
    assert!(answer.body["error_description"].as_str().unwrap().contains(scope), "{}", answer.body);
}

/// Scenario: one route accepts a token its scope covers (200) while another
/// route of the same API refuses it (403 `insufficient_scope` naming the
/// scope it needs); a route without a layer needs no token; a missing token
/// is still a bare 401 challenge. The token is asked for the API with the
/// scope `read`, as a caller of that API would.
pub async fn per_route_scopes(issuer: &impl Issuer) {
    let api = issuer.api_audience();
    let tokens = manager_for(issuer).audience(&api).scope("read").build().unwrap();
    let token = tokens.access_token().await.unwrap();
    let token = token.as_str();
    let protect = ProtectLayer::new(validator_for(issuer).audience(&api).build().unwrap());
    let app = orders_app(&protect, "read", "write");

    let read = request(&app, Method::GET, "/orders", Some(token)).await;
    assert_eq!(read.status, StatusCode::OK, "{:?} {}", read.challenge, read.body);
    assert_eq!(read.body["sub"], issuer.client_id());
    assert_insufficient_scope(&request(&app, Method::POST, "/orders", Some(token)).await, "write");
    assert_eq!(request(&app, Method::GET, "/health", None).await.status, StatusCode::OK);
    let anonymous = request(&app, Method::POST, "/orders", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.challenge.as_deref(), Some("Bearer"));
    assert_invalid_token(&request(&app, Method::GET, "/orders", Some("not-a-jwt")).await, "garbage on a scoped route");
    // A token for the caller itself (no audience asked for) is not one for the API.
    let own = fetch_token(issuer).await;
    assert_invalid_token(&request(&app, Method::GET, "/orders", Some(&own)).await, "caller's own token");
}

#[tokio::test]
async fn per_route_scopes_fake() {
    per_route_scopes(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn get_needs_read_and_post_needs_write() {
    let issuer = FakeIssuer::start().await;
    let protect = ProtectLayer::new(validator_for(&issuer).build().unwrap());
    let app = orders_app(&protect, "read", "write");
    let reader = manager_for(&issuer).scopes(["read"]).build().unwrap().access_token().await.unwrap();
    let writer = manager_for(&issuer).scopes(["read", "write"]).build().unwrap().access_token().await.unwrap();

    assert_eq!(request(&app, Method::GET, "/orders", Some(reader.as_str())).await.status, StatusCode::OK);
    assert_insufficient_scope(&request(&app, Method::POST, "/orders", Some(reader.as_str())).await, "write");
    assert_eq!(request(&app, Method::GET, "/orders", Some(writer.as_str())).await.status, StatusCode::OK);
    assert_eq!(request(&app, Method::POST, "/orders", Some(writer.as_str())).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_route_layer_inside_a_router_layer_checks_its_scopes() {
    let issuer = FakeIssuer::start().await;
    let protect = ProtectLayer::new(validator_for(&issuer).build().unwrap());
    let echo = |claims: Claims| async move { claims.scope };
    let app = Router::new()
        .route("/orders", get(echo))
        .route("/orders", post(echo).route_layer(protect.clone().require_scopes(["write"])))
        .layer(protect.clone());
    let reader = manager_for(&issuer).scope("read").build().unwrap().access_token().await.unwrap();
    let writer = manager_for(&issuer).scope("write").build().unwrap().access_token().await.unwrap();
    assert_eq!(request(&app, Method::GET, "/orders", Some(reader.as_str())).await.status, StatusCode::OK);
    assert_insufficient_scope(&request(&app, Method::POST, "/orders", Some(reader.as_str())).await, "write");
    assert_eq!(request(&app, Method::POST, "/orders", Some(writer.as_str())).await.status, StatusCode::OK);

    // An inner layer of another validator does not trust the outer one's
    // verdict: it checks the token against its own audience.
    let other_api = ProtectLayer::new(validator_for(&issuer).audience("other-api").build().unwrap());
    let app = Router::new().route("/orders", get(echo).route_layer(other_api)).layer(protect);
    let answer = request(&app, Method::GET, "/orders", Some(writer.as_str())).await;
    assert_invalid_token(&answer, "outer layer's audience, inner layer's refusal");
    assert!(answer.challenge.unwrap().contains("wrong audience"));
}

#[tokio::test]
async fn validate_with_scopes_is_public() {
    let issuer = FakeIssuer::start().await;
    let validator = validator_for(&issuer).build().unwrap();
    let token = manager_for(&issuer).scope("read").build().unwrap().access_token().await.unwrap();
    assert!(validator.validate_with_scopes(token.as_str(), &["read"]).await.is_ok());
    let err = validator.validate_with_scopes(token.as_str(), &["read", "write"]).await.unwrap_err();
    assert_eq!(err, clavis_sdk::AuthError::InsufficientScope { required: "read write".into() });
}

#[test]
fn build_fails_without_an_audience() {
    let err = TokenValidator::builder("https://auth.example/oauth/v4/t1").build().unwrap_err();
    assert!(matches!(err, BuildError::MissingAudience), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(".audience(") && message.contains(".allow_any_audience()"), "{message}");
    let err = TokenValidator::builder("https://auth.example/oauth/v4/t1").audience("").build().unwrap_err();
    assert!(matches!(err, BuildError::Empty("audience")), "{err:?}");
    let opted_out = TokenValidator::builder("https://auth.example/oauth/v4/t1").allow_any_audience().build().unwrap();
    assert_eq!(opted_out.audience(), None);
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let issuer = FakeIssuer::start().await;
    let app = protected_app(ProtectLayer::new(validator_for(&issuer).audience("orders-api").build().unwrap()));
    let for_billing = issuer.claims_for(&issuer.client_id(), None, Some("billing-api"));
    let answer = call_with(&app, &issuer.mint(&for_billing)).await;
    assert_invalid_token(&answer, "aud of another API");
    assert!(answer.challenge.unwrap().contains("wrong audience"));
    let mut no_aud = for_billing.clone();
    no_aud.as_object_mut().unwrap().remove("aud");
    assert_invalid_token(&call_with(&app, &issuer.mint(&no_aud)).await, "no aud");

    let for_orders = issuer.claims_for(&issuer.client_id(), None, Some("orders-api"));
    assert_eq!(call_with(&app, &issuer.mint(&for_orders)).await.status, StatusCode::OK);

    // The explicit opt-out accepts both.
    let any = TokenValidator::builder(issuer.oauth_server_url()).allow_any_audience().build().unwrap();
    let app = protected_app(ProtectLayer::new(any));
    assert_eq!(call_with(&app, &issuer.mint(&for_billing)).await.status, StatusCode::OK);
    assert_eq!(call_with(&app, &issuer.mint(&no_aud)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn typ_at_jwt_is_required_by_default() {
    let issuer = FakeIssuer::start().await;
    let claims = issuer.claims_for(&issuer.client_id(), None, None);
    let app = protected_app(ProtectLayer::new(validator_for(&issuer).build().unwrap()));
    for typ in [Some("at+jwt"), Some("application/at+jwt"), Some("AT+JWT")] {
        let answer = call_with(&app, &issuer.mint_with_typ(typ, &claims)).await;
        assert_eq!(answer.status, StatusCode::OK, "typ {typ:?}: {:?}", answer.challenge);
    }
    let relaxed = protected_app(ProtectLayer::new(validator_for(&issuer).allow_any_token_type().build().unwrap()));
    for typ in [None, Some("JWT"), Some("id_token+jwt"), Some("")] {
        let token = issuer.mint_with_typ(typ, &claims);
        let answer = call_with(&app, &token).await;
        assert_invalid_token(&answer, &format!("typ {typ:?}"));
        assert!(answer.challenge.unwrap().contains("token type is not at+jwt"));
        // The opt-out accepts the same, correctly signed token.
        assert_eq!(call_with(&relaxed, &token).await.status, StatusCode::OK, "typ {typ:?} with the opt-out");
    }
    // The older setter says the same thing.
    let old_style = protected_app(ProtectLayer::new(validator_for(&issuer).require_at_jwt(false).build().unwrap()));
    assert_eq!(call_with(&old_style, &issuer.mint_with_typ(None, &claims)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn token_manager_asks_for_audience_and_scopes() {
    let issuer = FakeIssuer::start().await;
    let tokens = manager_for(&issuer).audience("orders-api").scopes(["read", "write"]).scope("read").build().unwrap();
    assert_eq!(tokens.scope(), Some("read write"));
    assert_eq!(tokens.audience(), Some("orders-api"));
    let token = tokens.access_token().await.unwrap();
    let (_, claims) = crate::support::decode(token.as_str());
    assert_eq!(claims["scope"], "appid_default read write");
    assert_eq!(claims["aud"], json!([issuer.client_id(), "orders-api"]));
    // The API checks both.
    let validator = validator_for(&issuer).audience("orders-api").required_scopes(["write"]).build().unwrap();
    assert!(validator.validate(token.as_str()).await.is_ok());
}
