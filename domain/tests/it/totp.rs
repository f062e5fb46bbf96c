//! The TOTP second factor: enrolment, codes, recovery codes, two-step
//! sign-in and a tenant's requirement for its admins.

use chrono::{DateTime, Duration, Utc};
use domain::services::{PendingSignIn, SignIn, TenantSecurity, TotpEnrolment};
use domain::{Error, Read, Role};
use sea_orm::{ConnectionTrait, Statement};
use totp_rs::{Algorithm, Secret, TOTP};

use super::support::{SharedDb, TestEnv, envs};

const PASSWORD: &str = "violet-harbour-lantern-42";

/// The code an authenticator app shows at `at` for the enrolment's secret.
fn code_at(enrolment: &TotpEnrolment, at: DateTime<Utc>) -> String {
    let secret = Secret::Encoded(enrolment.secret_base32.clone()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, secret, None, String::new()).unwrap();
    totp.generate(u64::try_from(at.timestamp()).unwrap())
}

/// A new account that is `role` in a new tenant; returns (user ID, tenant ID).
async fn member(env: &TestEnv, email: &str, role: Role) -> (String, String) {
    let (tenant, scope) = env.tenant(&format!("T {email}")).await;
    let member =
        env.services.add_member_by_operator(&env.cli, &scope, email, role, Some(PASSWORD), env.now()).await.unwrap();
    (member.user_id, tenant.tenant_id)
}

/// Enrols `user_id` and returns the enrolment and its recovery codes.
async fn enrol(env: &TestEnv, user_id: &str) -> (TotpEnrolment, Vec<String>) {
    let enrolment = env.services.begin_totp_enrolment(user_id, PASSWORD, None, env.now()).await.unwrap();
    let codes =
        env.services.confirm_totp_enrolment(user_id, &code_at(&enrolment, env.now()), None, env.now()).await.unwrap();
    (enrolment, codes.0)
}

async fn pending(env: &TestEnv, email: &str) -> PendingSignIn {
    match env.services.authenticate(email, PASSWORD, Some("192.0.2.10"), env.now()).await.unwrap() {
        SignIn::SecondFactorRequired(pending) => pending,
        SignIn::Complete(_) => panic!("{}: signed in without a second factor", env.backend),
    }
}

#[tokio::test]
async fn enrolment_needs_a_correct_code_and_gives_ten_single_format_recovery_codes() {
    for env in envs().await {
        let (user_id, _) = member(&env, "ann@example.com", Role::Admin).await;
        let enrolment = env.services.begin_totp_enrolment(&user_id, PASSWORD, None, env.now()).await.unwrap();
        assert!(
            enrolment.otpauth_uri.starts_with("otpauth://totp/Clavis:ann%40example.com?"),
            "{}",
            enrolment.otpauth_uri
        );
        assert!(enrolment.otpauth_uri.contains("issuer=Clavis"));
        assert_eq!(Secret::Encoded(enrolment.secret_base32.clone()).to_bytes().unwrap().len(), 20);
        assert!(enrolment.qr_data_url.starts_with("data:image/svg+xml;base64,"));
        assert!(!format!("{enrolment:?}").contains(&enrolment.secret_base32));

        let right = code_at(&enrolment, env.now());
        let wrong = if right == "000000" { "111111" } else { "000000" };
        let err = env.services.confirm_totp_enrolment(&user_id, wrong, None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        assert!(!env.services.second_factor_status(&user_id).await.unwrap().enabled);
        // Not on yet: a password alone still signs in.
        let signed_in = env.services.authenticate("ann@example.com", PASSWORD, None, env.now()).await.unwrap();
        assert!(matches!(signed_in, SignIn::Complete(_)));

        let codes = env.services.confirm_totp_enrolment(&user_id, &right, None, env.now()).await.unwrap();
        assert_eq!(codes.0.len(), 10);
        for code in &codes.0 {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3, "{code}");
            assert!(groups.iter().all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric())), "{code}");
        }
        let status = env.services.second_factor_status(&user_id).await.unwrap();
        assert!(status.enabled);
        assert_eq!(status.recovery_codes_left, 10);
        let err = env.services.begin_totp_enrolment(&user_id, PASSWORD, None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        assert!(env.operator_audit_actions().await.contains(&"second_factor.enabled".to_owned()));
    }
}

#[tokio::test]
async fn starting_an_enrolment_needs_the_current_password_and_wrong_ones_are_throttled() {
    for env in envs().await {
        let (user_id, _) = member(&env, "abe@example.com", Role::Admin).await;
        // A session alone (a wrong or empty password) starts nothing.
        for wrong in ["not-the-password", ""] {
            let err = env.services.begin_totp_enrolment(&user_id, wrong, None, env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {wrong:?}: {err:?}", env.backend);
        }
        let err = env.services.confirm_totp_enrolment(&user_id, "123456", None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: nothing was started: {err:?}", env.backend);

        // Counted like failed sign-ins of the account: the sixth try is refused.
        for _ in 0..5 {
            let err =
                env.services.begin_totp_enrolment(&user_id, "guess", Some("192.0.2.10"), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        }
        let err =
            env.services.begin_totp_enrolment(&user_id, PASSWORD, Some("192.0.2.10"), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{}: {err:?}", env.backend);
        let err =
            env.services.authenticate("abe@example.com", PASSWORD, Some("192.0.2.10"), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{}: shared with sign-in: {err:?}", env.backend);

        env.clock.advance(Duration::seconds(2));
        let enrolment =
            env.services.begin_totp_enrolment(&user_id, PASSWORD, Some("192.0.2.10"), env.now()).await.unwrap();
        env.services.confirm_totp_enrolment(&user_id, &code_at(&enrolment, env.now()), None, env.now()).await.unwrap();
        assert!(env.services.second_factor_status(&user_id).await.unwrap().enabled);
    }
}

#[tokio::test]
async fn housekeeping_prunes_expired_pending_sign_ins_and_stale_enrolments() {
    for db in SharedDb::all().await {
        let env = db.instance().await;
        let (enrolled, _) = member(&env, "lou@example.com", Role::Admin).await;
        let (stale, _) = member(&env, "max@example.com", Role::Admin).await;
        let (fresh, _) = member(&env, "ned@example.com", Role::Admin).await;
        enrol(&env, &enrolled).await;
        let stale_enrolment = env.services.begin_totp_enrolment(&stale, PASSWORD, None, env.now()).await.unwrap();
        let signing_in = pending(&env, "lou@example.com").await;
        assert_eq!(env.services.prune_second_factor_leftovers(env.now()).await.unwrap(), 0, "{}", db.backend);

        // Past the pending sign-in's five minutes: it goes, the enrolment stays.
        env.clock.advance(Duration::seconds(301));
        let fresh_enrolment = env.services.begin_totp_enrolment(&fresh, PASSWORD, None, env.now()).await.unwrap();
        assert_eq!(env.services.prune_second_factor_leftovers(env.now()).await.unwrap(), 1, "{}", db.backend);
        let err = env.services.complete_sign_in(&signing_in, "000000", None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: {err:?}", db.backend);

        // Past the first enrolment's fifteen minutes: only it goes.
        env.clock.advance(Duration::seconds(15 * 60 - 300));
        assert_eq!(env.services.prune_second_factor_leftovers(env.now()).await.unwrap(), 1, "{}", db.backend);
        let raw = domain::db::connect(db.url()).await.unwrap();
        let backend = raw.get_database_backend();
        for (table, left) in [("pending_sign_ins", 0), ("user_totp", 2)] {
            let row = raw
                .query_one(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get::<i64>("", "n").unwrap(), left, "{}: {table}", db.backend);
        }
        raw.close().await.ok();
        let err = env
            .services
            .confirm_totp_enrolment(&stale, &code_at(&stale_enrolment, env.now()), None, env.now())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: {err:?}", db.backend);
        // The enabled factor and the enrolment still in time are untouched.
        assert!(env.services.second_factor_status(&enrolled).await.unwrap().enabled);
        env.services
            .confirm_totp_enrolment(&fresh, &code_at(&fresh_enrolment, env.now()), None, env.now())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_enrolment_left_too_long_must_start_again() {
    for env in envs().await {
        let (user_id, _) = member(&env, "ben@example.com", Role::Admin).await;
        let enrolment = env.services.begin_totp_enrolment(&user_id, PASSWORD, None, env.now()).await.unwrap();
        env.clock.advance(Duration::minutes(16));
        let err = env
            .services
            .confirm_totp_enrolment(&user_id, &code_at(&enrolment, env.now()), None, env.now())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: {err:?}", env.backend);
    }
}

#[tokio::test]
async fn sign_in_needs_both_steps_and_codes_are_refused_when_wrong_replayed_or_old() {
    for env in envs().await {
        let (user_id, _) = member(&env, "cat@example.com", Role::Admin).await;
        let (enrolment, _) = enrol(&env, &user_id).await;
        // Two steps on, so that the previous step is not the enrolment's.
        env.clock.advance(Duration::seconds(60));

        let first = pending(&env, "cat@example.com").await;
        assert!(!format!("{first:?}").contains(first.as_str()));
        let now = env.now();
        let right = code_at(&enrolment, now);
        let wrong = if right == "123456" { "654321" } else { "123456" };
        for bad in [wrong, "12345"] {
            let err = env.services.complete_sign_in(&first, bad, None, now).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {bad:?}: {err:?}", env.backend);
        }
        // Two steps (a minute) back is too old, as is a code two steps ahead.
        for far in [now - Duration::seconds(60), now + Duration::seconds(60)] {
            let err = env.services.complete_sign_in(&first, &code_at(&enrolment, far), None, now).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        }
        // The previous step is still accepted (clock drift)...
        let user = env
            .services
            .complete_sign_in(&first, &code_at(&enrolment, now - Duration::seconds(30)), None, now)
            .await
            .unwrap();
        assert_eq!(user.id, user_id);
        // ...and is then used up, with every earlier one.
        let second = pending(&env, "cat@example.com").await;
        let err = env
            .services
            .complete_sign_in(&second, &code_at(&enrolment, now - Duration::seconds(30)), None, now)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: replay: {err:?}", env.backend);
        env.services.complete_sign_in(&second, &right, None, now).await.unwrap();
        let third = pending(&env, "cat@example.com").await;
        let err = env.services.complete_sign_in(&third, &right, None, now).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: replay: {err:?}", env.backend);

        let actions = env.operator_audit_actions().await;
        assert!(actions.iter().filter(|a| *a == "login.second_factor_failure").count() >= 6, "{actions:?}");
        // The password alone is no sign-in; each right code is one.
        assert_eq!(actions.iter().filter(|a| *a == "login.password_verified").count(), 3, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| *a == "login.success").count(), 2, "{actions:?}");
    }
}

#[tokio::test]
async fn a_pending_sign_in_expires_and_is_single_use() {
    for env in envs().await {
        let (user_id, _) = member(&env, "dan@example.com", Role::Viewer).await;
        let (enrolment, _) = enrol(&env, &user_id).await;
        env.clock.advance(Duration::seconds(30));

        let used = pending(&env, "dan@example.com").await;
        env.services.complete_sign_in(&used, &code_at(&enrolment, env.now()), None, env.now()).await.unwrap();
        env.clock.advance(Duration::seconds(30));
        let err =
            env.services.complete_sign_in(&used, &code_at(&enrolment, env.now()), None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: used twice: {err:?}", env.backend);

        let stale = pending(&env, "dan@example.com").await;
        env.clock.advance(Duration::seconds(301));
        let err =
            env.services.complete_sign_in(&stale, &code_at(&enrolment, env.now()), None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: expired: {err:?}", env.backend);

        let made_up = PendingSignIn::from_reference("not-a-reference".into());
        let err = env
            .services
            .complete_sign_in(&made_up, &code_at(&enrolment, env.now()), None, env.now())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{}: made up: {err:?}", env.backend);
    }
}

#[tokio::test]
async fn recovery_codes_sign_in_once_each_and_can_be_replaced() {
    for env in envs().await {
        let (user_id, _) = member(&env, "eve@example.com", Role::Admin).await;
        let (enrolment, codes) = enrol(&env, &user_id).await;

        let signing_in = pending(&env, "eve@example.com").await;
        // Case and dashes do not matter.
        let typed = codes[0].to_uppercase().replace('-', " ");
        env.services.complete_sign_in(&signing_in, &typed, None, env.now()).await.unwrap();
        let again = pending(&env, "eve@example.com").await;
        let err = env.services.complete_sign_in(&again, &codes[0], None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: reused: {err:?}", env.backend);
        assert_eq!(env.services.second_factor_status(&user_id).await.unwrap().recovery_codes_left, 9);

        env.clock.advance(Duration::seconds(30));
        let fresh = env
            .services
            .regenerate_recovery_codes(&user_id, &code_at(&enrolment, env.now()), None, env.now())
            .await
            .unwrap();
        assert_eq!(env.services.second_factor_status(&user_id).await.unwrap().recovery_codes_left, 10);
        let err = env.services.complete_sign_in(&again, &codes[1], None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: replaced: {err:?}", env.backend);
        env.services.complete_sign_in(&again, &fresh.0[1], None, env.now()).await.unwrap();
    }
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code() {
    for env in envs().await {
        let (user_id, _) = member(&env, "fay@example.com", Role::Admin).await;
        let (enrolment, codes) = enrol(&env, &user_id).await;
        env.clock.advance(Duration::seconds(30));
        let code = code_at(&enrolment, env.now());
        let err = env.services.disable_totp(&user_id, "not-the-password", &code, None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        let err = env.services.disable_totp(&user_id, PASSWORD, "000000", None, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        env.services.disable_totp(&user_id, PASSWORD, &codes[3], None, env.now()).await.unwrap();
        let status = env.services.second_factor_status(&user_id).await.unwrap();
        assert!(!status.enabled);
        let signed_in = env.services.authenticate("fay@example.com", PASSWORD, None, env.now()).await.unwrap();
        assert!(matches!(signed_in, SignIn::Complete(_)));
        assert!(env.operator_audit_actions().await.contains(&"second_factor.disabled".to_owned()));
    }
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords() {
    for env in envs().await {
        let (user_id, _) = member(&env, "gus@example.com", Role::Admin).await;
        let (enrolment, _) = enrol(&env, &user_id).await;
        env.clock.advance(Duration::seconds(30));
        let signing_in = pending(&env, "gus@example.com").await;
        let right = code_at(&enrolment, env.now());
        let wrong = if right == "999999" { "888888" } else { "999999" };
        for _ in 0..5 {
            let err =
                env.services.complete_sign_in(&signing_in, wrong, Some("192.0.2.10"), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        }
        let err = env.services.complete_sign_in(&signing_in, &right, Some("192.0.2.10"), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{}: {err:?}", env.backend);
        env.clock.advance(Duration::seconds(2));
        env.services.complete_sign_in(&signing_in, &right, Some("192.0.2.10"), env.now()).await.unwrap();
    }
}

#[tokio::test]
async fn a_tenant_requirement_blocks_an_unenrolled_admin_and_not_a_viewer() {
    for env in envs().await {
        let (admin_id, tenant_id) = member(&env, "hal@example.com", Role::Admin).await;
        let viewer = {
            let scope = env.cli.tenant_scope(&env.services, &tenant_id).await.unwrap();
            env.services
                .add_member_by_operator(&env.cli, &scope, "ida@example.com", Role::Viewer, Some(PASSWORD), env.now())
                .await
                .unwrap()
        };
        let admin_scope = env.services.scope_for_user::<domain::Write>(&admin_id, &tenant_id, None).await.unwrap();
        let required = TenantSecurity { require_admin_second_factor: true };
        // Without a second factor of their own, an admin cannot require one.
        let err = env.services.set_tenant_security(&admin_scope, required, env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{}: {err:?}", env.backend);
        assert!(!env.services.tenant_security(&admin_scope).await.unwrap().require_admin_second_factor);

        let (enrolment, _) = enrol(&env, &admin_id).await;
        env.services.set_tenant_security(&admin_scope, required, env.now()).await.unwrap();
        assert!(env.audit_actions(&tenant_id).await.contains(&"config.security".to_owned()));
        env.services.scope_for_user::<domain::Write>(&admin_id, &tenant_id, None).await.unwrap();
        // The viewer is not held to it.
        env.services.scope_for_user::<Read>(&viewer.user_id, &tenant_id, None).await.unwrap();
        assert!(!env.services.second_factor_setup_required(&viewer.user_id).await.unwrap());

        // An admin without one is turned away, read or write, until enrolled.
        let scope = env.cli.tenant_scope(&env.services, &tenant_id).await.unwrap();
        let other = env
            .services
            .add_member_by_operator(&env.cli, &scope, "jon@example.com", Role::Admin, Some(PASSWORD), env.now())
            .await
            .unwrap();
        assert!(env.services.second_factor_setup_required(&other.user_id).await.unwrap());
        let err = env.services.granted_scope_for_user(&other.user_id, &tenant_id, None).await.unwrap_err();
        assert!(matches!(err, Error::SecondFactorRequired), "{}: {err:?}", env.backend);
        let err = env.services.scope_for_user::<Read>(&other.user_id, &tenant_id, None).await.unwrap_err();
        assert!(matches!(err, Error::SecondFactorRequired), "{}: {err:?}", env.backend);
        enrol(&env, &other.user_id).await;
        assert!(!env.services.second_factor_setup_required(&other.user_id).await.unwrap());
        env.services.scope_for_user::<domain::Write>(&other.user_id, &tenant_id, None).await.unwrap();

        // Turning the admin's own factor off turns them away again.
        env.clock.advance(Duration::seconds(30));
        env.services.disable_totp(&admin_id, PASSWORD, &code_at(&enrolment, env.now()), None, env.now()).await.unwrap();
        let err = env.services.granted_scope_for_user(&admin_id, &tenant_id, None).await.unwrap_err();
        assert!(matches!(err, Error::SecondFactorRequired), "{}: {err:?}", env.backend);
    }
}

#[tokio::test]
async fn the_totp_secret_is_stored_sealed() {
    for db in SharedDb::all().await {
        let env = db.instance().await;
        let (user_id, _) = member(&env, "kim@example.com", Role::Admin).await;
        let (enrolment, codes) = enrol(&env, &user_id).await;
        let raw = domain::db::connect(db.url()).await.unwrap();
        let backend = raw.get_database_backend();
        let row = raw
            .query_one(Statement::from_string(backend, "SELECT sealed_secret FROM user_totp".to_owned()))
            .await
            .unwrap()
            .unwrap();
        let stored: String = row.try_get("", "sealed_secret").unwrap();
        let secret = Secret::Encoded(enrolment.secret_base32.clone()).to_bytes().unwrap();
        assert!(!stored.contains(&enrolment.secret_base32), "{}", db.backend);
        assert!(!stored.to_lowercase().contains(&enrolment.secret_base32.to_lowercase()));
        assert!(!stored.as_bytes().windows(secret.len()).any(|w| w == secret.as_slice()));
        assert!(stored.starts_with('v'), "{}: {stored}", db.backend);
        let rows = raw
            .query_all(Statement::from_string(backend, "SELECT digest FROM recovery_codes".to_owned()))
            .await
            .unwrap();
        assert_eq!(rows.len(), 10);
        for row in rows {
            let digest: String = row.try_get("", "digest").unwrap();
            assert_eq!(digest.len(), 64);
            assert!(codes.iter().all(|code| !digest.contains(&code.replace('-', ""))));
        }
        raw.close().await.ok();
    }
}
