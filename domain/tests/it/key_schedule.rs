//! Scheduled key rotation walked through with a manual clock: the next key
//! is published a lead time before it signs, takes over, and the key it
//! replaced leaves the JWKS once its tokens can no longer be valid; two
//! processes running the schedule at the same moment make one key.

use chrono::Duration;
use clavis_types::{MAX_TOKEN_LIFETIME_SECS, ManagementAccess};
use domain::services::{KeyRotation, KeyScheduleRun, NEXT_KEY_LEAD_SECS, SigningKeyState};

use super::support::{SharedDb, TestEnv, envs, introspect, kid_of, token};

const DAY: i64 = 86_400;
/// The slack a replaced key stays published beyond the longest token lifetime.
const PUBLISH_SLACK_SECS: i64 = 300;

fn run(published: usize, activated: usize) -> KeyScheduleRun {
    KeyScheduleRun { published, activated }
}

async fn jwks(env: &TestEnv, tenant_id: &str) -> String {
    env.services.jwks_json(tenant_id, env.now()).await.expect("jwks")
}

#[tokio::test]
async fn a_scheduled_rotation_publishes_ahead_signs_after_the_lead_and_retires_after_the_lifetime() {
    for env in envs().await {
        let b = env.backend;
        let (tenant, scope) = env.tenant("A").await;
        let (t, s) = (tenant.tenant_id.as_str(), &env.services);
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let (id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());
        let lifetime = s.token_config(&scope).await.unwrap().access_expires_in;
        let old = s.list_signing_keys(&scope, env.now()).await.unwrap()[0].kid.clone();
        let on = KeyRotation { enabled: true, interval_days: 90 };
        assert_eq!(s.set_key_rotation(&scope, on, env.now()).await.unwrap(), on);
        assert_eq!(s.key_rotation(&scope.to_read()).await.unwrap(), on);

        // Before the interval minus the lead time, nothing happens.
        env.clock.advance(Duration::seconds(90 * DAY - NEXT_KEY_LEAD_SECS - 1));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}");
        assert_eq!(s.list_signing_keys(&scope, env.now()).await.unwrap().len(), 1);

        // At interval − lead the next key is published, and signs nothing yet.
        env.clock.advance(Duration::seconds(1));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(1, 0), "{b}");
        let keys = s.list_signing_keys(&scope, env.now()).await.unwrap();
        let next = keys.iter().find(|k| k.state == SigningKeyState::Next).expect("a next key").clone();
        assert_eq!(next.activates_at, Some(env.now() + Duration::seconds(NEXT_KEY_LEAD_SECS)), "{b}");
        let published = jwks(&env, t).await;
        assert!(published.contains(&next.kid) && published.contains(&old), "{b}: {published}");
        assert_eq!(kid_of(&token(&env, t, id, secret).await.unwrap()), old, "{b}: the next key signs nothing yet");
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}: one next key, not two");

        // Until the lead time has passed, the old key still signs.
        env.clock.advance(Duration::seconds(NEXT_KEY_LEAD_SECS - 1));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}");
        let signed_by_old = token(&env, t, id, secret).await.unwrap();
        let signed_at = env.now();
        assert_eq!(kid_of(&signed_by_old), old, "{b}");

        // After the lead, the new key signs; the old one is still published.
        env.clock.advance(Duration::seconds(1));
        let activated_at = env.now();
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 1), "{b}");
        assert_eq!(kid_of(&token(&env, t, id, secret).await.unwrap()), next.kid, "{b}: the new key signs");
        let keys = s.list_signing_keys(&scope, env.now()).await.unwrap();
        let states: Vec<(&str, SigningKeyState)> = keys.iter().map(|k| (k.kid.as_str(), k.state)).collect();
        assert_eq!(states, [(next.kid.as_str(), SigningKeyState::Active), (old.as_str(), SigningKeyState::Previous)]);
        let publish_until = activated_at + Duration::seconds(MAX_TOKEN_LIFETIME_SECS + PUBLISH_SLACK_SECS);
        assert_eq!(keys[1].published_until, Some(publish_until), "{b}");

        // Tokens the old key signed verify until their lifetime has passed.
        env.clock.set(signed_at + Duration::seconds(lifetime - 1));
        assert!(introspect(&env, t, id, secret, &signed_by_old).await.unwrap().active, "{b}");
        assert!(jwks(&env, t).await.contains(&old), "{b}");
        env.clock.set(signed_at + Duration::seconds(lifetime + 1));
        assert!(!introspect(&env, t, id, secret, &signed_by_old).await.unwrap().active, "{b}: expired");

        // The old key leaves the JWKS once the longest token lifetime has passed.
        env.clock.set(publish_until - Duration::seconds(1));
        assert!(jwks(&env, t).await.contains(&old), "{b}");
        env.clock.set(publish_until);
        let published = jwks(&env, t).await;
        assert!(!published.contains(&old) && published.contains(&next.kid), "{b}: {published}");

        // The next interval counts from when the new key started signing.
        env.clock.set(activated_at + Duration::seconds(90 * DAY - NEXT_KEY_LEAD_SECS - 1));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}");
        env.clock.advance(Duration::seconds(1));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(1, 0), "{b}");

        let actions = env.audit_actions(t).await;
        for action in ["config.key_rotation", "signing_key.publish_next", "signing_key.activate_next"] {
            assert!(actions.contains(&action.to_owned()), "{b}: {action} not in {actions:?}");
        }
    }
}

#[tokio::test]
async fn rotation_settings_are_validated_and_a_manual_rotation_supersedes_a_published_key() {
    for env in envs().await {
        let b = env.backend;
        let (tenant, scope) = env.tenant("A").await;
        let (t, s) = (tenant.tenant_id.as_str(), &env.services);
        let off = s.key_rotation(&scope).await.unwrap();
        assert!(!off.enabled && off.interval_days == 90, "{b}: off by default, 90 days proposed");
        for days in [0, 366] {
            let refused =
                s.set_key_rotation(&scope, KeyRotation { enabled: true, interval_days: days }, env.now()).await;
            assert!(matches!(refused, Err(domain::Error::Validation(_))), "{b}: {days} days");
        }
        // Off: no key is ever made.
        env.clock.advance(Duration::seconds(400 * DAY));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}");

        // On with an old key: the next key is published at once.
        s.set_key_rotation(&scope, KeyRotation { enabled: true, interval_days: 1 }, env.now()).await.unwrap();
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(1, 0), "{b}");
        let next = s.list_signing_keys(&scope, env.now()).await.unwrap()[0].clone();
        assert_eq!(next.state, SigningKeyState::Next);

        // A manual rotation replaces it: it leaves the JWKS and never signs.
        let manual = s.rotate_signing_key(&scope, None, env.now()).await.unwrap();
        assert!(!jwks(&env, t).await.contains(&next.kid), "{b}");
        env.clock.advance(Duration::seconds(NEXT_KEY_LEAD_SECS));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}: the manual key is fresh");
        let keys = s.list_signing_keys(&scope, env.now()).await.unwrap();
        assert_eq!(keys.iter().find(|k| k.state == SigningKeyState::Active).map(|k| k.kid.as_str()), Some(&*manual));
        assert_eq!(keys.iter().find(|k| k.kid == next.kid).map(|k| k.state), Some(SigningKeyState::Expired));

        // Turned off after a key was published ahead: that key still takes over on time.
        env.clock.advance(Duration::seconds(DAY));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(1, 0), "{b}");
        s.set_key_rotation(&scope, KeyRotation { enabled: false, interval_days: 1 }, env.now()).await.unwrap();
        env.clock.advance(Duration::seconds(NEXT_KEY_LEAD_SECS));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 1), "{b}");
        env.clock.advance(Duration::seconds(30 * DAY));
        assert_eq!(s.run_key_schedule(env.now()).await.unwrap(), run(0, 0), "{b}: and no further one");
    }
}

#[tokio::test]
async fn two_processes_running_the_schedule_at_the_same_moment_make_one_key() {
    for db in SharedDb::all().await {
        let b = db.backend;
        let (one, two) = (db.instance().await, db.instance().await);
        let mut tenants = Vec::new();
        for name in ["A", "B", "C"] {
            let (tenant, scope) = one.tenant(name).await;
            let on = KeyRotation { enabled: true, interval_days: 30 };
            one.services.set_key_rotation(&scope, on, one.now()).await.unwrap();
            tenants.push((tenant, scope));
        }
        for round in 0..3 {
            for env in [&one, &two] {
                env.clock.advance(Duration::seconds(30 * DAY - NEXT_KEY_LEAD_SECS));
            }
            let (a, c) =
                tokio::join!(one.services.run_key_schedule(one.now()), two.services.run_key_schedule(two.now()));
            let (a, c) = (a.unwrap(), c.unwrap());
            assert_eq!(a.published + c.published, 3, "{b} round {round}: one next key per tenant: {a:?} {c:?}");
            for env in [&one, &two] {
                env.clock.advance(Duration::seconds(NEXT_KEY_LEAD_SECS));
            }
            let (a, c) =
                tokio::join!(one.services.run_key_schedule(one.now()), two.services.run_key_schedule(two.now()));
            let (a, c) = (a.unwrap(), c.unwrap());
            assert_eq!(a.activated + c.activated, 3, "{b} round {round}: {a:?} {c:?}");
            for (tenant, scope) in &tenants {
                let keys = one.services.list_signing_keys(scope, one.now()).await.unwrap();
                assert_eq!(keys.len(), round + 2, "{b} round {round}: {}", tenant.tenant_id);
                let active = keys.iter().filter(|k| k.state == SigningKeyState::Active).count();
                assert_eq!(active, 1, "{b} round {round}");
                // The other process signs with the new key too.
                let app = one.services.create_application(scope, "svc", ManagementAccess::None, one.now()).await;
                let app = app.unwrap();
                let signed = token(&two, &tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap()).await;
                assert_eq!(kid_of(&signed.unwrap()), keys[0].kid, "{b} round {round}");
            }
        }
    }
}
