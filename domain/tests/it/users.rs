//! First-start bootstrap and sign-in.

use domain::Error;
use domain::services::MAX_SIGN_IN_DELAY;

use super::support::envs;

#[tokio::test]
async fn bootstrap_creates_an_operator_once() {
    for env in envs().await {
        let first = env.services.bootstrap("Admin@Localhost", env.now()).await.unwrap().expect("first start creates");
        assert_eq!(first.email, "admin@localhost", "{}", env.backend);
        assert!(first.password.len() >= 20);
        assert!(env.services.bootstrap("admin@localhost", env.now()).await.unwrap().is_none(), "{}", env.backend);

        let user =
            env.services.authenticate("admin@localhost", &first.password, Some("10.0.0.1"), env.now()).await.unwrap();
        let user = user.session_user().expect("no second factor");
        assert!(user.is_operator);
        assert_eq!(user.tenants.len(), 1);
        assert_eq!(user.tenants[0].tenant_name, "Default");
        assert_eq!(user.tenants[0].tenant_id, first.tenant_id);
    }
}

#[tokio::test]
async fn wrong_passwords_are_refused_from_their_address_and_audited_for_operators() {
    for env in envs().await {
        let admin = env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        for _ in 0..5 {
            let err =
                env.services.authenticate("admin@localhost", "wrong", Some("10.0.0.2"), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        }
        // The guessing address must wait, even with the right password.
        let err = env
            .services
            .authenticate("admin@localhost", &admin.password, Some("10.0.0.2"), env.now())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{}: {err:?}", env.backend);
        // The admin from their own address is slowed down, not refused.
        let delay = env.services.sign_in_delay("admin@localhost", env.now());
        assert!(delay > std::time::Duration::ZERO && delay <= MAX_SIGN_IN_DELAY, "{delay:?}");
        env.services.authenticate("admin@localhost", &admin.password, Some("10.0.0.3"), env.now()).await.unwrap();
        // An unknown account gets the same answer as a wrong password.
        let err = env.services.authenticate("nobody@localhost", "x", Some("10.0.0.4"), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated));

        // Sign-ins are the account's, not a tenant's: they are in the
        // operator audit, unknown emails included, and in no tenant's log.
        let tenant_log = env.audit_actions(&admin.tenant_id).await;
        assert!(!tenant_log.iter().any(|a| a.starts_with("login.")), "{}: {tenant_log:?}", env.backend);
        let operator_log = env.operator_audit_actions().await;
        assert_eq!(operator_log.iter().filter(|a| *a == "login.failure").count(), 6, "{}", env.backend);
        assert_eq!(operator_log.iter().filter(|a| *a == "login.success").count(), 1, "{}", env.backend);
    }
}

#[tokio::test]
async fn a_password_spray_from_many_addresses_does_not_lock_the_admin_out() {
    for env in envs().await {
        let admin = env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        for i in 0..50 {
            let addr = format!("198.51.100.{}", i / 5);
            let err = env.services.authenticate("admin@localhost", "guess", Some(&addr), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: attempt {i}: {err:?}", env.backend);
        }
        // Every spraying address keeps being refused, whatever it sends.
        for i in 0..10 {
            let addr = format!("198.51.100.{i}");
            let err = env
                .services
                .authenticate("admin@localhost", &admin.password, Some(&addr), env.now())
                .await
                .unwrap_err();
            assert!(matches!(err, Error::RateLimited { .. }), "{}: {addr}: {err:?}", env.backend);
        }
        // The real admin, from a fresh address, waits a bounded moment (the
        // adapter sleeps it; the domain only says how long) and gets in.
        let delay = env.services.sign_in_delay("Admin@Localhost", env.now());
        assert!(delay > std::time::Duration::ZERO, "{}", env.backend);
        assert!(delay <= MAX_SIGN_IN_DELAY, "{delay:?}");
        let user = env
            .services
            .authenticate("admin@localhost", &admin.password, Some("203.0.113.7"), env.now())
            .await
            .unwrap()
            .session_user()
            .unwrap();
        assert!(user.is_operator, "{}", env.backend);
        // Other accounts are not slowed by it.
        assert_eq!(env.services.sign_in_delay("other@localhost", env.now()), std::time::Duration::ZERO);
    }
}

#[tokio::test]
async fn users_see_only_their_tenants() {
    for env in envs().await {
        let admin = env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        let (other, _) = env.tenant("Other").await;
        let user = env.services.authenticate("admin@localhost", &admin.password, None, env.now()).await.unwrap();
        let user = user.session_user().expect("no second factor");
        // The operator sees every tenant, its own first.
        assert_eq!(user.tenants.len(), 2);
        assert_eq!(user.tenants[0].tenant_id, admin.tenant_id);
        let scope = env.services.granted_scope_for_user(&user.id, &other.tenant_id, None).await.unwrap();
        assert!(scope.can_write());
        let missing =
            env.services.scope_for_user::<domain::Read>(&user.id, "00000000-0000-0000-0000-000000000000", None).await;
        assert!(matches!(missing, Err(Error::NotFound("tenant"))));
    }
}

#[tokio::test]
async fn malformed_sign_ins_are_refused_without_audit_rows_or_throttle_keys() {
    for env in envs().await {
        let admin = env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        let before = env.operator_audit_actions().await.len();
        let long_email = format!("{}@example.com", "a".repeat(400));
        let huge_password = "p".repeat(100_000);
        for (email, password) in [
            (long_email.as_str(), "whatever-password"),
            ("no-at-sign", "whatever-password"),
            ("admin@localhost", huge_password.as_str()),
        ] {
            let err = env.services.authenticate(email, password, Some("192.0.2.1"), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        }
        assert_eq!(env.operator_audit_actions().await.len(), before, "{}", env.backend);
        // The real admin is not slowed down by any of it.
        assert!(
            env.services.authenticate("admin@localhost", &admin.password, Some("192.0.2.1"), env.now()).await.is_ok()
        );
    }
}

#[tokio::test]
async fn sessions_end_after_their_absolute_lifetime_however_active() {
    use domain::services::{SESSION_MAX_LIFETIME_SECS, SessionRecord};
    for env in envs().await {
        let s = &env.services;
        let far = env.now() + chrono::Duration::days(30);
        let record = SessionRecord { data: "{}".into(), expires_at: far, user_id: None };
        s.save_session("session-a", &record, env.now()).await.unwrap();
        assert!(s.session_exists("session-a").await.unwrap());
        // Activity moves the idle deadline, not the start.
        env.clock.advance(chrono::Duration::seconds(SESSION_MAX_LIFETIME_SECS - 60));
        s.save_session("session-a", &record, env.now()).await.unwrap();
        assert_eq!(s.load_session("session-a", env.now()).await.unwrap(), Some(record.clone()), "{}", env.backend);
        env.clock.advance(chrono::Duration::seconds(60));
        assert_eq!(s.load_session("session-a", env.now()).await.unwrap(), None, "{}", env.backend);
        assert_eq!(s.delete_expired_sessions(env.now()).await.unwrap(), 1);
        assert!(!s.session_exists("session-a").await.unwrap());
    }
}
