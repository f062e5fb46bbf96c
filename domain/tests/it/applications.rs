//! Applications and secrets through the service layer.

use clavis_types::ManagementAccess;
use domain::services::ListQuery;
use domain::{Error, Role};
use domain::{GrantedScope, Read, Write};

use super::support::envs;

#[tokio::test]
async fn create_list_rename_delete_with_audit() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let s = &env.services;
        let app = s.create_application(&scope, "  billing-service  ", ManagementAccess::None, env.now()).await.unwrap();
        assert_eq!(app.name, "billing-service", "{}", env.backend);
        assert!(uuid::Uuid::parse_str(&app.client_id).is_ok());
        let secret = app.secret.clone().expect("secret on create");
        assert_eq!(secret.len(), 43);
        assert_eq!(app.secret_last_four, secret[39..]);
        assert_eq!(app.oauth_server_url, format!("{}/oauth/v4/{}", super::support::PUBLIC_URL, tenant.tenant_id));

        let fetched = s.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(fetched.secret, None, "secrets are not returned by reads");
        let renamed = s.rename_application(&scope, &app.client_id, "billing", env.now()).await.unwrap();
        assert_eq!(renamed.name, "billing");
        assert_eq!(s.reveal_secret(&scope, &app.client_id, env.now()).await.unwrap(), secret);
        s.delete_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert!(matches!(s.get_application(&scope, &app.client_id, env.now()).await, Err(Error::NotFound(_))));
        assert!(matches!(s.delete_application(&scope, &app.client_id, env.now()).await, Err(Error::NotFound(_))));

        let actions = env.audit_actions(&tenant.tenant_id).await;
        assert_eq!(
            actions,
            ["tenant.create", "application.create", "application.rename", "secret.reveal", "application.delete"],
            "{}",
            env.backend
        );
    }
}

#[tokio::test]
async fn names_are_validated_by_characters_and_failures_leave_no_audit() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let s = &env.services;
        for bad in ["", "   ", &"a".repeat(51), "tab\there", &"é".repeat(51)] {
            let err = s.create_application(&scope, bad, ManagementAccess::None, env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Validation(_)), "{}: {bad:?}", env.backend);
        }
        s.create_application(&scope, &"é".repeat(50), ManagementAccess::None, env.now()).await.unwrap();
        s.create_application(&scope, &"🦀".repeat(50), ManagementAccess::None, env.now()).await.unwrap();
        assert_eq!(env.audit_actions(&tenant.tenant_id).await.len(), 3, "{}", env.backend);
    }
}

#[tokio::test]
async fn listing_pages_with_a_cursor_and_filters() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let s = &env.services;
        for i in 0..7 {
            s.create_application(&scope, &format!("svc-{i}"), ManagementAccess::None, env.now()).await.unwrap();
            env.clock.advance(chrono::Duration::seconds(1));
        }
        let first =
            s.list_applications(&scope, ListQuery { limit: Some(3), ..Default::default() }, env.now()).await.unwrap();
        assert_eq!(first.total, 7);
        assert_eq!(first.applications.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["svc-6", "svc-5", "svc-4"]);
        let mut seen: Vec<String> = first.applications.iter().map(|a| a.name.clone()).collect();
        let mut cursor = first.next_cursor;
        while let Some(after) = cursor {
            let page = s
                .list_applications(&scope, ListQuery { limit: Some(3), after: Some(after), filter: None }, env.now())
                .await
                .unwrap();
            seen.extend(page.applications.iter().map(|a| a.name.clone()));
            cursor = page.next_cursor;
        }
        assert_eq!(seen.len(), 7, "{}", env.backend);
        let filtered = s
            .list_applications(&scope, ListQuery { filter: Some("SVC-3".into()), ..Default::default() }, env.now())
            .await
            .unwrap();
        assert_eq!(filtered.applications.len(), 1);
        let none = s
            .list_applications(&scope, ListQuery { filter: Some("100%".into()), ..Default::default() }, env.now())
            .await
            .unwrap();
        assert!(none.applications.is_empty());
        assert!(
            s.list_applications(&scope, ListQuery { after: Some("junk".into()), ..Default::default() }, env.now())
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn tenants_cannot_reach_each_others_applications() {
    for env in envs().await {
        let (_, a) = env.tenant("A").await;
        let (_, b) = env.tenant("B").await;
        let s = &env.services;
        let app = s.create_application(&a, "a-app", ManagementAccess::None, env.now()).await.unwrap();
        assert!(matches!(s.get_application(&b, &app.client_id, env.now()).await, Err(Error::NotFound(_))));
        assert!(matches!(s.rename_application(&b, &app.client_id, "x", env.now()).await, Err(Error::NotFound(_))));
        assert!(matches!(s.reveal_secret(&b, &app.client_id, env.now()).await, Err(Error::NotFound(_))));
        assert!(matches!(s.rotate_secret(&b, &app.client_id, 0, env.now()).await, Err(Error::NotFound(_))));
        assert!(matches!(s.delete_application(&b, &app.client_id, env.now()).await, Err(Error::NotFound(_))));
        assert!(s.list_applications(&b, ListQuery::default(), env.now()).await.unwrap().applications.is_empty());
        assert!(s.get_application(&a, &app.client_id, env.now()).await.is_ok(), "{}", env.backend);
    }
}

#[tokio::test]
async fn viewers_read_but_cannot_change_or_reveal() {
    for env in envs().await {
        let (_, admin) = env.tenant("Acme").await;
        let s = &env.services;
        s.create_application(&admin, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let member = s
            .add_member_by_operator(
                &env.cli,
                &admin,
                "viewer@example.test",
                Role::Viewer,
                Some("a-long-password-1"),
                env.now(),
            )
            .await
            .unwrap();
        let granted = s.granted_scope_for_user(&member.user_id, admin.tenant_id(), None).await.unwrap();
        assert!(!granted.can_write());
        assert!(matches!(granted, GrantedScope::Read(_)));
        let viewer = s.scope_for_user::<Read>(&member.user_id, admin.tenant_id(), None).await.unwrap();
        assert_eq!(s.list_applications(&viewer, ListQuery::default(), env.now()).await.unwrap().applications.len(), 1);
        // Revealing, creating, rotating and deleting take the write
        // capability (a viewer's call does not compile: see `domain::scope`),
        // and a viewer cannot get it.
        assert!(matches!(
            s.scope_for_user::<Write>(&member.user_id, admin.tenant_id(), None).await,
            Err(Error::Forbidden)
        ));
        // A user with no membership cannot see the tenant at all.
        let (_, other) = env.tenant("Other").await;
        assert!(matches!(
            s.scope_for_user::<Read>(&member.user_id, other.tenant_id(), None).await,
            Err(Error::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn the_last_admin_stays() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let s = &env.services;
        let admin = s
            .add_member_by_operator(
                &env.cli,
                &scope,
                "a@example.test",
                Role::Admin,
                Some("a-long-password-1"),
                env.now(),
            )
            .await
            .unwrap();
        assert!(matches!(s.remove_member(&scope, &admin.user_id, env.now()).await, Err(Error::Conflict(_))));
        assert!(matches!(
            s.change_member_role(&scope, &admin.user_id, Role::Viewer, env.now()).await,
            Err(Error::Conflict(_))
        ));
        let second = s
            .add_member_by_operator(
                &env.cli,
                &scope,
                "b@example.test",
                Role::Admin,
                Some("a-long-password-2"),
                env.now(),
            )
            .await
            .unwrap();
        s.change_member_role(&scope, &admin.user_id, Role::Viewer, env.now()).await.unwrap();
        assert!(matches!(s.remove_member(&scope, &second.user_id, env.now()).await, Err(Error::Conflict(_))));
        assert_eq!(s.list_members(&scope).await.unwrap().len(), 2, "{}", env.backend);
        assert!(matches!(
            s.add_member_by_operator(&env.cli, &scope, "b@example.test", Role::Viewer, None, env.now()).await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            s.add_member_by_operator(&env.cli, &scope, "c@example.test", Role::Viewer, Some("short"), env.now()).await,
            Err(Error::Validation(_))
        ));
    }
}

#[tokio::test]
async fn debug_output_never_shows_a_secret_or_a_token() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        assert!(!format!("{app:?}").contains(&secret), "ApplicationView");
        let rotated = s.rotate_secret(&scope, &app.client_id, 0, env.now()).await.unwrap();
        assert!(!format!("{rotated:?}").contains(&rotated.secret), "RotatedSecret");
        let token =
            super::support::token_response(&env, &tenant.tenant_id, &app.client_id, &rotated.secret).await.unwrap();
        let shown = format!("{token:?}");
        assert!(!shown.contains(&token.access_token) && shown.contains("appid_default"), "TokenResponse: {shown}");
    }
}

/// Another connection holding the write lock (the usage flush, a second
/// admin, a transaction being rolled back) makes a write wait, not fail: on
/// SQLite a transaction that read first used to fail at once with
/// "database is locked".
#[tokio::test]
async fn writes_wait_for_another_connections_write_instead_of_failing() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    for db in super::support::SharedDb::all().await {
        let env = db.instance().await;
        let (_, scope) = env.tenant("Acme").await;
        let s = &env.services;
        let app = s.create_application(&scope, "billing", ManagementAccess::None, env.now()).await.unwrap();
        let other = domain::db::connect(db.url()).await.unwrap();
        let holder = other.begin().await.unwrap();
        holder.execute_unprepared("UPDATE applications SET name = name WHERE client_id = 'none'").await.unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            holder.commit().await.unwrap();
        });
        let rotated = s.rotate_secret(&scope, &app.client_id, 0, env.now()).await;
        assert!(rotated.is_ok(), "{}: {:?}", db.backend, rotated.err());
        let renamed = s.rename_application(&scope, &app.client_id, "billing-2", env.now()).await;
        assert!(renamed.is_ok(), "{}: {:?}", db.backend, renamed.err());
        release.await.unwrap();
    }
}
