//! An account's password: the policy, the operator's direct add, the
//! holder's change and the operator's reset link, and the sessions they end.

use chrono::Duration;
use domain::services::{PASSWORD_RESET_LIFETIME_MINUTES, SessionRecord};
use domain::{Error, Role};

use super::support::{PUBLIC_URL, TestEnv, envs};

async fn signed_in(env: &TestEnv, session_id: &str, user_id: &str) {
    let record = SessionRecord {
        data: "{}".into(),
        expires_at: env.now() + Duration::hours(1),
        user_id: Some(user_id.to_owned()),
    };
    env.services.save_session(session_id, &record, env.now()).await.unwrap();
}

async fn alive(env: &TestEnv, session_id: &str) -> bool {
    env.services.load_session(session_id, env.now()).await.unwrap().is_some()
}

#[tokio::test]
async fn the_operator_add_checks_the_policy_and_leaves_an_existing_password_alone() {
    for env in envs().await {
        let s = &env.services;
        let (_, a) = env.tenant("A").await;
        let (b_info, b) = env.tenant("B").await;
        for (weak, why) in [("short-pw", "length"), ("qwerty123456", "common"), ("Bob-the-builder-1", "email name")] {
            let refused =
                s.add_member_by_operator(&env.cli, &a, "bob@b.example", Role::Admin, Some(weak), env.now()).await;
            assert!(matches!(refused, Err(Error::Validation(_))), "{why}: {refused:?}");
        }
        let first = s
            .add_member_by_operator(&env.cli, &a, "bob@b.example", Role::Admin, Some("first password here"), env.now())
            .await
            .unwrap();
        // The second add names another password: the account keeps its own.
        let second = s
            .add_member_by_operator(
                &env.cli,
                &b,
                "bob@b.example",
                Role::Viewer,
                Some("second password here"),
                env.now(),
            )
            .await
            .unwrap();
        assert_eq!(first.user_id, second.user_id);
        assert!(s.authenticate("bob@b.example", "second password here", None, env.now()).await.is_err());
        let user = s
            .authenticate("bob@b.example", "first password here", None, env.now())
            .await
            .unwrap()
            .session_user()
            .unwrap();
        assert!(user.tenants.iter().any(|t| t.tenant_id == b_info.tenant_id), "{}", env.backend);
    }
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    for env in envs().await {
        let s = &env.services;
        let (_, scope) = env.tenant("Acme").await;
        let member = s
            .add_member_by_operator(
                &env.cli,
                &scope,
                "eve@example.test",
                Role::Admin,
                Some("the old passphrase"),
                env.now(),
            )
            .await
            .unwrap();
        signed_in(&env, "session-here", &member.user_id).await;
        signed_in(&env, "session-elsewhere", &member.user_id).await;
        signed_in(&env, "someone-else", "00000000-0000-0000-0000-000000000001").await;

        let wrong = s
            .change_password(
                &member.user_id,
                "not the old one",
                "a new passphrase",
                Some("session-here"),
                None,
                env.now(),
            )
            .await;
        assert!(matches!(wrong, Err(Error::Unauthenticated)), "{wrong:?}");
        let weak = s
            .change_password(
                &member.user_id,
                "the old passphrase",
                "password1234",
                Some("session-here"),
                None,
                env.now(),
            )
            .await;
        assert!(matches!(weak, Err(Error::Validation(_))), "{weak:?}");
        assert!(alive(&env, "session-elsewhere").await, "a refused change ends nothing");

        s.change_password(
            &member.user_id,
            "the old passphrase",
            "a new passphrase",
            Some("session-here"),
            None,
            env.now(),
        )
        .await
        .unwrap();
        assert!(alive(&env, "session-here").await, "{}", env.backend);
        assert!(!alive(&env, "session-elsewhere").await, "{}", env.backend);
        assert!(alive(&env, "someone-else").await, "{}", env.backend);
        assert!(s.authenticate("eve@example.test", "the old passphrase", None, env.now()).await.is_err());
        s.authenticate("eve@example.test", "a new passphrase", None, env.now()).await.unwrap();
        assert!(env.operator_audit_actions().await.contains(&"password.change".to_owned()));
    }
}

#[tokio::test]
async fn a_reset_link_works_once_within_the_hour_and_ends_every_session() {
    for env in envs().await {
        let s = &env.services;
        let operator = env.cli.operator_scope();
        let (tenant, scope) = env.tenant("Acme").await;
        let member = s
            .add_member_by_operator(
                &env.cli,
                &scope,
                "fay@example.test",
                Role::Viewer,
                Some("forgotten passphrase"),
                env.now(),
            )
            .await
            .unwrap();
        signed_in(&env, "fay-1", &member.user_id).await;
        signed_in(&env, "fay-2", &member.user_id).await;
        assert!(matches!(
            s.create_password_reset(&operator, "nobody@example.test", env.now()).await,
            Err(Error::NotFound(_))
        ));
        let link = s.create_password_reset(&operator, "Fay@Example.test", env.now()).await.unwrap();
        assert!(link.url.starts_with(&format!("{PUBLIC_URL}/reset/")), "{}", link.url);
        let token = TestEnv::token_of(&link.url);
        assert!(!format!("{link:?}").contains(&token));
        assert_eq!(s.password_reset_email(&token, env.now()).await.unwrap(), "fay@example.test");

        let weak = s.reset_password(&token, "1q2w3e4r5t6y", None, env.now()).await;
        assert!(matches!(weak, Err(Error::Validation(_))), "{weak:?}");
        s.reset_password(&token, "a remembered passphrase", None, env.now()).await.unwrap();
        assert!(!alive(&env, "fay-1").await && !alive(&env, "fay-2").await, "{}", env.backend);
        s.authenticate("fay@example.test", "a remembered passphrase", None, env.now()).await.unwrap();
        let again = s.reset_password(&token, "yet another passphrase", None, env.now()).await;
        assert!(matches!(&again, Err(Error::Validation(m)) if m.contains("already been used")), "{again:?}");

        let late = s.create_password_reset(&operator, "fay@example.test", env.now()).await.unwrap();
        env.clock.advance(Duration::minutes(PASSWORD_RESET_LIFETIME_MINUTES) + Duration::seconds(1));
        let expired = s.reset_password(&TestEnv::token_of(&late.url), "yet another passphrase", None, env.now()).await;
        assert!(matches!(&expired, Err(Error::Validation(m)) if m.contains("expired")), "{expired:?}");

        // Resets are about the account: the operator audit has them, the tenant's log does not.
        let log = env.operator_audit_actions().await;
        assert_eq!(log.iter().filter(|a| *a == "password.reset_link").count(), 2, "{log:?}");
        assert_eq!(log.iter().filter(|a| *a == "password.reset").count(), 1, "{log:?}");
        assert!(!env.audit_actions(&tenant.tenant_id).await.iter().any(|a| a.starts_with("password.")));
    }
}
