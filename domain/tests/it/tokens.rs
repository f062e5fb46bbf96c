//! Token issuance, secret and key rotation, introspection and revocation.

use chrono::Duration;
use clavis_oauth::ErrorCode;
use clavis_oauth::jose::Algorithm;
use clavis_types::ManagementAccess;
use domain::services::NewTenant;

// `token` is a common local name here; the helper keeps its old name.
use super::support::{envs, introspect, kid_of, payload_of, revoke, token as token_code, token_with};

#[tokio::test]
async fn issued_tokens_carry_the_documented_claims() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::Write, env.now()).await.unwrap();
        let (client_id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());
        let api = super::access::protected_api(&env, &scope, "https://api.example.com", &["read"]).await;
        super::access::grant(&env, &scope, client_id, &api, &["read"]).await;
        let body = "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com";
        let token = token_with(&env, &tenant.tenant_id, client_id, secret, body).await.unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in, 3600);
        assert_eq!(token.scope, "appid_default read");
        let claims = introspect(&env, &tenant.tenant_id, client_id, secret, &token.access_token).await.unwrap();
        assert!(claims.active, "verifies");
        assert_eq!(claims.iss.as_deref(), Some(tenant.oauth_server_url.as_str()), "{}", env.backend);
        assert_eq!(claims.aud, Some(vec![api.clone(), "https://api.example.com".into()]));
        assert_eq!(claims.exp.unwrap() - claims.iat.unwrap(), 3600);
        assert_eq!(claims.tenant.as_deref(), Some(tenant.tenant_id.as_str()));
        let payload = payload_of(&token.access_token);
        assert_eq!(payload["amr"], serde_json::json!(["appid_client_credentials"]));
        assert_eq!(payload["gty"], "client-credentials");
        assert_eq!(payload["azp"], app.client_id.as_str());
        // Expired tokens do not verify.
        env.clock.advance(Duration::seconds(3600));
        assert!(!introspect(&env, &tenant.tenant_id, client_id, secret, &token.access_token).await.unwrap().active);
    }
}

#[tokio::test]
async fn every_algorithm_signs() {
    for env in envs().await {
        for alg in Algorithm::ALL {
            let operator = env.cli.operator_scope();
            let tenant = env
                .services
                .create_tenant(&operator, NewTenant { signing_alg: alg, ..NewTenant::named("T") }, env.now())
                .await
                .unwrap();
            let scope = env.cli.tenant_scope(&env.services, &tenant.tenant_id).await.unwrap();
            let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
            let (client_id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());
            let token = token_code(&env, &tenant.tenant_id, client_id, secret).await.unwrap();
            let seen = introspect(&env, &tenant.tenant_id, client_id, secret, &token).await.unwrap();
            assert!(seen.active, "{alg:?}");
            let metadata = env.services.server_metadata(&tenant.tenant_id, env.now()).await.unwrap();
            assert_eq!(metadata.access_token_signing_alg_values_supported, vec![alg.name()]);
        }
    }
}

#[tokio::test]
async fn wrong_secret_other_tenant_and_deleted_clients_are_refused() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let (other, _) = env.tenant("B").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &secret).await.is_ok());
        assert_eq!(token_code(&env, &tenant.tenant_id, &app.client_id, "wrong").await, Err(ErrorCode::InvalidClient));
        assert_eq!(token_code(&env, &other.tenant_id, &app.client_id, &secret).await, Err(ErrorCode::InvalidClient));
        assert_eq!(token_code(&env, &tenant.tenant_id, "not-a-uuid", &secret).await, Err(ErrorCode::InvalidClient));
        env.services.delete_application(&scope, &app.client_id, env.now()).await.unwrap();
        // At once on this process: no waiting for the cache to lapse.
        assert_eq!(
            token_code(&env, &tenant.tenant_id, &app.client_id, &secret).await,
            Err(ErrorCode::InvalidClient),
            "{}",
            env.backend
        );
    }
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_for_the_grace_period() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let old = app.secret.clone().unwrap();
        let rotated = s.rotate_secret(&scope, &app.client_id, 3600, env.now()).await.unwrap();
        assert!(rotated.previous_secret_expires_at.is_some());
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &old).await.is_ok(), "{}", env.backend);
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &rotated.secret).await.is_ok());
        let view = s.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(view.previous_secret.unwrap().last_four, old[39..]);

        env.clock.advance(Duration::seconds(3601));
        assert_eq!(token_code(&env, &tenant.tenant_id, &app.client_id, &old).await, Err(ErrorCode::InvalidClient));
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &rotated.secret).await.is_ok());

        // Revoking the previous secret ends it at once.
        let again = s.rotate_secret(&scope, &app.client_id, 86_400, env.now()).await.unwrap();
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &rotated.secret).await.is_ok());
        s.revoke_previous_secret(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(
            token_code(&env, &tenant.tenant_id, &app.client_id, &rotated.secret).await,
            Err(ErrorCode::InvalidClient)
        );
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &again.secret).await.is_ok());
        assert!(matches!(
            s.revoke_previous_secret(&scope, &app.client_id, env.now()).await,
            Err(domain::Error::NotFound(_))
        ));

        // Grace 0 ends the old secret immediately; out-of-range graces are refused.
        let last = s.rotate_secret(&scope, &app.client_id, 0, env.now()).await.unwrap();
        assert_eq!(
            token_code(&env, &tenant.tenant_id, &app.client_id, &again.secret).await,
            Err(ErrorCode::InvalidClient)
        );
        assert!(token_code(&env, &tenant.tenant_id, &app.client_id, &last.secret).await.is_ok());
        assert!(s.rotate_secret(&scope, &app.client_id, 31 * 86_400, env.now()).await.is_err());
        assert!(s.rotate_secret(&scope, &app.client_id, -1, env.now()).await.is_err());
        let rotations = env.audit_actions(&tenant.tenant_id).await.iter().filter(|a| *a == "secret.rotate").count();
        assert_eq!(rotations, 3, "{}", env.backend);
    }
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_until_they_expire() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        let old_token = token_code(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        let old_kid = kid_of(&old_token);
        let new_kid = s.rotate_signing_key(&scope, None, env.now()).await.unwrap();
        assert_ne!(old_kid, new_kid);
        let new_token = token_code(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        assert_eq!(kid_of(&new_token), new_kid, "{}", env.backend);
        let jwks = s.jwks_json(&tenant.tenant_id, env.now()).await.unwrap();
        assert!(jwks.contains(&old_kid) && jwks.contains(&new_kid));
        assert!(introspect(&env, &tenant.tenant_id, &app.client_id, &secret, &old_token).await.unwrap().active);
        assert!(introspect(&env, &tenant.tenant_id, &app.client_id, &secret, &new_token).await.unwrap().active);

        // Once every token of the old key has expired, it leaves the JWKS.
        env.clock.advance(Duration::seconds(86_400 + 301));
        let later = s.jwks_json(&tenant.tenant_id, env.now()).await.unwrap();
        assert!(!later.contains(&old_kid), "{}", env.backend);
        assert!(later.contains(&new_kid));
        assert!(env.audit_actions(&tenant.tenant_id).await.contains(&"signing_key.rotate".to_owned()));
    }
}

#[tokio::test]
async fn introspection_and_revocation() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let other = s.create_application(&scope, "other", ManagementAccess::None, env.now()).await.unwrap();
        let t = tenant.tenant_id.as_str();
        let caller = (app.client_id.as_str(), app.secret.as_deref().unwrap());
        let other_caller = (other.client_id.as_str(), other.secret.as_deref().unwrap());
        let token = token_code(&env, t, caller.0, caller.1).await.unwrap();
        let active = introspect(&env, t, caller.0, caller.1, &token).await.unwrap();
        assert!(active.active);
        assert_eq!(active.client_id.as_deref(), Some(app.client_id.as_str()));
        // RFC 7662 §4: a third application learns nothing about the token.
        assert!(!introspect(&env, t, other_caller.0, other_caller.1, &token).await.unwrap().active);
        assert!(!introspect(&env, t, caller.0, caller.1, "garbage").await.unwrap().active);

        // Only the client the token was issued to may revoke it.
        assert_eq!(
            revoke(&env, t, other_caller.0, other_caller.1, &token).await.unwrap_err().code,
            ErrorCode::UnauthorizedClient
        );
        revoke(&env, t, caller.0, caller.1, &token).await.unwrap();
        revoke(&env, t, caller.0, caller.1, &token).await.unwrap();
        revoke(&env, t, caller.0, caller.1, "not-a-token").await.unwrap();
        assert!(!introspect(&env, t, caller.0, caller.1, &token).await.unwrap().active, "{}", env.backend);

        // A token of another tenant is inactive here.
        let (b, b_scope) = env.tenant("B").await;
        let b_app = s.create_application(&b_scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let b_token = token_code(&env, &b.tenant_id, &b_app.client_id, b_app.secret.as_deref().unwrap()).await.unwrap();
        assert!(!introspect(&env, t, caller.0, caller.1, &b_token).await.unwrap().active);
    }
}

#[tokio::test]
async fn usage_is_counted_in_memory_and_flushed_in_batches() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        for _ in 0..3 {
            token_code(&env, &tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap()).await.unwrap();
        }
        let before = s.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(before.tokens_issued, 0);
        assert_eq!(before.last_used_at, None);
        assert_eq!(s.flush_usage().await.unwrap(), 1);
        let after = s.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(after.tokens_issued, 3, "{}", env.backend);
        assert!(after.last_used_at.is_some());
        assert_eq!(s.flush_usage().await.unwrap(), 0);

        // Per-minute counts: a new minute opens a new bucket; a second flush
        // into the same minute adds to it.
        env.clock.advance(chrono::Duration::seconds(60));
        for _ in 0..2 {
            token_code(&env, &tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap()).await.unwrap();
        }
        s.flush_usage().await.unwrap();
        token_code(&env, &tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap()).await.unwrap();
        s.flush_usage().await.unwrap();
        // One count per minute, gaps filled, the current minute last.
        let usage = s.token_usage(&scope, &app.client_id, 3, env.now()).await.unwrap();
        assert_eq!(usage.per_minute, [0, 3, 3], "{}", env.backend);
        assert_eq!(usage.total(), 6);
        assert_eq!(usage.from, super::support::t0() - Duration::seconds(60));
        assert_eq!(s.token_usage(&scope, &app.client_id, 1, env.now()).await.unwrap().per_minute, [3]);
        for out_of_range in [0, clavis_types::MAX_USAGE_MINUTES + 1] {
            assert!(matches!(
                s.token_usage(&scope, &app.client_id, out_of_range, env.now()).await,
                Err(domain::Error::Validation(_))
            ));
        }
        let (_, other) = env.tenant("Other").await;
        assert!(matches!(s.token_usage(&other, &app.client_id, 60, env.now()).await, Err(domain::Error::NotFound(_))));
        assert_eq!(s.prune_usage(super::support::t0() + Duration::seconds(60)).await.unwrap(), 1);
        assert_eq!(s.token_usage(&scope, &app.client_id, 3, env.now()).await.unwrap().per_minute, [0, 0, 3]);
        s.delete_application(&scope, &app.client_id, env.now()).await.unwrap();
        let (_, again) = env.tenant("Again").await;
        assert!(s.token_usage(&again, &app.client_id, 60, env.now()).await.is_err());
    }
}

#[tokio::test]
async fn introspection_and_revocation_count_no_tokens() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let (t, client_id, secret) =
            (tenant.tenant_id.as_str(), app.client_id.as_str(), app.secret.as_deref().unwrap());
        let token = token_code(&env, t, client_id, secret).await.unwrap();
        for _ in 0..3 {
            assert!(introspect(&env, t, client_id, secret, &token).await.unwrap().active);
        }
        revoke(&env, t, client_id, secret, &token).await.unwrap();
        revoke(&env, t, client_id, secret, "not-a-token").await.unwrap();
        s.flush_usage().await.unwrap();
        let view = s.get_application(&scope, client_id, env.now()).await.unwrap();
        assert_eq!(view.tokens_issued, 1, "{}: only the token request counts", env.backend);
        assert_eq!(s.token_usage(&scope, client_id, 1, env.now()).await.unwrap().per_minute, [1]);
    }
}

#[tokio::test]
async fn revocations_are_forgotten_once_their_tokens_expire() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let (t, id, secret) = (tenant.tenant_id.as_str(), app.client_id.as_str(), app.secret.as_deref().unwrap());
        let token = token_code(&env, t, id, secret).await.unwrap();
        revoke(&env, t, id, secret, &token).await.unwrap();
        assert_eq!(s.prune_revoked_tokens(env.now()).await.unwrap(), 0, "still valid: the revocation must stay");
        assert!(!introspect(&env, t, id, secret, &token).await.unwrap().active);
        env.clock.advance(Duration::seconds(3600));
        assert_eq!(s.prune_revoked_tokens(env.now()).await.unwrap(), 1, "{}", env.backend);
        assert!(!introspect(&env, t, id, secret, &token).await.unwrap().active, "expired anyway");
    }
}

#[tokio::test]
async fn revoking_all_tokens_of_an_application_ends_them_and_not_later_ones() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let other = s.create_application(&scope, "other", ManagementAccess::None, env.now()).await.unwrap();
        let (t, id, secret) = (tenant.tenant_id.as_str(), app.client_id.as_str(), app.secret.as_deref().unwrap());
        let old = token_code(&env, t, id, secret).await.unwrap();
        let bystander = token_code(&env, t, &other.client_id, other.secret.as_deref().unwrap()).await.unwrap();
        s.revoke_application_tokens(&scope, id, env.now()).await.unwrap();
        assert!(!introspect(&env, t, id, secret, &old).await.unwrap().active, "{}", env.backend);
        let other_secret = other.secret.as_deref().unwrap();
        assert!(introspect(&env, t, &other.client_id, other_secret, &bystander).await.unwrap().active);
        env.clock.advance(Duration::seconds(1));
        let fresh = token_code(&env, t, id, secret).await.unwrap();
        assert!(introspect(&env, t, id, secret, &fresh).await.unwrap().active, "tokens issued later work");
        assert!(env.audit_actions(t).await.contains(&"application.revoke_tokens".to_owned()));
        let (_, elsewhere) = env.tenant("B").await;
        assert!(matches!(
            s.revoke_application_tokens(&elsewhere, id, env.now()).await,
            Err(domain::Error::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn a_revoked_signing_key_leaves_the_jwks_and_its_tokens_fail() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("A").await;
        let s = &env.services;
        let app = s.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let (t, id, secret) = (tenant.tenant_id.as_str(), app.client_id.as_str(), app.secret.as_deref().unwrap());
        let signed = token_code(&env, t, id, secret).await.unwrap();
        let compromised = kid_of(&signed);
        let active = s.revoke_signing_key(&scope, &compromised, env.now()).await.unwrap();
        assert_ne!(active, compromised);
        let jwks = s.jwks_json(t, env.now()).await.unwrap();
        assert!(!jwks.contains(&compromised) && jwks.contains(&active), "{}: {jwks}", env.backend);
        assert!(!introspect(&env, t, id, secret, &signed).await.unwrap().active);
        let next = token_code(&env, t, id, secret).await.unwrap();
        assert_eq!(kid_of(&next), active, "the next key takes over");
        assert!(introspect(&env, t, id, secret, &next).await.unwrap().active);
        // A retired key can be revoked too; a revoked one only once.
        let rotated = s.rotate_signing_key(&scope, None, env.now()).await.unwrap();
        assert!(s.jwks_json(t, env.now()).await.unwrap().contains(&active));
        assert_eq!(s.revoke_signing_key(&scope, &active, env.now()).await.unwrap(), rotated);
        assert!(!s.jwks_json(t, env.now()).await.unwrap().contains(&active));
        assert!(!introspect(&env, t, id, secret, &next).await.unwrap().active);
        assert!(matches!(s.revoke_signing_key(&scope, &active, env.now()).await, Err(domain::Error::Conflict(_))));
        let (_, elsewhere) = env.tenant("B").await;
        assert!(matches!(s.revoke_signing_key(&elsewhere, &rotated, env.now()).await, Err(domain::Error::NotFound(_))));
        assert!(env.audit_actions(t).await.contains(&"signing_key.revoke".to_owned()));
    }
}
