//! The Cloud Directory's users: sign-up rules, listing and search, profile
//! changes, roles, deletion, and tenant isolation.

use domain::services::{
    DirectoryPasswordPolicy, DirectoryQuery, DirectoryUserUpdate, NewDirectoryUser, RoleAccess, RoleInput, UserStatus,
};
use domain::{Error, TenantScope, Write};

use super::support::{TestEnv, envs};

pub const PASSWORD: &str = "violet-harbour-42";

pub fn new_user(email: &str) -> NewDirectoryUser {
    NewDirectoryUser {
        email: email.into(),
        user_name: None,
        password: PASSWORD.into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        active: true,
        status: UserStatus::Confirmed,
    }
}

pub async fn sign_up(env: &TestEnv, scope: &TenantScope<Write>, email: &str) -> domain::services::DirectoryUser {
    env.services.sign_up_directory_user(scope, new_user(email), env.now()).await.unwrap()
}

#[tokio::test]
async fn sign_up_validates_and_refuses_a_second_account_for_the_same_email_in_any_case() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let user = sign_up(&env, &scope, "Ada@Example.com").await;
        assert_eq!(user.email, "Ada@Example.com", "the email keeps its case");
        assert_eq!(user.user_name, "Ada@Example.com", "userName defaults to the email");
        assert_eq!(user.profile_id, user.id);
        assert!(user.active);
        let again = env.services.sign_up_directory_user(&scope, new_user("ada@EXAMPLE.com"), env.now()).await;
        assert!(matches!(again, Err(Error::Conflict(_))), "{}: {again:?}", env.backend);
        let bad = [
            NewDirectoryUser { email: "not-an-email".into(), ..new_user("x@y.z") },
            NewDirectoryUser { password: "short".into(), ..new_user("b@example.com") },
            NewDirectoryUser { password: "password123".into(), ..new_user("c@example.com") },
            NewDirectoryUser { given_name: "x".repeat(51), ..new_user("d@example.com") },
            NewDirectoryUser { family_name: "a\u{7}b".into(), ..new_user("e@example.com") },
        ];
        for new in bad {
            let refused = env.services.sign_up_directory_user(&scope, new, env.now()).await;
            assert!(matches!(refused, Err(Error::Validation(_))), "{refused:?}");
        }
        let page = env.services.list_directory_users(&scope, &DirectoryQuery::default()).await.unwrap();
        assert_eq!(page.total_results, 1, "refusals created nothing");
    }
}

#[tokio::test]
async fn the_tenant_policy_decides_length_and_common_passwords() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let lax = DirectoryPasswordPolicy { min_chars: 8, reject_common: false };
        env.services.set_directory_password_policy(&scope, lax, env.now()).await.unwrap();
        let common = NewDirectoryUser { password: "password123".into(), ..new_user("c@example.com") };
        env.services.sign_up_directory_user(&scope, common, env.now()).await.unwrap();
        let strict = DirectoryPasswordPolicy { min_chars: 20, reject_common: true };
        env.services.set_directory_password_policy(&scope, strict, env.now()).await.unwrap();
        let refused = env.services.sign_up_directory_user(&scope, new_user("d@example.com"), env.now()).await;
        assert!(matches!(refused, Err(Error::Validation(_))), "17 characters under a 20 minimum");
        let out_of_range = DirectoryPasswordPolicy { min_chars: 4, reject_common: true };
        assert!(env.services.set_directory_password_policy(&scope, out_of_range, env.now()).await.is_err());
        assert_eq!(env.services.directory_password_policy(&scope).await.unwrap(), strict);
    }
}

#[tokio::test]
async fn listing_pages_with_start_index_and_count_and_searches_case_insensitively() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        for i in 0..5 {
            sign_up(&env, &scope, &format!("user{i}@example.com")).await;
            env.clock.advance(chrono::Duration::seconds(1));
        }
        let mut named = new_user("grace@navy.mil");
        named.given_name = "Grace".into();
        named.family_name = "Hopper".into();
        env.services.sign_up_directory_user(&scope, named, env.now()).await.unwrap();
        let page = env
            .services
            .list_directory_users(&scope, &DirectoryQuery { query: None, start_index: 2, count: 2 })
            .await
            .unwrap();
        assert_eq!(page.total_results, 6);
        assert_eq!(page.start_index, 2);
        let emails: Vec<&str> = page.users.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["user1@example.com", "user2@example.com"], "oldest first, 1-based start");
        let found = env
            .services
            .list_directory_users(&scope, &DirectoryQuery { query: Some("HOPPER".into()), ..DirectoryQuery::default() })
            .await
            .unwrap();
        assert_eq!(found.total_results, 1);
        assert_eq!(found.users[0].email, "grace@navy.mil");
        // Wildcards are literal text.
        let none = env
            .services
            .list_directory_users(&scope, &DirectoryQuery { query: Some("%".into()), ..DirectoryQuery::default() })
            .await
            .unwrap();
        assert_eq!(none.total_results, 0);
        let beyond = env
            .services
            .list_directory_users(&scope, &DirectoryQuery { query: None, start_index: 50, count: 10 })
            .await
            .unwrap();
        assert!(beyond.users.is_empty());
        assert_eq!(beyond.total_results, 6);
    }
}

#[tokio::test]
async fn updates_replace_the_profile_and_keep_emails_unique() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        sign_up(&env, &scope, "bob@example.com").await;
        let update = DirectoryUserUpdate {
            email: "ada.l@example.com".into(),
            user_name: Some("ada".into()),
            given_name: "Augusta".into(),
            family_name: "King".into(),
            active: false,
            status: UserStatus::Confirmed,
            password: None,
        };
        let changed = env.services.update_directory_user(&scope, &ada.id, update.clone(), env.now()).await.unwrap();
        assert_eq!((changed.email.as_str(), changed.user_name.as_str()), ("ada.l@example.com", "ada"));
        assert!(!changed.active);
        assert_eq!(changed.display_name(), "Augusta King");
        let taken = DirectoryUserUpdate { email: "BOB@example.com".into(), ..update };
        let refused = env.services.update_directory_user(&scope, &ada.id, taken, env.now()).await;
        assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
        let actions = env.audit_actions(scope.tenant_id()).await;
        assert!(actions.contains(&"cloud_directory.user.update".to_owned()), "{actions:?}");
    }
}

#[tokio::test]
async fn another_tenants_users_are_not_found() {
    for env in envs().await {
        let (_, acme) = env.tenant("Acme").await;
        let (_, other) = env.tenant("Other").await;
        let ada = sign_up(&env, &acme, "ada@example.com").await;
        // The same email is free in another tenant.
        sign_up(&env, &other, "ada@example.com").await;
        assert!(matches!(env.services.directory_user(&other, &ada.id).await, Err(Error::NotFound("user"))));
        let deleted = env.services.delete_directory_user(&other, &ada.id, env.now()).await;
        assert!(matches!(deleted, Err(Error::NotFound("user"))));
        let password = env.services.change_directory_password(&other, &ada.id, "x".repeat(20), env.now()).await;
        assert!(matches!(password, Err(Error::NotFound("user"))));
        assert!(matches!(env.services.directory_user_roles(&other, &ada.profile_id).await, Err(Error::NotFound(_))));
        assert!(env.services.directory_user(&acme, &ada.id).await.is_ok(), "untouched");
        assert!(matches!(env.services.directory_user(&acme, "../etc").await, Err(Error::NotFound("user"))));
    }
}

#[tokio::test]
async fn roles_are_the_tenants_roles_and_follow_their_deletion() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let (_, other) = env.tenant("Other").await;
        let api = super::access::protected_api(&env, &scope, "https://api.example.com", &["read"]).await;
        let input = RoleInput {
            name: "reader".into(),
            description: String::new(),
            access: vec![RoleAccess { application_id: api, scopes: vec!["read".into()] }],
        };
        let role = env.services.create_role(&scope, input.clone(), env.now()).await.unwrap();
        let foreign = env.services.create_role(&other, RoleInput { access: vec![], ..input }, env.now()).await.unwrap();
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        let held = env
            .services
            .set_directory_user_roles(&scope, &ada.profile_id, &[role.id.clone(), role.id.clone()], env.now())
            .await
            .unwrap();
        assert_eq!(held.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["reader"]);
        let refused = env.services.set_directory_user_roles(&scope, &ada.profile_id, &[foreign.id], env.now()).await;
        assert!(matches!(refused, Err(Error::NotFound("role"))), "another tenant's role");
        assert_eq!(env.services.directory_user_roles(&scope, &ada.profile_id).await.unwrap().len(), 1);
        env.services.delete_role(&scope, &role.id, env.now()).await.unwrap();
        assert!(env.services.directory_user_roles(&scope, &ada.profile_id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn deleting_a_user_removes_them_and_frees_the_email() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        env.services.delete_directory_user(&scope, &ada.id, env.now()).await.unwrap();
        assert!(matches!(env.services.directory_user(&scope, &ada.id).await, Err(Error::NotFound(_))));
        assert!(matches!(
            env.services.delete_directory_user(&scope, &ada.id, env.now()).await,
            Err(Error::NotFound(_))
        ));
        sign_up(&env, &scope, "ada@example.com").await;
        let actions = env.audit_actions(scope.tenant_id()).await;
        assert!(actions.contains(&"cloud_directory.user.delete".to_owned()));
    }
}
