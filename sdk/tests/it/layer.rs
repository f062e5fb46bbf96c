//! ProtectLayer and the Claims extractor: accepted and refused tokens, key rotation, rate limits.

use std::time::Duration;

use axum::http::StatusCode;
use clavis_sdk::{ManualClock, ProtectLayer};
use serde_json::json;

use crate::support::keys::Alg;
use crate::support::{
    FakeIssuer, Issuer, Proxy, assert_invalid_token, call, call_with, decode, fetch_jwks, fetch_token, forge_alg_none,
    forge_hs256_with_public_key, forge_tampered_claims, forge_tampered_signature, forge_unknown_kid, manager_for,
    protected_app, validator_for,
};

/// Scenario: a token from the token endpoint passes, and the handler gets its claims.
pub async fn accepts_valid_token(issuer: &impl Issuer) {
    // `typ: at+jwt` and the audience are checked by default.
    let validator = validator_for(issuer).required_scopes(["appid_default"]).build().unwrap();
    let app = protected_app(ProtectLayer::new(validator));
    let token = fetch_token(issuer).await;
    let answer = call_with(&app, &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.challenge);
    assert_eq!(answer.body["sub"], issuer.client_id());
    assert!(answer.body["scope"].as_str().unwrap().contains("appid_default"));
    // Scheme names are case-insensitive.
    let answer = call(&app, Some(&format!("bearer {token}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
}

/// Scenario: no token, another scheme, an empty or malformed token.
pub async fn rejects_missing_and_malformed(issuer: &impl Issuer) {
    let app = protected_app(ProtectLayer::new(validator_for(issuer).build().unwrap()));
    for header in [None, Some("Basic Y2xpZW50OnNlY3JldA==")] {
        let answer = call(&app, header).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(answer.challenge.as_deref(), Some("Bearer"), "{header:?}");
        // RFC 6750 §3.1: no error code when the request carried no token.
        assert!(answer.body.get("error").is_none(), "{}", answer.body);
    }
    let answer = call(&app, Some("Bearer ")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.challenge.unwrap().contains("error=\"invalid_request\""));
    for bad in ["not-a-jwt", "a.b.c", "a.b.c.d.e", "eyJhbGciOiJSUzI1NiJ9..", "..."] {
        assert_invalid_token(&call_with(&app, bad).await, bad);
    }
}

/// Scenario: an expired token (by the validator's clock) is refused.
pub async fn rejects_expired(issuer: &impl Issuer) {
    let token = fetch_token(issuer).await;
    let (_, claims) = decode(&token);
    let clock = ManualClock::starting_now();
    let validator = validator_for(issuer).clock(clock.clone()).build().unwrap();
    let app = protected_app(ProtectLayer::new(validator));
    assert_eq!(call_with(&app, &token).await.status, StatusCode::OK);
    let exp = std::time::UNIX_EPOCH + Duration::from_secs(claims["exp"].as_u64().unwrap());
    // Within the 30 s leeway: still accepted.
    clock.set(exp + Duration::from_secs(20));
    assert_eq!(call_with(&app, &token).await.status, StatusCode::OK);
    clock.set(exp + Duration::from_secs(31));
    let answer = call_with(&app, &token).await;
    assert_invalid_token(&answer, "expired");
    assert!(answer.challenge.unwrap().contains("token expired"));
}

/// Scenario: a validly signed token from another issuer is refused.
pub async fn rejects_wrong_issuer(issuer: &impl Issuer) {
    let token = fetch_token(issuer).await;
    // Trust the same keys, but expect another issuer.
    let validator = clavis_sdk::TokenValidator::builder("http://127.0.0.1:9/oauth/v4/other-tenant")
        .audience(issuer.client_id())
        .jwks_uri(format!("{}/publickeys", issuer.oauth_server_url()))
        .build()
        .unwrap();
    let answer = call_with(&protected_app(ProtectLayer::new(validator)), &token).await;
    assert_invalid_token(&answer, "wrong issuer");
    assert!(answer.challenge.unwrap().contains("wrong issuer"));
}

/// Scenario: `aud` must contain the configured audience. A token asked for
/// without `audience` names the caller; one asked for the protected API
/// names that API (Clavis: its client ID).
pub async fn checks_audience(issuer: &impl Issuer) {
    let token = fetch_token(issuer).await;
    let wrong = validator_for(issuer).audience("https://not-this-api.example").build().unwrap();
    let answer = call_with(&protected_app(ProtectLayer::new(wrong)), &token).await;
    assert_invalid_token(&answer, "wrong audience");
    assert!(answer.challenge.unwrap().contains("wrong audience"));

    let api = issuer.api_audience();
    let tokens = manager_for(issuer).audience(&api).scope("read").build().unwrap();
    let token = tokens.access_token().await.unwrap();
    let right = validator_for(issuer).audience(&api).build().unwrap();
    let answer = call_with(&protected_app(ProtectLayer::new(right)), token.as_str()).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.challenge);
    // The caller's own audience does not stand in for the API's.
    let callers = validator_for(issuer).audience("https://not-this-api.example").build().unwrap();
    assert_invalid_token(&call_with(&protected_app(ProtectLayer::new(callers)), token.as_str()).await, "other API");
}

/// Scenario: a missing scope is 403 `insufficient_scope`, naming the scope.
pub async fn rejects_missing_scope(issuer: &impl Issuer) {
    let token = fetch_token(issuer).await;
    let validator = validator_for(issuer).required_scopes(["appid_default", "admin"]).build().unwrap();
    let answer = call_with(&protected_app(ProtectLayer::new(validator.clone())), &token).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let challenge = answer.challenge.unwrap();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains("scope=\"appid_default admin\""), "{challenge}");
    assert_eq!(answer.body["error"], "insufficient_scope");
    assert!(answer.body["error_description"].as_str().unwrap().contains("appid_default admin"), "{}", answer.body);

    // Scopes required by the layer only.
    let base = validator_for(issuer).build().unwrap();
    let layer = ProtectLayer::new(base).require_scopes(["write"]);
    assert_eq!(call_with(&protected_app(layer), &token).await.status, StatusCode::FORBIDDEN);
}

/// Scenario: forged tokens are refused with 401 `invalid_token`.
pub async fn rejects_forged_tokens(issuer: &impl Issuer) {
    let token = fetch_token(issuer).await;
    let jwks = fetch_jwks(issuer).await;
    let app = protected_app(ProtectLayer::new(validator_for(issuer).build().unwrap()));
    assert_eq!(call_with(&app, &token).await.status, StatusCode::OK);
    let forged = [
        ("alg none", forge_alg_none(&token)),
        ("HS256 keyed with the public key", forge_hs256_with_public_key(&token, &jwks)),
        ("tampered claims", forge_tampered_claims(&token)),
        ("tampered signature", forge_tampered_signature(&token)),
        ("no signature", token.rsplit_once('.').unwrap().0.to_owned() + "."),
    ];
    for (what, bad) in &forged {
        assert_invalid_token(&call_with(&app, bad).await, what);
    }
    let none = call_with(&app, &forged[0].1).await.challenge.unwrap();
    assert!(none.contains("signature algorithm not allowed"), "{none}");
}

/// Scenario: after the issuer rotates its key, tokens with the new `kid`
/// validate without restarting; unknown `kid`s inside the minimum refetch
/// interval are refused without a fetch.
pub async fn follows_key_rotation(issuer: &impl Issuer) {
    let clock = ManualClock::starting_now();
    let validator = validator_for(issuer).clock(clock.clone()).build().unwrap();
    let app = protected_app(ProtectLayer::new(validator));
    let old = fetch_token(issuer).await;
    assert_eq!(call_with(&app, &old).await.status, StatusCode::OK);

    issuer.rotate_signing_key().await;
    let new = fetch_token(issuer).await;
    assert_ne!(decode(&new).0["kid"], decode(&old).0["kid"], "rotation kept the kid");
    // Right after the first fetch, the refetch is rate-limited.
    assert_invalid_token(&call_with(&app, &new).await, "new kid inside the interval");
    clock.advance(Duration::from_secs(11));
    assert_eq!(call_with(&app, &new).await.status, StatusCode::OK);
}

/// Scenario: a flood of unknown `kid`s causes at most one JWKS fetch per interval.
pub async fn rate_limits_unknown_kid_refetch(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let clock = ManualClock::starting_now();
    let validator = validator_for(issuer).jwks_uri(proxy.url("/publickeys")).clock(clock.clone()).build().unwrap();
    let app = protected_app(ProtectLayer::new(validator));
    let token = fetch_token(issuer).await;
    assert_eq!(call_with(&app, &token).await.status, StatusCode::OK);
    assert_eq!(proxy.count("/publickeys"), 1);
    for n in 0..50 {
        assert_invalid_token(&call_with(&app, &forge_unknown_kid(&token, n)).await, "garbage kid");
    }
    assert_eq!(proxy.count("/publickeys"), 1);
    clock.advance(Duration::from_secs(11));
    for n in 50..100 {
        assert_invalid_token(&call_with(&app, &forge_unknown_kid(&token, n)).await, "garbage kid");
    }
    assert_eq!(proxy.count("/publickeys"), 2);
    // Known keys keep working throughout.
    assert_eq!(call_with(&app, &token).await.status, StatusCode::OK);
}

/// Scenario: discovery naming another issuer is not trusted (503: no keys).
pub async fn refuses_discovery_with_other_issuer(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    // The proxy serves the issuer's discovery document, which names the
    // issuer, not the proxy URL configured here.
    let validator = clavis_sdk::TokenValidator::builder(proxy.url("")).audience(issuer.client_id()).build().unwrap();
    let token = fetch_token(issuer).await;
    let answer = call_with(&protected_app(ProtectLayer::new(validator)), &token).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(proxy.count("/.well-known/openid-configuration"), 1);
    assert_eq!(proxy.count("/publickeys"), 0);
}

macro_rules! against_fake {
    ($($scenario:ident),* $(,)?) => {
        mod fake {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(&crate::support::FakeIssuer::start().await).await;
                }
            )*
        }
    };
}

against_fake!(
    accepts_valid_token,
    rejects_missing_and_malformed,
    rejects_expired,
    rejects_wrong_issuer,
    checks_audience,
    rejects_missing_scope,
    rejects_forged_tokens,
    follows_key_rotation,
    rate_limits_unknown_kid_refetch,
    refuses_discovery_with_other_issuer,
);

#[tokio::test]
async fn accepts_es256_and_eddsa() {
    for alg in [Alg::Es256, Alg::EdDsa] {
        let issuer = FakeIssuer::start_with(alg, 3600).await;
        accepts_valid_token(&issuer).await;
        rejects_forged_tokens(&issuer).await;
        follows_key_rotation(&issuer).await;
    }
}

#[tokio::test]
async fn checks_nbf_kid_and_accepts_string_aud() {
    let issuer = FakeIssuer::start().await;
    let app = protected_app(ProtectLayer::new(validator_for(&issuer).audience("solo").build().unwrap()));
    let mut claims = issuer.claims_for(&issuer.client_id(), None, None);
    claims["aud"] = json!("solo");
    assert_eq!(call_with(&app, &issuer.mint(&claims)).await.status, StatusCode::OK);

    claims["nbf"] = json!(claims["iat"].as_u64().unwrap() + 600);
    let answer = call_with(&app, &issuer.mint(&claims)).await;
    assert_invalid_token(&answer, "nbf in the future");

    let mut no_exp = issuer.claims_for(&issuer.client_id(), None, None);
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_invalid_token(&call_with(&app, &issuer.mint(&no_exp)).await, "no exp");
}

#[tokio::test]
async fn extractor_without_layer_is_a_server_error() {
    let app = axum::Router::new()
        .route("/protected_resource", axum::routing::get(|claims: clavis_sdk::Claims| async move { claims.sub }));
    assert_eq!(call(&app, None).await.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn custom_claims_are_readable() {
    let issuer = FakeIssuer::start().await;
    let validator = validator_for(&issuer).build().unwrap();
    let mut claims = issuer.claims_for(&issuer.client_id(), Some("read"), None);
    claims["department"] = json!("billing");
    let verified = validator.validate(&issuer.mint(&claims)).await.unwrap();
    #[derive(serde::Deserialize)]
    struct Extra {
        department: String,
    }
    assert_eq!(verified.custom::<Extra>().unwrap().department, "billing");
    assert!(verified.has_scope("read"));
    assert_eq!(verified.tenant.as_deref(), Some(crate::support::fake_issuer::TENANT));
    assert_eq!(verified.amr, vec!["appid_client_credentials".to_owned()]);
}

#[tokio::test]
async fn other_token_types_are_refused_by_default() {
    let issuer = FakeIssuer::start().await;
    let token = fetch_token(&issuer).await;
    let (mut header, claims) = decode(&token);
    header["typ"] = json!("JWT");
    let relabelled = format!(
        "{}.{}.{}",
        crate::support::keys::b64_json(&header),
        crate::support::keys::b64_json(&claims),
        token.rsplit('.').next().unwrap()
    );
    let answer =
        call_with(&protected_app(ProtectLayer::new(validator_for(&issuer).build().unwrap())), &relabelled).await;
    assert_invalid_token(&answer, "typ JWT");
    assert!(answer.challenge.unwrap().contains("not at+jwt"));
}
