//! Invitations: admins add members without choosing or learning anything
//! about their passwords; links are single use, expire and can be revoked.

use chrono::Duration;
use domain::services::{INVITATION_LIFETIME_HOURS, NewInvitation};
use domain::{Error, Role};

use super::support::{PUBLIC_URL, TestEnv, envs};

fn token(invite: &NewInvitation) -> String {
    TestEnv::token_of(&invite.link.url)
}

#[tokio::test]
async fn an_invite_for_a_new_email_lets_the_invitee_choose_their_password_once() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let s = &env.services;
        let invite = s.invite_member(&scope, "New.Person@Example.test", Role::Admin, env.now()).await.unwrap();
        assert!(invite.link.url.starts_with(&format!("{PUBLIC_URL}/invite/")), "{}", invite.link.url);
        assert_eq!(token(&invite).len(), 43);
        assert_eq!(invite.invitation.email, "new.person@example.test");
        assert_eq!(invite.link.expires_at, env.now() + Duration::hours(INVITATION_LIFETIME_HOURS));
        assert!(!format!("{invite:?}").contains(&token(&invite)), "Debug shows the token");
        assert_eq!(s.list_invitations(&scope, env.now()).await.unwrap().len(), 1);

        let details = s.invitation_details(&token(&invite), env.now()).await.unwrap();
        assert_eq!(details.tenant_name, "Acme");
        assert_eq!(details.role, Role::Admin);

        // The policy applies to the invitee's choice.
        for weak in ["short-one", "qwerty123456", "new.person-2026-pass"] {
            let refused = s.accept_invitation(&token(&invite), weak, None, env.now()).await;
            assert!(matches!(refused, Err(Error::Validation(_))), "{weak}: {refused:?}");
        }
        s.accept_invitation(&token(&invite), "a river of quiet stones", None, env.now()).await.unwrap();
        let user = s
            .authenticate("new.person@example.test", "a river of quiet stones", None, env.now())
            .await
            .unwrap()
            .session_user()
            .unwrap();
        assert_eq!(user.tenants[0].tenant_id, tenant.tenant_id);
        assert_eq!(user.tenants[0].role, Role::Admin);

        // Single use, whatever the password.
        let again = s.accept_invitation(&token(&invite), "another good passphrase", None, env.now()).await;
        assert!(matches!(&again, Err(Error::Validation(m)) if m.contains("already been used")), "{again:?}");
        assert!(s.list_invitations(&scope, env.now()).await.unwrap().is_empty());
        let actions = env.audit_actions(&tenant.tenant_id).await;
        assert!(actions.ends_with(&["member.invite".to_owned(), "member.invite_accepted".to_owned()]), "{actions:?}");
    }
}

#[tokio::test]
async fn an_invite_for_an_existing_account_looks_the_same_and_needs_that_accounts_password() {
    for env in envs().await {
        let s = &env.services;
        let (a, a_scope) = env.tenant("A").await;
        let (b, b_scope) = env.tenant("B").await;
        // Bob joins A by invitation and chooses his own password.
        let to_a = s.invite_member(&a_scope, "bob@b.example", Role::Admin, env.now()).await.unwrap();
        s.accept_invitation(&token(&to_a), "my own long secret", None, env.now()).await.unwrap();

        // B's admin invites Bob (who has an account) and Carol (who has none):
        // the answers differ only in what they must (ID, email, token).
        let bob = s.invite_member(&b_scope, "bob@b.example", Role::Viewer, env.now()).await.unwrap();
        let carol = s.invite_member(&b_scope, "carol@b.example", Role::Viewer, env.now()).await.unwrap();
        assert_eq!(bob.invitation.role, carol.invitation.role);
        assert_eq!(bob.invitation.invited_by, carol.invitation.invited_by);
        assert_eq!(bob.invitation.created_at, carol.invitation.created_at);
        assert_eq!(bob.invitation.expires_at, carol.invitation.expires_at);
        assert_eq!(bob.link.expires_at, carol.link.expires_at);
        assert_eq!(bob.link.url.len(), carol.link.url.len());
        let pending = s.list_invitations(&b_scope, env.now()).await.unwrap();
        assert_eq!(pending.len(), 2, "{}", env.backend);

        // The link's page does not tell either: the inviter holds the link.
        let (bob_page, carol_page) = (
            s.invitation_details(&token(&bob), env.now()).await.unwrap(),
            s.invitation_details(&token(&carol), env.now()).await.unwrap(),
        );
        assert_eq!((bob_page.role, bob_page.expires_at), (carol_page.role, carol_page.expires_at));
        assert_eq!(
            format!("{bob_page:?}").replace("bob@b.example", "X"),
            format!("{carol_page:?}").replace(&carol_page.email, "X")
        );
        // A password someone else chooses does not accept it, and does not
        // become Bob's.
        let refused = s.accept_invitation(&token(&bob), "chosen by tenant a", Some("192.0.2.9"), env.now()).await;
        assert!(matches!(refused, Err(Error::Unauthenticated)), "{}: {refused:?}", env.backend);
        assert!(s.authenticate("bob@b.example", "chosen by tenant a", None, env.now()).await.is_err());
        // Bob's own password accepts it; he is one account in both tenants.
        s.accept_invitation(&token(&bob), "my own long secret", Some("192.0.2.10"), env.now()).await.unwrap();
        let user = s
            .authenticate("bob@b.example", "my own long secret", None, env.now())
            .await
            .unwrap()
            .session_user()
            .unwrap();
        let role_in = |id: &str| user.tenants.iter().find(|t| t.tenant_id == id).map(|t| t.role);
        assert_eq!(user.tenants.len(), 2, "{}", env.backend);
        assert_eq!((role_in(&a.tenant_id), role_in(&b.tenant_id)), (Some(Role::Admin), Some(Role::Viewer)));
        // A's log knows nothing of B's invitation.
        let a_log = env.audit_actions(&a.tenant_id).await;
        assert_eq!(a_log.iter().filter(|x| x.starts_with("member.invite")).count(), 2, "{a_log:?}");
        // Accepting twice into the same tenant is refused.
        let twice = s.invite_member(&b_scope, "bob@b.example", Role::Admin, env.now()).await.unwrap();
        assert!(matches!(
            s.accept_invitation(&token(&twice), "my own long secret", None, env.now()).await,
            Err(Error::Conflict(_))
        ));
    }
}

#[tokio::test]
async fn invitations_expire_and_can_be_revoked_only_by_their_tenant() {
    for env in envs().await {
        let s = &env.services;
        let (tenant, scope) = env.tenant("Acme").await;
        let (_, other) = env.tenant("Other").await;
        let late = s.invite_member(&scope, "late@example.test", Role::Viewer, env.now()).await.unwrap();
        let revoked = s.invite_member(&scope, "gone@example.test", Role::Viewer, env.now()).await.unwrap();

        assert!(matches!(
            s.revoke_invitation(&other, &revoked.invitation.id, env.now()).await,
            Err(Error::NotFound(_))
        ));
        assert!(s.list_invitations(&other, env.now()).await.unwrap().is_empty());
        s.revoke_invitation(&scope, &revoked.invitation.id, env.now()).await.unwrap();
        let after_revoke = s.accept_invitation(&token(&revoked), "a fine long password", None, env.now()).await;
        assert!(matches!(after_revoke, Err(Error::NotFound(_))), "{after_revoke:?}");
        assert!(matches!(s.invitation_details(&token(&revoked), env.now()).await, Err(Error::NotFound(_))));

        env.clock.advance(Duration::hours(INVITATION_LIFETIME_HOURS) + Duration::seconds(1));
        let expired = s.accept_invitation(&token(&late), "a fine long password", None, env.now()).await;
        assert!(matches!(&expired, Err(Error::Validation(m)) if m.contains("expired")), "{expired:?}");
        assert!(s.list_invitations(&scope, env.now()).await.unwrap().is_empty());
        assert!(s.authenticate("late@example.test", "a fine long password", None, env.now()).await.is_err());

        // A made-up or malformed token finds nothing.
        for made_up in ["", "not-a-token", &"A".repeat(43)] {
            assert!(matches!(s.invitation_details(made_up, env.now()).await, Err(Error::NotFound(_))), "{made_up}");
        }
        let actions = env.audit_actions(&tenant.tenant_id).await;
        assert_eq!(actions.iter().filter(|a| *a == "member.invite_revoked").count(), 1, "{actions:?}");
    }
}

#[tokio::test]
async fn spent_and_expired_links_are_pruned_after_a_week() {
    for env in envs().await {
        let s = &env.services;
        let (_, scope) = env.tenant("Acme").await;
        let used = s.invite_member(&scope, "used@example.test", Role::Viewer, env.now()).await.unwrap();
        s.accept_invitation(&token(&used), "a fine long password", None, env.now()).await.unwrap();
        let pending = s.invite_member(&scope, "pending@example.test", Role::Viewer, env.now()).await.unwrap();
        let reset = s.create_password_reset(&env.cli.operator_scope(), "used@example.test", env.now()).await.unwrap();
        assert_eq!(s.prune_one_time_links(env.now()).await.unwrap(), 0, "{}", env.backend);

        // A week after the invitations expired, all three rows go.
        env.clock.advance(Duration::hours(INVITATION_LIFETIME_HOURS) + Duration::days(7) + Duration::seconds(1));
        assert_eq!(s.prune_one_time_links(env.now()).await.unwrap(), 3, "{}", env.backend);
        assert!(matches!(s.invitation_details(&token(&pending), env.now()).await, Err(Error::NotFound(_))));
        let reset_token = TestEnv::token_of(&reset.url);
        assert!(matches!(s.password_reset_email(&reset_token, env.now()).await, Err(Error::NotFound(_))));
    }
}
