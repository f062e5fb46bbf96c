//! Listing a tenant's signing keys with what each one does now, as the
//! dashboard's Signing keys page shows them.

use chrono::Duration;
use clavis_types::MAX_TOKEN_LIFETIME_SECS;
use domain::services::SigningKeyState;

use super::support::envs;

#[tokio::test]
async fn keys_are_listed_newest_first_with_their_state() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let reader = scope.to_read();
        let first = s.list_signing_keys(&reader, env.now()).await.unwrap();
        assert_eq!(first.len(), 1, "{}: a tenant starts with one key", env.backend);
        assert_eq!(first[0].state, SigningKeyState::Active);
        assert_eq!(first[0].algorithm.name(), "RS256");
        assert_eq!(first[0].created_at, env.now());
        let original = first[0].kid.clone();

        env.clock.advance(Duration::seconds(10));
        let es = clavis_oauth::jose::Algorithm::from_name("ES256").unwrap();
        let second = s.rotate_signing_key(&scope, Some(es), env.now()).await.unwrap();
        env.clock.advance(Duration::seconds(10));
        let third = s.rotate_signing_key(&scope, None, env.now()).await.unwrap();
        s.revoke_signing_key(&scope, &second, env.now()).await.unwrap();

        let keys = s.list_signing_keys(&reader, env.now()).await.unwrap();
        let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, [third.as_str(), second.as_str(), original.as_str()], "{}", env.backend);
        let states: Vec<SigningKeyState> = keys.iter().map(|k| k.state).collect();
        assert_eq!(states, [SigningKeyState::Active, SigningKeyState::Revoked, SigningKeyState::Previous]);
        assert_eq!(keys[0].algorithm.name(), "ES256", "a rotation without an algorithm keeps the tenant's");
        assert!(keys[2].published_until.is_some_and(|until| until > env.now()));
        assert!(keys[1].published_until.is_none() && keys[1].retired_at.is_some());

        // Once every token a previous key signed has expired, it no longer counts.
        env.clock.advance(Duration::seconds(MAX_TOKEN_LIFETIME_SECS + 3_600));
        let later = s.list_signing_keys(&scope, env.now()).await.unwrap();
        assert_eq!(later[2].state, SigningKeyState::Expired);
        assert_eq!(later[2].published_until, None);

        // Another tenant's keys are not listed.
        let (_, other) = env.tenant("B").await;
        let theirs = s.list_signing_keys(&other, env.now()).await.unwrap();
        assert_eq!(theirs.len(), 1);
        assert!(keys.iter().all(|k| k.kid != theirs[0].kid), "{}", tenant.tenant_id);
    }
}
