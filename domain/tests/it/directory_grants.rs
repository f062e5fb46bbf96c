//! The password and refresh-token grants of Cloud Directory users, their
//! tokens, revocation, userinfo, and how changes to a user end their
//! sessions.

use chrono::Duration;
use clavis_oauth::ErrorCode;
use clavis_types::ManagementAccess;
use domain::services::{DirectoryUserUpdate, RefreshConfig, TokenResponse, UserStatus};
use domain::{TenantScope, Write};

use super::directory::{PASSWORD, sign_up};
use super::support::{TestEnv, envs, payload_of, revoke, token_with};

struct Client {
    tenant_id: String,
    client_id: String,
    secret: String,
}

async fn client(env: &TestEnv, scope: &TenantScope<Write>) -> Client {
    let app = env.services.create_application(scope, "web", ManagementAccess::None, env.now()).await.unwrap();
    Client { tenant_id: scope.tenant_id().into(), client_id: app.client_id, secret: app.secret.unwrap() }
}

fn form_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn password_grant(
    env: &TestEnv,
    client: &Client,
    username: &str,
    password: &str,
    extra: &str,
) -> Result<TokenResponse, clavis_oauth::OAuthError> {
    let body =
        format!("grant_type=password&username={}&password={}{extra}", form_value(username), form_value(password));
    token_with(env, &client.tenant_id, &client.client_id, &client.secret, &body).await
}

async fn refresh(env: &TestEnv, client: &Client, token: &str) -> Result<TokenResponse, clavis_oauth::OAuthError> {
    let body = format!("grant_type=refresh_token&refresh_token={}", form_value(token));
    token_with(env, &client.tenant_id, &client.client_id, &client.secret, &body).await
}

#[tokio::test]
async fn the_password_grant_returns_access_id_and_refresh_tokens_with_the_documented_claims() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        let user = sign_up(&env, &scope, "Ada@Example.com").await;
        let answer = password_grant(&env, &web, "ada@example.com", PASSWORD, "").await.unwrap();
        assert_eq!(answer.token_type, "Bearer");
        assert!(answer.scope.split(' ').any(|s| s == "openid"), "{}", answer.scope);
        let access = payload_of(&answer.access_token);
        assert_eq!(access["sub"], user.id.as_str());
        assert_eq!(access["amr"], serde_json::json!(["cloud_directory"]));
        assert_eq!(access["aud"], serde_json::json!([web.client_id]));
        let id_token = answer.id_token.as_deref().expect("an ID token");
        let id = payload_of(id_token);
        assert_eq!(id["iss"], tenant.oauth_server_url.as_str());
        assert_eq!(id["sub"], user.id.as_str());
        assert_eq!(id["aud"], serde_json::json!([web.client_id]), "aud is an array with the client ID");
        assert_eq!(id["email"], "Ada@Example.com");
        assert_eq!(id["name"], "Ada Lovelace");
        assert_eq!((id["given_name"].as_str(), id["family_name"].as_str()), (Some("Ada"), Some("Lovelace")));
        assert_eq!(id["tenant"], tenant.tenant_id.as_str());
        assert_eq!(id["auth_time"], env.now().timestamp());
        assert_eq!(id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(), 3600);
        let header = super::support::header_of(id_token);
        assert_eq!((header["ver"].as_i64(), header["typ"].as_str()), (Some(4), Some("JWT")));
        assert_eq!(header["alg"], "RS256");
        assert!(answer.refresh_token.as_deref().is_some_and(|t| t.len() >= 43));
    }
}

#[tokio::test]
async fn wrong_password_unknown_and_disabled_users_get_the_same_invalid_grant() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        let bob = sign_up(&env, &scope, "bob@example.com").await;
        env.services.set_directory_user_active(&scope, &bob.id, false, env.now()).await.unwrap();
        let pending = super::directory::new_user("pending@example.com");
        let pending = domain::services::NewDirectoryUser { status: UserStatus::Pending, ..pending };
        env.services.sign_up_directory_user(&scope, pending, env.now()).await.unwrap();
        let mut descriptions = Vec::new();
        for (username, password) in [
            ("ada@example.com", "wrong-password-1"),
            ("nobody@example.com", PASSWORD),
            ("bob@example.com", PASSWORD),
            ("pending@example.com", PASSWORD),
        ] {
            let err = password_grant(&env, &web, username, password, "").await.unwrap_err();
            assert_eq!((err.status, err.code), (400, ErrorCode::InvalidGrant), "{username}");
            descriptions.push(err.description.to_string());
        }
        descriptions.dedup();
        assert_eq!(descriptions.len(), 1, "one answer for every failure: {descriptions:?}");
        // A wrong client secret is the client's failure, not the user's.
        let bad_client = Client { secret: "wrong".into(), ..client(&env, &scope).await };
        let err = password_grant(&env, &bad_client, "ada@example.com", PASSWORD, "").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidClient);
        assert!(password_grant(&env, &web, &ada.email, PASSWORD, "").await.is_ok());
        // Another tenant's client cannot sign the user in.
        let (_, other) = env.tenant("Other").await;
        let foreign = client(&env, &other).await;
        let err = password_grant(&env, &foreign, "ada@example.com", PASSWORD, "").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
    }
}

#[tokio::test]
async fn repeated_failures_for_one_user_from_one_address_are_throttled() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        sign_up(&env, &scope, "ada@example.com").await;
        let authorization = format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{}:{}", web.client_id, web.secret)
            )
        );
        let addr: std::net::IpAddr = "203.0.113.9".parse().unwrap();
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let body = "grant_type=password&username=ada%40example.com&password=wrong-password-1";
            let raw = clavis_oauth::request::RawRequest {
                authorization: Some(authorization.as_bytes()),
                several_authorizations: false,
                content_type: Some(b"application/x-www-form-urlencoded"),
                body: Some(body.as_bytes()),
                dpop: None,
                several_dpops: false,
            };
            statuses.push(env.services.token(&web.tenant_id, raw, Some(addr), env.now()).await.unwrap_err().status);
        }
        assert_eq!(statuses.first(), Some(&400));
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        sign_up(&env, &scope, "ada@example.com").await;
        let first = password_grant(&env, &web, "ada@example.com", PASSWORD, "").await.unwrap();
        let r1 = first.refresh_token.clone().unwrap();
        env.clock.advance(Duration::seconds(10));
        let second = refresh(&env, &web, &r1).await.unwrap();
        let r2 = second.refresh_token.clone().unwrap();
        assert_ne!(r1, r2, "rotated");
        assert!(second.id_token.is_some());
        assert_eq!(payload_of(second.id_token.as_deref().unwrap())["auth_time"], first_auth_time(&first));
        // The spent token comes back: both it and its successor are dead.
        let reuse = refresh(&env, &web, &r1).await.unwrap_err();
        assert_eq!(reuse.code, ErrorCode::InvalidGrant);
        assert_eq!(refresh(&env, &web, &r2).await.unwrap_err().code, ErrorCode::InvalidGrant, "family revoked");
        assert!(env.audit_actions(&web.tenant_id).await.contains(&"refresh_token.reuse".to_owned()));
        // Bound to the client: another client of the tenant cannot use one.
        let fresh = password_grant(&env, &web, "ada@example.com", PASSWORD, "").await.unwrap().refresh_token.unwrap();
        let other = client(&env, &scope).await;
        assert_eq!(refresh(&env, &other, &fresh).await.unwrap_err().code, ErrorCode::InvalidGrant);
        assert!(refresh(&env, &web, &fresh).await.is_ok(), "a refusal for another client spends nothing");
        assert_eq!(refresh(&env, &web, "garbage").await.unwrap_err().code, ErrorCode::InvalidGrant);
    }
}

fn first_auth_time(answer: &TokenResponse) -> serde_json::Value {
    payload_of(answer.id_token.as_deref().unwrap())["auth_time"].clone()
}

#[tokio::test]
async fn refresh_tokens_expire_can_be_turned_off_and_only_narrow_scopes() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        sign_up(&env, &scope, "ada@example.com").await;
        let config = RefreshConfig { enabled: true, expires_in: 600 };
        env.services.set_refresh_config(&scope, config, env.now()).await.unwrap();
        let answer = password_grant(&env, &web, "ada@example.com", PASSWORD, "&scope=openid").await.unwrap();
        let token = answer.refresh_token.unwrap();
        let wider = format!("grant_type=refresh_token&refresh_token={}&scope=openid+admin", form_value(&token));
        let err = token_with(&env, &web.tenant_id, &web.client_id, &web.secret, &wider).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        env.clock.advance(Duration::seconds(601));
        assert_eq!(refresh(&env, &web, &token).await.unwrap_err().code, ErrorCode::InvalidGrant, "expired");
        let off = RefreshConfig { enabled: false, expires_in: 600 };
        env.services.set_refresh_config(&scope, off, env.now()).await.unwrap();
        assert_eq!(env.services.refresh_config(&scope).await.unwrap(), off);
        let answer = password_grant(&env, &web, "ada@example.com", PASSWORD, "").await.unwrap();
        assert!(answer.refresh_token.is_none(), "no refresh token while they are off");
        let bad = RefreshConfig { enabled: true, expires_in: 0 };
        assert!(env.services.set_refresh_config(&scope, bad, env.now()).await.is_err());
    }
}

#[tokio::test]
async fn disabling_deleting_or_a_new_password_ends_refresh_tokens() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        let grant = || password_grant(&env, &web, "ada@example.com", PASSWORD, "");
        let token = grant().await.unwrap().refresh_token.unwrap();
        env.services.change_directory_password(&scope, &ada.id, PASSWORD.into(), env.now()).await.unwrap();
        assert_eq!(refresh(&env, &web, &token).await.unwrap_err().code, ErrorCode::InvalidGrant, "new password");
        let token = grant().await.unwrap().refresh_token.unwrap();
        env.services.set_directory_user_active(&scope, &ada.id, false, env.now()).await.unwrap();
        assert_eq!(refresh(&env, &web, &token).await.unwrap_err().code, ErrorCode::InvalidGrant, "disabled");
        env.services.set_directory_user_active(&scope, &ada.id, true, env.now()).await.unwrap();
        let token = grant().await.unwrap().refresh_token.unwrap();
        let update = DirectoryUserUpdate {
            email: ada.email.clone(),
            user_name: None,
            given_name: String::new(),
            family_name: String::new(),
            active: true,
            status: UserStatus::Confirmed,
            password: Some("another-long-passphrase".into()),
        };
        env.services.update_directory_user(&scope, &ada.id, update, env.now()).await.unwrap();
        assert_eq!(refresh(&env, &web, &token).await.unwrap_err().code, ErrorCode::InvalidGrant, "password by PUT");
        let token = password_grant(&env, &web, "ada@example.com", "another-long-passphrase", "")
            .await
            .unwrap()
            .refresh_token
            .unwrap();
        env.services.delete_directory_user(&scope, &ada.id, env.now()).await.unwrap();
        assert_eq!(refresh(&env, &web, &token).await.unwrap_err().code, ErrorCode::InvalidGrant, "deleted");
    }
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family_and_only_its_client_may() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        let other = client(&env, &scope).await;
        sign_up(&env, &scope, "ada@example.com").await;
        let r1 = password_grant(&env, &web, "ada@example.com", PASSWORD, "").await.unwrap().refresh_token.unwrap();
        let r2 = refresh(&env, &web, &r1).await.unwrap().refresh_token.unwrap();
        let refused = revoke(&env, &web.tenant_id, &other.client_id, &other.secret, &r2).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::UnauthorizedClient);
        revoke(&env, &web.tenant_id, &web.client_id, &web.secret, &r2).await.unwrap();
        assert_eq!(refresh(&env, &web, &r2).await.unwrap_err().code, ErrorCode::InvalidGrant);
        // RFC 7009 §2.2: an unknown token is not an error.
        revoke(&env, &web.tenant_id, &web.client_id, &web.secret, "unknown").await.unwrap();
    }
}

#[tokio::test]
async fn userinfo_answers_for_active_user_tokens_only() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        let answer = password_grant(&env, &web, "ada@example.com", PASSWORD, "").await.unwrap();
        let info = env.services.userinfo(&tenant.tenant_id, &answer.access_token, env.now()).await.unwrap().unwrap();
        assert_eq!(
            (info.sub.as_str(), info.email.as_str(), info.name.as_str()),
            (ada.id.as_str(), "ada@example.com", "Ada Lovelace")
        );
        // A client's own token names no user.
        let own = super::support::token(&env, &web.tenant_id, &web.client_id, &web.secret).await.unwrap();
        assert!(env.services.userinfo(&tenant.tenant_id, &own, env.now()).await.unwrap().is_none());
        // Another tenant's endpoint does not accept it.
        let (other, _) = env.tenant("Other").await;
        assert!(env.services.userinfo(&other.tenant_id, &answer.access_token, env.now()).await.unwrap().is_none());
        assert!(env.services.userinfo(&tenant.tenant_id, "not.a.token", env.now()).await.unwrap().is_none());
        env.clock.advance(Duration::seconds(1));
        env.services.set_directory_user_active(&scope, &ada.id, false, env.now()).await.unwrap();
        assert!(env.services.userinfo(&tenant.tenant_id, &answer.access_token, env.now()).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_users_roles_decide_the_scopes_on_the_audience_they_name() {
    for env in envs().await {
        let (_, scope) = env.tenant("Acme").await;
        let web = client(&env, &scope).await;
        let ada = sign_up(&env, &scope, "ada@example.com").await;
        let api = super::access::protected_api(&env, &scope, "https://api.example.com", &["read", "write"]).await;
        let audience = "&audience=https%3A%2F%2Fapi.example.com";
        let err = password_grant(&env, &web, "ada@example.com", PASSWORD, audience).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTarget, "no role grants anything on it yet");
        let input = domain::services::RoleInput {
            name: "reader".into(),
            description: String::new(),
            access: vec![domain::services::RoleAccess { application_id: api.clone(), scopes: vec!["read".into()] }],
        };
        let role = env.services.create_role(&scope, input, env.now()).await.unwrap();
        env.services.set_directory_user_roles(&scope, &ada.profile_id, &[role.id], env.now()).await.unwrap();
        let answer = password_grant(&env, &web, "ada@example.com", PASSWORD, audience).await.unwrap();
        let claims = payload_of(&answer.access_token);
        assert_eq!(claims["aud"], serde_json::json!([api, "https://api.example.com"]));
        assert_eq!(claims["scope"], "appid_default read openid");
        let management = format!("&audience={}", form_value(&env.services.management_url(&web.tenant_id)));
        let err = password_grant(&env, &web, "ada@example.com", PASSWORD, &management).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTarget, "users never get management tokens");
    }
}

/// Rotation is decided in the database: a refresh token spent through one
/// replica is a reused one at another, which revokes the family there too.
#[tokio::test]
async fn a_refresh_token_spent_at_one_replica_is_reuse_at_another() {
    for db in super::support::SharedDb::all().await {
        let a = db.instance().await;
        let b = db.instance().await;
        let (_, scope) = a.tenant("Acme").await;
        let web = client(&a, &scope).await;
        sign_up(&a, &scope, "ada@example.com").await;
        let first = password_grant(&a, &web, "ada@example.com", PASSWORD, "").await.unwrap().refresh_token.unwrap();
        let successor = refresh(&a, &web, &first).await.unwrap().refresh_token.unwrap();
        let reuse = refresh(&b, &web, &first).await.unwrap_err();
        assert_eq!(reuse.code, ErrorCode::InvalidGrant, "{}", db.backend);
        let revoked = refresh(&a, &web, &successor).await.unwrap_err();
        assert_eq!(revoked.code, ErrorCode::InvalidGrant, "{}: the family is revoked for every replica", db.backend);
    }
}
