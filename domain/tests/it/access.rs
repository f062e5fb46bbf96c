//! Access control: protected applications with scopes and identifiers,
//! roles, the roles of callers, and the tokens that follow from them.

use clavis_oauth::ErrorCode;
use clavis_types::ManagementAccess;
use domain::services::{ApplicationUpdate, NewApplication, RoleAccess, RoleInput, TokenConfig};
use domain::{Error, TenantScope, Write};

use super::support::{TestEnv, envs, introspect, payload_of, token_with};

/// A protected application with `identifier` and `scopes`; its client ID.
pub async fn protected_api(env: &TestEnv, scope: &TenantScope<Write>, identifier: &str, scopes: &[&str]) -> String {
    let new = NewApplication { name: "api".into(), identifier: Some(identifier.into()), ..NewApplication::default() };
    let api = env.services.create_application_with(scope, new, env.now()).await.unwrap();
    let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    env.services.set_application_scopes(scope, &api.client_id, scopes, env.now()).await.unwrap();
    api.client_id
}

/// Gives `caller` a new role granting `scopes` on `api`; the role's ID.
pub async fn grant(env: &TestEnv, scope: &TenantScope<Write>, caller: &str, api: &str, scopes: &[&str]) -> String {
    let input = RoleInput {
        name: format!("role-{}", uuid::Uuid::new_v4().simple()),
        description: String::new(),
        access: vec![RoleAccess { application_id: api.into(), scopes: scopes.iter().map(|s| (*s).into()).collect() }],
    };
    let role = env.services.create_role(scope, input, env.now()).await.unwrap();
    let mut held: Vec<String> =
        env.services.application_roles(scope, caller).await.unwrap().into_iter().map(|r| r.id).collect();
    held.push(role.id.clone());
    env.services.set_application_roles(scope, caller, &held, env.now()).await.unwrap();
    role.id
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn scope_names_follow_app_ids_rules_and_a_refusal_changes_nothing() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let s = &env.services;
        let api = protected_api(&env, &scope, "https://inventory.example", &["read", "write"]).await;
        let long = "x".repeat(50);
        for bad in [
            vec!["read", "Read"],
            vec!["read", "re ad"],
            vec!["appid_x"],
            vec!["openid"],
            vec![""],
            vec![long.as_str()],
            vec!["read", "read"],
        ] {
            let err = s.set_application_scopes(&scope, &api, strings(&bad), env.now()).await.unwrap_err();
            let Error::Validation(message) = err else { panic!("{bad:?}: {err:?}") };
            let culprit = bad.last().unwrap();
            assert!(message.contains(&format!("{culprit:?}")), "{}: {message}", env.backend);
            assert_eq!(s.application_scopes(&scope, &api).await.unwrap(), ["read", "write"], "{bad:?}");
        }
        let too_many: Vec<String> = (0..51).map(|i| format!("s{i}")).collect();
        assert!(matches!(s.set_application_scopes(&scope, &api, too_many, env.now()).await, Err(Error::Validation(_))));
        let fifty: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
        assert_eq!(s.set_application_scopes(&scope, &api, fifty.clone(), env.now()).await.unwrap(), fifty);
        let mut scopes = strings(&["a.b_c", "9"]);
        scopes.push("x".repeat(49));
        assert_eq!(s.set_application_scopes(&scope, &api, scopes.clone(), env.now()).await.unwrap(), scopes);
    }
}

#[tokio::test]
async fn identifiers_are_absolute_https_uris_unique_in_the_tenant() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let (_, other) = env.tenant("Other").await;
        let s = &env.services;
        let named = |identifier: &str| NewApplication {
            name: "api".into(),
            identifier: Some(identifier.into()),
            ..NewApplication::default()
        };
        for bad in ["api.example.com", "http://api.example.com", "https://api.example.com/#x", "ftp://x", "urn:x"] {
            assert!(
                matches!(s.create_application_with(&scope, named(bad), env.now()).await, Err(Error::Validation(_))),
                "{bad}"
            );
        }
        assert!(s.create_application_with(&scope, named("http://127.0.0.1:8080/api"), env.now()).await.is_ok());
        let api = s.create_application_with(&scope, named("https://api.example.com"), env.now()).await.unwrap();
        assert_eq!(api.identifier.as_deref(), Some("https://api.example.com"));
        assert!(matches!(
            s.create_application_with(&scope, named("https://api.example.com"), env.now()).await,
            Err(Error::Conflict(_))
        ));
        // Another tenant may use the same identifier.
        assert!(s.create_application_with(&other, named("https://api.example.com"), env.now()).await.is_ok());
        let plain = s.create_application(&scope, "plain", ManagementAccess::None, env.now()).await.unwrap();
        let taken =
            ApplicationUpdate { name: "plain".into(), identifier: Some(Some("https://api.example.com".into())) };
        assert!(matches!(
            s.update_application(&scope, &plain.client_id, taken, env.now()).await,
            Err(Error::Conflict(_))
        ));
        let removed = ApplicationUpdate { name: "api".into(), identifier: Some(None) };
        let api = s.update_application(&scope, &api.client_id, removed, env.now()).await.unwrap();
        assert_eq!(api.identifier, None, "{}", env.backend);
        assert!(env.audit_actions(api.tenant_id.as_str()).await.contains(&"application.identifier".to_owned()));
    }
}

#[tokio::test]
async fn tokens_carry_only_the_requested_scopes_roles_grant_on_one_audience() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let t = tenant.tenant_id.as_str();
        let s = &env.services;
        let inventory = protected_api(&env, &scope, "https://inventory.example", &["read", "write", "admin"]).await;
        let billing = protected_api(&env, &scope, "https://billing.example", &["charge"]).await;
        let caller = s.create_application(&scope, "caller", ManagementAccess::None, env.now()).await.unwrap();
        let (id, secret) = (caller.client_id.as_str(), caller.secret.as_deref().unwrap());
        grant(&env, &scope, id, &inventory, &["read", "write"]).await;
        let ask = async |body: &str| token_with(&env, t, id, secret, body).await;

        // By client ID or identifier; all granted scopes when none is asked for.
        let by_id = ask(&format!("grant_type=client_credentials&audience={inventory}")).await.unwrap();
        assert_eq!(by_id.scope, "appid_default read write", "{}", env.backend);
        let payload = payload_of(&by_id.access_token);
        assert_eq!(payload["aud"], serde_json::json!([inventory, "https://inventory.example"]));
        assert_eq!(payload["scope"], "appid_default read write");
        let by_identifier =
            ask("grant_type=client_credentials&resource=https://inventory.example&scope=read%20admin%20nope").await;
        assert_eq!(by_identifier.unwrap().scope, "appid_default read", "requested but not granted is left out");

        // invalid_target: unknown, no grant, several, another tenant's.
        let (_, other_scope) = env.tenant("Other").await;
        let foreign = protected_api(&env, &other_scope, "https://inventory.example", &["read"]).await;
        for audience in ["https://nobody.example".to_owned(), billing.clone(), foreign, caller.client_id.clone()] {
            let err = ask(&format!("grant_type=client_credentials&audience={audience}")).await.unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidTarget, "{audience}");
            assert_eq!(err.status, 400);
        }
        let two = format!("grant_type=client_credentials&audience={inventory}&resource=https://billing.example");
        assert_eq!(ask(&two).await.unwrap_err().code, ErrorCode::InvalidTarget);

        // A plain token is for the caller and carries the default scope only.
        let plain = ask("grant_type=client_credentials&scope=read%20clavis:management:write").await.unwrap();
        assert_eq!(plain.scope, "appid_default");
        assert_eq!(payload_of(&plain.access_token)["aud"], serde_json::json!([id]));
    }
}

#[tokio::test]
async fn removing_a_scope_or_a_role_takes_the_grant_away() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let t = tenant.tenant_id.as_str();
        let s = &env.services;
        let api = protected_api(&env, &scope, "https://inventory.example", &["read", "write"]).await;
        let caller = s.create_application(&scope, "caller", ManagementAccess::None, env.now()).await.unwrap();
        let (id, secret) = (caller.client_id.as_str(), caller.secret.as_deref().unwrap());
        let role = grant(&env, &scope, id, &api, &["read", "write"]).await;
        let body = format!("grant_type=client_credentials&audience={api}");
        assert_eq!(token_with(&env, t, id, secret, &body).await.unwrap().scope, "appid_default read write");

        s.set_application_scopes(&scope, &api, strings(&["read"]), env.now()).await.unwrap();
        let role_now = s.get_role(&scope, &role).await.unwrap();
        assert_eq!(role_now.access, [RoleAccess { application_id: api.clone(), scopes: strings(&["read"]) }]);
        assert_eq!(
            token_with(&env, t, id, secret, &body).await.unwrap().scope,
            "appid_default read",
            "{}",
            env.backend
        );

        // A role may name only the scopes its application has.
        let bad = RoleInput {
            name: "bad".into(),
            description: String::new(),
            access: vec![RoleAccess { application_id: api.clone(), scopes: strings(&["write"]) }],
        };
        assert!(matches!(s.create_role(&scope, bad, env.now()).await, Err(Error::Validation(_))));

        s.delete_role(&scope, &role, env.now()).await.unwrap();
        assert!(s.application_roles(&scope, id).await.unwrap().is_empty());
        assert_eq!(token_with(&env, t, id, secret, &body).await.unwrap_err().code, ErrorCode::InvalidTarget);
        let actions = env.audit_actions(t).await;
        for action in ["application.scopes", "role.create", "application.roles", "role.delete"] {
            assert!(actions.contains(&action.to_owned()), "{action}: {actions:?}");
        }
    }
}

#[tokio::test]
async fn role_names_are_unique_and_bounded_and_ids_do_not_cross_tenants() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let (_, other) = env.tenant("Other").await;
        let s = &env.services;
        let named = |name: &str| RoleInput { name: name.into(), ..RoleInput::default() };
        let role = s.create_role(&scope, named("readers"), env.now()).await.unwrap();
        assert!(matches!(s.create_role(&scope, named(" readers "), env.now()).await, Err(Error::Conflict(_))));
        assert!(matches!(s.create_role(&scope, named(""), env.now()).await, Err(Error::Validation(_))));
        assert!(matches!(s.create_role(&scope, named(&"r".repeat(51)), env.now()).await, Err(Error::Validation(_))));
        for i in 1..50 {
            s.create_role(&scope, named(&format!("role {i}")), env.now()).await.unwrap();
        }
        assert!(matches!(s.create_role(&scope, named("one too many"), env.now()).await, Err(Error::Conflict(_))));
        assert_eq!(s.list_roles(&scope).await.unwrap().len(), 50);

        // Another tenant's role and application IDs are unknown here.
        let theirs = s.create_application(&other, "theirs", ManagementAccess::None, env.now()).await.unwrap();
        assert!(matches!(s.get_role(&other, &role.id).await, Err(Error::NotFound("role"))));
        assert!(matches!(s.delete_role(&other, &role.id, env.now()).await, Err(Error::NotFound("role"))));
        let ids = vec![role.id.clone()];
        assert!(matches!(
            s.set_application_roles(&other, &theirs.client_id, &ids, env.now()).await,
            Err(Error::NotFound("role"))
        ));
        assert!(matches!(s.application_scopes(&scope, &theirs.client_id).await, Err(Error::NotFound(_))));
        let reaching = RoleInput {
            name: "reach".into(),
            description: String::new(),
            access: vec![RoleAccess { application_id: theirs.client_id.clone(), scopes: vec![] }],
        };
        assert!(matches!(s.update_role(&scope, &role.id, reaching, env.now()).await, Err(Error::NotFound(_))));
    }
}

#[tokio::test]
async fn management_tokens_need_the_management_audience() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let t = tenant.tenant_id.as_str();
        let s = &env.services;
        let admin = s.create_application(&scope, "admin", ManagementAccess::Write, env.now()).await.unwrap();
        let (id, secret) = (admin.client_id.as_str(), admin.secret.as_deref().unwrap());
        assert_eq!(admin.management_url, format!("{}/management/v4/{t}", super::support::PUBLIC_URL));
        let audience = format!("grant_type=client_credentials&audience={}", admin.management_url);
        let token = token_with(&env, t, id, secret, &audience).await.unwrap();
        assert_eq!(token.scope, "appid_default clavis:management:read clavis:management:write");
        assert!(s.granted_scope_for_application(t, &token.access_token, None, env.now()).await.unwrap().can_write());
        let read_only = token_with(&env, t, id, secret, &format!("{audience}&scope=clavis:management:read")).await;
        assert_eq!(read_only.unwrap().scope, "appid_default clavis:management:read");

        // A plain token, or one for another audience, opens nothing.
        let plain = token_with(&env, t, id, secret, "grant_type=client_credentials").await.unwrap();
        assert!(matches!(
            s.granted_scope_for_application(t, &plain.access_token, None, env.now()).await,
            Err(Error::Unauthenticated)
        ));
        let api = protected_api(&env, &scope, "https://billing.example", &["charge"]).await;
        grant(&env, &scope, id, &api, &["charge"]).await;
        let body = format!("grant_type=client_credentials&audience={api}");
        let downstream = token_with(&env, t, id, secret, &body).await.unwrap();
        assert!(!downstream.scope.contains("clavis:"));
        assert!(matches!(
            s.granted_scope_for_application(t, &downstream.access_token, None, env.now()).await,
            Err(Error::Unauthenticated)
        ));
        // The protected application may introspect it; a third one may not.
        let api_view = s.rotate_secret(&scope, &api, 0, env.now()).await.unwrap();
        assert!(introspect(&env, t, &api, &api_view.secret, &downstream.access_token).await.unwrap().active);
        let third = s.create_application(&scope, "third", ManagementAccess::None, env.now()).await.unwrap();
        let seen = introspect(&env, t, &third.client_id, third.secret.as_deref().unwrap(), &downstream.access_token);
        assert!(!seen.await.unwrap().active, "{}", env.backend);

        // Without management access, the management audience is refused.
        let none = s.create_application(&scope, "none", ManagementAccess::None, env.now()).await.unwrap();
        let refused = token_with(&env, t, &none.client_id, none.secret.as_deref().unwrap(), &audience).await;
        assert_eq!(refused.unwrap_err().code, ErrorCode::InvalidTarget);
    }
}

#[tokio::test]
async fn token_settings_bound_the_lifetime_of_new_tokens() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let s = &env.services;
        assert_eq!(s.token_config(&scope).await.unwrap(), TokenConfig { access_expires_in: 3600 });
        for bad in [299, 86_401] {
            let config = TokenConfig { access_expires_in: bad };
            assert!(matches!(s.set_token_config(&scope, config, env.now()).await, Err(Error::Validation(_))));
        }
        let config = TokenConfig { access_expires_in: 900 };
        assert_eq!(s.set_token_config(&scope, config, env.now()).await.unwrap(), config);
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let token = token_with(
            &env,
            &tenant.tenant_id,
            &app.client_id,
            app.secret.as_deref().unwrap(),
            "grant_type=client_credentials",
        );
        assert_eq!(token.await.unwrap().expires_in, 900, "{}", env.backend);
        assert!(env.audit_actions(&tenant.tenant_id).await.contains(&"config.tokens".to_owned()));
    }
}
