//! TokenManager: caching, refresh ahead of expiry, single flight, errors and retries.

use std::time::{Duration, Instant};

use clavis_sdk::{ClientAuth, ManualClock, RetryPolicy, TokenError, TokenManager};

use crate::support::{FakeIssuer, Issuer, Proxy, decode, manager_for, manager_via, quick_retries};

/// Scenario: the token is fetched once and reused while fresh.
pub async fn reuses_cached_token(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let tokens = manager_via(issuer, &proxy).build().unwrap();
    let first = tokens.access_token().await.unwrap();
    let second = tokens.access_token().await.unwrap();
    let clone = tokens.clone();
    let third = clone.access_token().await.unwrap();
    assert_eq!(first.as_str(), second.as_str());
    assert_eq!(first.as_str(), third.as_str());
    assert_eq!(proxy.count("/token"), 1);
    let (header, claims) = decode(first.as_str());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["iss"], issuer.oauth_server_url());
    assert_eq!(claims["sub"], issuer.client_id());
    assert!(first.scope().unwrap_or_default().contains("appid_default"));
}

/// Scenario: with a controlled clock, the token is refreshed once the clock
/// passes `expiry - margin`, and not before.
pub async fn refreshes_ahead_of_expiry(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let clock = ManualClock::starting_now();
    let start = clavis_sdk::Clock::now(&clock);
    let tokens = manager_via(issuer, &proxy).clock(clock.clone()).build().unwrap();
    let first = tokens.access_token().await.unwrap();
    let lifetime = first.expires_at().duration_since(start).unwrap();
    let margin = (lifetime / 10).max(Duration::from_secs(30)).min(lifetime);
    assert!(margin < lifetime, "the issuer's tokens live too short for this scenario");

    clock.advance(lifetime - margin - Duration::from_secs(1));
    let still = tokens.access_token().await.unwrap();
    assert_eq!(still.as_str(), first.as_str(), "refreshed too early");
    assert_eq!(proxy.count("/token"), 1);

    clock.advance(Duration::from_secs(2));
    let refreshed = tokens.access_token().await.unwrap();
    assert_ne!(refreshed.as_str(), first.as_str(), "not refreshed inside the margin");
    assert_eq!(proxy.count("/token"), 2);
    assert!(refreshed.expires_at() > first.expires_at());

    // The new token is cached in turn.
    tokens.access_token().await.unwrap();
    assert_eq!(proxy.count("/token"), 2);
}

/// Scenario: 50 concurrent callers on a cold cache share one request.
pub async fn concurrent_callers_share_one_request(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    proxy.set_delay(Duration::from_millis(200));
    let tokens = manager_via(issuer, &proxy).build().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let tokens = tokens.clone();
        tasks.spawn(async move { tokens.access_token().await.unwrap().as_str().to_owned() });
    }
    let all = tasks.join_all().await;
    assert_eq!(all.len(), 50);
    assert!(all.iter().all(|t| *t == all[0]), "callers got different tokens");
    assert_eq!(proxy.count("/token"), 1);
}

/// Scenario: a wrong secret is reported at once, typed, without retries, and
/// the secret shows up nowhere.
pub async fn wrong_secret_is_typed_and_immediate(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let wrong = format!("{}-wrong", issuer.client_secret());
    let tokens = TokenManager::builder(issuer.oauth_server_url(), issuer.client_id(), wrong.as_str())
        .token_url(proxy.url("/token"))
        .retry_policy(RetryPolicy { max_retries: 5, ..RetryPolicy::default() })
        .build()
        .unwrap();
    let started = Instant::now();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidClient { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(proxy.count("/token"), 1, "invalid_client must not be retried");
    let message = err.to_string();
    assert!(message.contains("invalid_client"), "{message}");
    for shown in [message, format!("{err:?}"), format!("{tokens:?}")] {
        assert!(!shown.contains(&wrong), "secret leaked: {shown}");
    }
    // Concurrent waiters share the failure instead of each asking again.
    proxy.set_delay(Duration::from_millis(100));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let tokens = tokens.clone();
        tasks.spawn(async move { tokens.access_token().await });
    }
    for result in tasks.join_all().await {
        assert!(matches!(result, Err(TokenError::InvalidClient { .. })));
    }
    assert_eq!(proxy.count("/token"), 2, "waiters must share the in-flight failure");
}

/// Scenario: 503 and 429 are retried; too many failures give `Unavailable`.
pub async fn retries_transient_failures(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let tokens = manager_via(issuer, &proxy).retry_policy(quick_retries(3)).build().unwrap();
    proxy.fail_next(2, 503, None);
    tokens.access_token().await.unwrap();
    assert_eq!(proxy.count("/token"), 3);

    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let tokens = manager_via(issuer, &proxy).retry_policy(quick_retries(3)).build().unwrap();
    proxy.fail_next(1, 429, Some(0));
    tokens.access_token().await.unwrap();
    assert_eq!(proxy.count("/token"), 2);

    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let tokens = manager_via(issuer, &proxy).retry_policy(quick_retries(2)).build().unwrap();
    proxy.fail_next(100, 503, None);
    let err = tokens.access_token().await.unwrap_err();
    assert_eq!(err, TokenError::Unavailable { attempts: 3, last: "HTTP 503 Service Unavailable".into() });
    assert_eq!(proxy.count("/token"), 3);
}

/// Scenario: when a refresh fails transiently, the still-unexpired token is
/// returned; once the issuer is back, the next call refreshes.
pub async fn keeps_unexpired_token_when_refresh_fails(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let clock = ManualClock::starting_now();
    let tokens = manager_via(issuer, &proxy).clock(clock.clone()).retry_policy(quick_retries(1)).build().unwrap();
    let first = tokens.access_token().await.unwrap();
    let lifetime = first.expires_at().duration_since(clavis_sdk::Clock::now(&clock)).unwrap();
    clock.advance(lifetime - Duration::from_secs(5));
    proxy.fail_next(2, 503, None);
    let during_outage = tokens.access_token().await.unwrap();
    assert_eq!(during_outage.as_str(), first.as_str());
    assert_eq!(proxy.count("/token"), 3);
    let after = tokens.access_token().await.unwrap();
    assert_ne!(after.as_str(), first.as_str());
}

/// Scenario: client_secret_post works as well as Basic, and `invalidate`
/// forces a new request.
pub async fn post_auth_and_invalidate(issuer: &impl Issuer) {
    let proxy = Proxy::start(&issuer.oauth_server_url()).await;
    let tokens = manager_via(issuer, &proxy).client_auth(ClientAuth::Post).build().unwrap();
    let first = tokens.access_token().await.unwrap();
    tokens.invalidate();
    let second = tokens.access_token().await.unwrap();
    assert_ne!(first.as_str(), second.as_str());
    assert_eq!(proxy.count("/token"), 2);
}

#[tokio::test]
async fn reuses_cached_token_fake() {
    reuses_cached_token(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn refreshes_ahead_of_expiry_fake() {
    refreshes_ahead_of_expiry(&FakeIssuer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_request_fake() {
    concurrent_callers_share_one_request(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn wrong_secret_is_typed_and_immediate_fake() {
    wrong_secret_is_typed_and_immediate(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn retries_transient_failures_fake() {
    retries_transient_failures(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn keeps_unexpired_token_when_refresh_fails_fake() {
    keeps_unexpired_token_when_refresh_fails(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn post_auth_and_invalidate_fake() {
    post_auth_and_invalidate(&FakeIssuer::start().await).await;
}

#[tokio::test]
async fn unreachable_issuer_is_unavailable_after_bounded_retries() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tokens = TokenManager::builder(format!("http://127.0.0.1:{port}/oauth/v4/t"), "id", "secret")
        .retry_policy(quick_retries(2))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::Unavailable { attempts: 3, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn requests_scope_and_audience() {
    let issuer = FakeIssuer::start().await;
    let tokens = manager_for(&issuer).scope("read write").audience("https://api.example").build().unwrap();
    let token = tokens.access_token().await.unwrap();
    let (_, claims) = decode(token.as_str());
    assert_eq!(claims["scope"], "appid_default read write");
    assert_eq!(claims["aud"], serde_json::json!([issuer.client_id(), "https://api.example"]));
}

#[test]
fn builder_rejects_bad_configuration() {
    use clavis_sdk::BuildError;
    let err = |b: clavis_sdk::TokenManagerBuilder| b.build().unwrap_err();
    assert!(matches!(err(TokenManager::builder("ftp://x/y", "id", "s")), BuildError::InvalidUrl { .. }));
    assert!(matches!(err(TokenManager::builder("https://x/y", "", "s")), BuildError::Empty("client ID")));
    assert!(matches!(err(TokenManager::builder("https://x/y", "id", "")), BuildError::Empty("client secret")));
    assert!(matches!(err(TokenManager::builder("https://x/y", "id", "s").audience("")), BuildError::Empty("audience")));
    let tokens = TokenManager::builder("https://x/oauth/v4/t/", "id", "s").build().unwrap();
    assert_eq!(tokens.token_url(), "https://x/oauth/v4/t/token");
}
