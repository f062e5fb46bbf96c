//! First-start bootstrap and sign-in.

use domain::Error;

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
        assert!(user.is_operator);
        assert_eq!(user.tenants.len(), 1);
        assert_eq!(user.tenants[0].tenant_name, "Default");
        assert_eq!(user.tenants[0].tenant_id, first.tenant_id);
    }
}

#[tokio::test]
async fn wrong_passwords_are_refused_audited_and_slowed_down() {
    for env in envs().await {
        let admin = env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        for _ in 0..5 {
            let err =
                env.services.authenticate("admin@localhost", "wrong", Some("10.0.0.2"), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: {err:?}", env.backend);
        }
        // The sixth attempt must wait, even with the right password.
        let err = env
            .services
            .authenticate("admin@localhost", &admin.password, Some("10.0.0.3"), env.now())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{}: {err:?}", env.backend);
        // An unknown account gets the same answer as a wrong password.
        let err = env.services.authenticate("nobody@localhost", "x", Some("10.0.0.4"), env.now()).await.unwrap_err();
        assert!(matches!(err, Error::Unauthenticated));

        env.clock.advance(chrono::Duration::seconds(2));
        env.services.authenticate("admin@localhost", &admin.password, Some("10.0.0.3"), env.now()).await.unwrap();
        let actions = env.audit_actions(&admin.tenant_id).await;
        assert_eq!(actions.iter().filter(|a| *a == "login.failure").count(), 5, "{}", env.backend);
        assert_eq!(actions.iter().filter(|a| *a == "login.success").count(), 1, "{}", env.backend);
    }
}

#[tokio::test]
async fn users_see_only_their_tenants() {
    for env in envs().await {
        let admin = env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        let (other, _) = env.tenant("Other").await;
        let user = env.services.authenticate("admin@localhost", &admin.password, None, env.now()).await.unwrap();
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
        let before = env.audit_actions(&admin.tenant_id).await.len();
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
        assert_eq!(env.audit_actions(&admin.tenant_id).await.len(), before, "{}", env.backend);
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
        let record = SessionRecord { data: "{}".into(), expires_at: far };
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
