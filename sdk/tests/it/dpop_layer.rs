//! ProtectLayer with DPoP-bound tokens (RFC 9449 §7): acceptance, every refusal and its challenge, the URL behind a proxy, replays.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use clavis_oauth::dpop::{ProofAlg, ProofClaims, ProofKey};
use clavis_sdk::{Claims, Clock, ManualClock, ProtectLayer, TokenValidatorBuilder};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::fake_issuer::CLIENT_ID;
use crate::support::{FakeIssuer, validator_for};

const HOST: &str = "api.test";
const ALGS: &str = r#"algs="ES256 EdDSA RS256 PS256""#;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A token of the fake issuer bound to the key with thumbprint `jkt`.
fn bound_token(issuer: &FakeIssuer, jkt: &str) -> String {
    let mut claims = issuer.claims_for(CLIENT_ID, None, None);
    claims["cnf"] = json!({ "jkt": jkt });
    issuer.mint(&claims)
}

fn unbound_token(issuer: &FakeIssuer) -> String {
    issuer.mint(&issuer.claims_for(CLIENT_ID, None, None))
}

fn proof_at(key: &ProofKey, htm: &str, htu: &str, token: &str, iat: i64) -> String {
    let jti = format!("jti-{:016x}", rand::random::<u64>());
    key.sign(&ProofClaims { htm, htu, iat, jti: &jti, nonce: None, access_token: Some(token) }).unwrap()
}

fn proof(key: &ProofKey, htm: &str, htu: &str, token: &str) -> String {
    proof_at(key, htm, htu, token, now())
}

fn app_for(builder: TokenValidatorBuilder) -> (Router, ProtectLayer) {
    let layer = ProtectLayer::new(builder.build().unwrap());
    let router = Router::new()
        .route(
            "/orders",
            get(|claims: Claims| async move { Json(json!({"sub": claims.sub, "jkt": claims.dpop_jkt()})) }),
        )
        .layer(layer.clone());
    (router, layer)
}

struct Answer {
    status: StatusCode,
    challenges: Vec<String>,
    body: Value,
}

async fn send(app: &Router, path: &str, host: &str, authorization: Option<&str>, proofs: &[&str]) -> Answer {
    let mut request = Request::get(path).header(header::HOST, host);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let challenges =
        response.headers().get_all(header::WWW_AUTHENTICATE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    Answer { status, challenges, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

fn assert_refused(answer: &Answer, code: &str, description: &str, case: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}: {}", answer.body);
    let challenge = answer.challenges.first().map(String::as_str).unwrap_or_default();
    assert!(challenge.starts_with("DPoP "), "{case}: {challenge}");
    assert!(challenge.contains(&format!("error=\"{code}\"")), "{case}: {challenge}");
    assert!(challenge.contains(ALGS), "{case}: {challenge}");
    assert_eq!(answer.body["error"], code, "{case}");
    let said = answer.body["error_description"].as_str().unwrap_or_default();
    assert!(said.contains(description), "{case}: {said:?} does not say {description:?}");
}

#[tokio::test]
async fn a_bound_token_with_its_proof_is_accepted_and_every_bad_proof_is_refused() {
    let issuer = FakeIssuer::start().await;
    let key = ProofKey::generate(ProofAlg::Es256).unwrap();
    let token = bound_token(&issuer, key.thumbprint());
    let clock = ManualClock::starting_now();
    let (app, layer) = app_for(validator_for(&issuer).clock(clock.clone()));
    let url = format!("http://{HOST}/orders");
    let dpop = format!("DPoP {token}");

    let good = proof(&key, "GET", &url, &token);
    let answer = send(&app, "/orders", HOST, Some(&dpop), &[&good]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, json!({"sub": CLIENT_ID, "jkt": key.thumbprint()}));
    // The scheme is case-insensitive; a query does not change the URL.
    let answer =
        send(&app, "/orders?page=2", HOST, Some(&format!("dpop {token}")), &[&proof(&key, "GET", &url, &token)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    let other_key = ProofKey::generate(ProofAlg::EdDsa).unwrap();
    let other_token = bound_token(&issuer, other_key.thumbprint());
    // The validator's clock stands still while the test runs, which on a
    // busy machine can take seconds: the proofs below are dated by it, so
    // each is refused for its own fault and never for its age.
    clock.set(SystemTime::now());
    let validator_now = clock.now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("replay", vec![good.clone()], "already used"),
        ("another key", vec![proof(&other_key, "GET", &url, &token)], "does not match the token's cnf.jkt"),
        ("wrong htm", vec![proof(&key, "POST", &url, &token)], "htm"),
        ("wrong htu path", vec![proof(&key, "GET", &format!("http://{HOST}/invoices"), &token)], "htu"),
        ("wrong htu host", vec![proof(&key, "GET", "http://elsewhere.test/orders", &token)], "htu"),
        ("wrong htu scheme", vec![proof(&key, "GET", &format!("https://{HOST}/orders"), &token)], "htu"),
        ("stale", vec![proof_at(&key, "GET", &url, &token, validator_now - 61)], "too old"),
        ("ahead", vec![proof_at(&key, "GET", &url, &token, validator_now + 60)], "future"),
        ("ath of another token", vec![proof(&key, "GET", &url, &other_token)], "ath"),
        ("missing proof", vec![], "a DPoP proof header is required"),
        ("two proofs", vec![proof(&key, "GET", &url, &token), proof(&key, "GET", &url, &token)], "only one"),
        ("not a JWT", vec!["garbage".into()], "not a JWT"),
    ];
    for (case, proofs, description) in &cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let answer = send(&app, "/orders", HOST, Some(&dpop), &proofs).await;
        assert_refused(&answer, "invalid_dpop_proof", description, case);
    }

    // Fresh by the validator's clock: a proof a minute old is stale.
    let later = proof(&key, "GET", &url, &token);
    clock.advance(Duration::from_secs(61));
    assert_refused(&send(&app, "/orders", HOST, Some(&dpop), &[&later]).await, "invalid_dpop_proof", "too old", "late");

    clock.set(SystemTime::now());

    // A scope the token lacks: 403, still challenged with DPoP.
    let strict = Router::new()
        .route("/orders", get(|claims: Claims| async move { claims.sub }))
        .layer(layer.require_scopes(["write"]));
    let answer = send(&strict, "/orders", HOST, Some(&dpop), &[&proof(&key, "GET", &url, &token)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.challenges[0].starts_with("DPoP ") && answer.challenges[0].contains("insufficient_scope"));
}

#[tokio::test]
async fn a_bound_token_as_bearer_and_an_unbound_one_as_dpop_are_refused() {
    let issuer = FakeIssuer::start().await;
    let key = ProofKey::generate(ProofAlg::Rs256).unwrap();
    let bound = bound_token(&issuer, key.thumbprint());
    let unbound = unbound_token(&issuer);
    let (app, _) = app_for(validator_for(&issuer));
    let url = format!("http://{HOST}/orders");

    let answer = send(&app, "/orders", HOST, Some(&format!("Bearer {bound}")), &[]).await;
    assert_refused(&answer, "invalid_token", "must be sent with the DPoP scheme", "bearer for bound");
    // Even with a good proof beside it: the scheme says Bearer.
    let answer =
        send(&app, "/orders", HOST, Some(&format!("Bearer {bound}")), &[&proof(&key, "GET", &url, &bound)]).await;
    assert_refused(&answer, "invalid_token", "must be sent with the DPoP scheme", "bearer for bound with proof");

    let answer =
        send(&app, "/orders", HOST, Some(&format!("DPoP {unbound}")), &[&proof(&key, "GET", &url, &unbound)]).await;
    assert_refused(&answer, "invalid_token", "not DPoP-bound", "DPoP for unbound");
    // A forged DPoP-scheme token is invalid_token with the DPoP challenge.
    let answer = send(&app, "/orders", HOST, Some("DPoP not.a.token"), &[&proof(&key, "GET", &url, "x")]).await;
    assert_refused(&answer, "invalid_token", "", "garbage token");

    // Plain bearer tokens keep working.
    let answer = send(&app, "/orders", HOST, Some(&format!("Bearer {unbound}")), &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["jkt"], Value::Null);

    // No token: both schemes are offered (RFC 9449 §7.2).
    let answer = send(&app, "/orders", HOST, None, &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenges, ["Bearer".to_owned(), format!("DPoP {ALGS}")]);

    // An API that wants bound tokens only refuses the plain one too.
    let (strict, _) = app_requiring_dpop(&issuer);
    let answer = send(&strict, "/orders", HOST, Some(&format!("Bearer {unbound}")), &[]).await;
    assert_refused(&answer, "invalid_token", "DPoP-bound tokens only", "require_dpop");
    let answer =
        send(&strict, "/orders", HOST, Some(&format!("DPoP {bound}")), &[&proof(&key, "GET", &url, &bound)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

fn app_requiring_dpop(issuer: &FakeIssuer) -> (Router, ProtectLayer) {
    app_for(validator_for(issuer).require_dpop())
}

#[tokio::test]
async fn behind_a_proxy_proofs_name_the_public_url_and_nested_routes_their_full_path() {
    let issuer = FakeIssuer::start().await;
    let key = ProofKey::generate(ProofAlg::Ps256).unwrap();
    let token = bound_token(&issuer, key.thumbprint());
    let dpop = format!("DPoP {token}");
    // The proxy maps https://api.example/orders-svc/* to http://10.0.0.5:8080/*.
    let (app, _) = app_for(validator_for(&issuer).public_url("https://api.example/orders-svc/"));
    let public = proof(&key, "GET", "https://api.example/orders-svc/orders", &token);
    let answer = send(&app, "/orders", "10.0.0.5:8080", Some(&dpop), &[&public]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let internal = proof(&key, "GET", "http://10.0.0.5:8080/orders", &token);
    let answer = send(&app, "/orders", "10.0.0.5:8080", Some(&dpop), &[&internal]).await;
    assert_refused(&answer, "invalid_dpop_proof", "htu", "internal URL behind a proxy");
    // Default ports and case are normalised.
    let answer = send(
        &app,
        "/orders",
        "x",
        Some(&dpop),
        &[&proof(&key, "GET", "HTTPS://API.example:443/orders-svc/orders", &token)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    // Under a nested router the proof names the whole path.
    let (inner, _) = app_for(validator_for(&issuer));
    let nested = Router::new().nest("/v1", inner);
    let full = proof(&key, "GET", &format!("http://{HOST}/v1/orders"), &token);
    assert_eq!(send(&nested, "/v1/orders", HOST, Some(&dpop), &[&full]).await.status, StatusCode::OK);
    let stripped = proof(&key, "GET", &format!("http://{HOST}/orders"), &token);
    let answer = send(&nested, "/v1/orders", HOST, Some(&dpop), &[&stripped]).await;
    assert_refused(&answer, "invalid_dpop_proof", "htu", "nested path without its prefix");
}

#[tokio::test]
async fn the_replay_cache_is_bounded_and_still_refuses_a_replay_at_its_bound() {
    let issuer = FakeIssuer::start().await;
    let key = ProofKey::generate(ProofAlg::EdDsa).unwrap();
    let token = bound_token(&issuer, key.thumbprint());
    let dpop = format!("DPoP {token}");
    let (app, _) = app_for(validator_for(&issuer).dpop_replay_capacity(16));
    let url = format!("http://{HOST}/orders");
    for i in 0..200 {
        let proof = proof(&key, "GET", &url, &token);
        assert_eq!(send(&app, "/orders", HOST, Some(&dpop), &[&proof]).await.status, StatusCode::OK, "proof {i}");
        let replay = send(&app, "/orders", HOST, Some(&dpop), &[&proof]).await;
        assert_refused(&replay, "invalid_dpop_proof", "already used", &format!("replay {i}"));
    }
}
