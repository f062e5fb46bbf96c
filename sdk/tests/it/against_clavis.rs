//! The scenarios against a real Clavis server (`support::Clavis`): one server
//! per algorithm and half (token manager, protection layer), a tenant signing
//! with that algorithm, an application, and a key rotation through the CLI.

use axum::http::StatusCode;
use clavis_sdk::{ProtectLayer, TokenError, TokenManager};

use crate::access_control::per_route_scopes;
use crate::layer::{
    accepts_valid_token, checks_audience, follows_key_rotation, rate_limits_unknown_kid_refetch,
    refuses_discovery_with_other_issuer, rejects_expired, rejects_forged_tokens, rejects_missing_and_malformed,
    rejects_missing_scope, rejects_wrong_issuer,
};
use crate::support::keys::Alg;
use crate::support::{Clavis, Issuer, call_with, decode, fetch_token, protected_app, quick_retries, validator_for};
use crate::token_manager::{
    concurrent_callers_share_one_request, keeps_unexpired_token_when_refresh_fails, post_auth_and_invalidate,
    refreshes_ahead_of_expiry, retries_transient_failures, reuses_cached_token, wrong_secret_is_typed_and_immediate,
};

async fn token_manager(alg: Alg) {
    let clavis = Clavis::start(alg).await;
    reuses_cached_token(&clavis).await;
    refreshes_ahead_of_expiry(&clavis).await;
    concurrent_callers_share_one_request(&clavis).await;
    wrong_secret_is_typed_and_immediate(&clavis).await;
    retries_transient_failures(&clavis).await;
    keeps_unexpired_token_when_refresh_fails(&clavis).await;
    post_auth_and_invalidate(&clavis).await;
    unknown_client_is_invalid_client(&clavis).await;
}

async fn layer(alg: Alg) {
    let clavis = Clavis::start(alg).await;
    accepts_valid_token(&clavis).await;
    rejects_missing_and_malformed(&clavis).await;
    rejects_expired(&clavis).await;
    rejects_wrong_issuer(&clavis).await;
    checks_audience(&clavis).await;
    rejects_missing_scope(&clavis).await;
    rejects_forged_tokens(&clavis).await;
    rate_limits_unknown_kid_refetch(&clavis).await;
    refuses_discovery_with_other_issuer(&clavis).await;
    per_route_scopes(&clavis).await;
    follows_key_rotation(&clavis).await;
    signs_with_the_tenant_algorithm(&clavis, alg).await;
}

/// A client ID the tenant does not know is the same typed `invalid_client`
/// as a wrong secret.
async fn unknown_client_is_invalid_client(clavis: &Clavis) {
    let tokens = TokenManager::builder(
        clavis.oauth_server_url(),
        "00000000-0000-4000-8000-000000000000",
        clavis.client_secret(),
    )
    .retry_policy(quick_retries(3))
    .build()
    .unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert!(matches!(err, TokenError::InvalidClient { .. }), "{err:?}");
}

/// Tokens carry the tenant's algorithm and a published `kid`, and a layer
/// built after the key rotations accepts them.
async fn signs_with_the_tenant_algorithm(clavis: &Clavis, alg: Alg) {
    let token = fetch_token(clavis).await;
    let (header, claims) = decode(&token);
    assert_eq!(header["alg"], alg.name());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["tenant"], clavis.tenant_id());
    let kid = header["kid"].as_str().unwrap().to_owned();
    let published = clavis.published_kids().await;
    assert!(published.len() >= 2, "the retired key stays published: {published:?}");
    assert!(published.contains(&kid), "{kid} not in {published:?}");
    let app = protected_app(ProtectLayer::new(validator_for(clavis).build().unwrap()));
    assert_eq!(call_with(&app, &token).await.status, StatusCode::OK);
}

macro_rules! against_clavis {
    ($($name:ident => $half:ident($alg:expr)),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $half($alg).await;
            }
        )*
    };
}

against_clavis!(
    token_manager_rs256 => token_manager(Alg::Rs256),
    token_manager_es256 => token_manager(Alg::Es256),
    token_manager_eddsa => token_manager(Alg::EdDsa),
    layer_rs256 => layer(Alg::Rs256),
    layer_es256 => layer(Alg::Es256),
    layer_eddsa => layer(Alg::EdDsa),
);
