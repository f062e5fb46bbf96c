//! Token issuance, secret and key rotation, introspection and revocation.

use chrono::Duration;
use domain::keys::SigningAlg;
use domain::oauth::ErrorCode;
use domain::services::{ManagementAccess, NewTenant};

// `token` is a common local name here; the helper keeps its old name.
use super::support::{envs, request, token as token_code};

#[tokio::test]
async fn issued_tokens_carry_the_documented_claims() {
    for env in envs().await {
        let (tenant, scope) = env.tenant("Acme").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::Write, env.now()).await.unwrap();
        let runtime = env.services.tenant_runtime(&tenant.tenant_id, env.now()).await.unwrap().unwrap();
        let mut req = request(&app.client_id, app.secret.as_deref().unwrap());
        req.audiences = vec!["https://api.example.com".into()];
        let token = env.services.issue_token(&runtime, &req, env.now()).await.unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in, 3600);
        assert_eq!(token.scope, "appid_default clavis:management:read clavis:management:write");
        let claims = env.services.verify_access_token(&runtime, &token.access_token, env.now()).expect("verifies");
        assert_eq!(claims.iss, tenant.oauth_server_url, "{}", env.backend);
        assert_eq!(claims.aud, vec![app.client_id.clone(), "https://api.example.com".into()]);
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!(claims.tenant, tenant.tenant_id);
        let payload: serde_json::Value = {
            use base64::Engine;
            let part = token.access_token.split('.').nth(1).unwrap();
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        assert_eq!(payload["amr"], serde_json::json!(["appid_client_credentials"]));
        assert_eq!(payload["gty"], "client-credentials");
        assert_eq!(payload["azp"], app.client_id.as_str());
        // Expired tokens do not verify.
        assert!(
            env.services
                .verify_access_token(&runtime, &token.access_token, env.now() + Duration::seconds(3600))
                .is_none()
        );
    }
}

#[tokio::test]
async fn every_algorithm_signs() {
    for env in envs().await {
        for alg in SigningAlg::ALL {
            let operator = env.services.operator_scope_for_cli();
            let tenant = env
                .services
                .create_tenant(&operator, NewTenant { signing_alg: alg, ..NewTenant::named("T") }, env.now())
                .await
                .unwrap();
            let scope = env.services.scope_for_cli(&tenant.tenant_id).await.unwrap();
            let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
            let token =
                token_code(&env, &tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap()).await.unwrap();
            let runtime = env.services.tenant_runtime(&tenant.tenant_id, env.now()).await.unwrap().unwrap();
            assert!(env.services.verify_access_token(&runtime, &token, env.now()).is_some(), "{alg:?}");
            assert_eq!(runtime.published_algs, vec![alg.as_str()]);
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
        let old_kid = s.tenant_runtime(&tenant.tenant_id, env.now()).await.unwrap().unwrap().signer.kid().to_owned();
        let new_kid = s.rotate_signing_key(&scope, None, env.now()).await.unwrap();
        assert_ne!(old_kid, new_kid);
        let runtime = s.tenant_runtime(&tenant.tenant_id, env.now()).await.unwrap().unwrap();
        assert_eq!(runtime.signer.kid(), new_kid, "{}", env.backend);
        assert!(runtime.jwks_json.contains(&old_kid) && runtime.jwks_json.contains(&new_kid));
        assert!(s.verify_access_token(&runtime, &old_token, env.now()).is_some());
        let new_token = token_code(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        assert!(s.verify_access_token(&runtime, &new_token, env.now()).is_some());

        // Once every token of the old key has expired, it leaves the JWKS.
        env.clock.advance(Duration::seconds(86_400 + 301));
        let later = s.tenant_runtime(&tenant.tenant_id, env.now()).await.unwrap().unwrap();
        assert!(!later.jwks_json.contains(&old_kid), "{}", env.backend);
        assert!(later.jwks_json.contains(&new_kid));
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
        let runtime = s.tenant_runtime(&tenant.tenant_id, env.now()).await.unwrap().unwrap();
        let caller = s
            .authenticate_client(
                &tenant.tenant_id,
                &request(&app.client_id, app.secret.as_deref().unwrap()).credentials,
                env.now(),
            )
            .await
            .unwrap();
        let other_caller = s
            .authenticate_client(
                &tenant.tenant_id,
                &request(&other.client_id, other.secret.as_deref().unwrap()).credentials,
                env.now(),
            )
            .await
            .unwrap();
        let token = token_code(&env, &tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap()).await.unwrap();
        let active = s.introspect(&runtime, &other_caller, &token, env.now()).await.unwrap();
        assert!(active.active);
        assert_eq!(active.client_id.as_deref(), Some(app.client_id.as_str()));
        assert!(!s.introspect(&runtime, &caller, "garbage", env.now()).await.unwrap().active);

        // Only the client the token was issued to may revoke it.
        assert_eq!(
            s.revoke(&runtime, &other_caller, &token, env.now()).await.unwrap_err().code,
            ErrorCode::UnauthorizedClient
        );
        s.revoke(&runtime, &caller, &token, env.now()).await.unwrap();
        s.revoke(&runtime, &caller, &token, env.now()).await.unwrap();
        s.revoke(&runtime, &caller, "not-a-token", env.now()).await.unwrap();
        assert!(!s.introspect(&runtime, &caller, &token, env.now()).await.unwrap().active, "{}", env.backend);

        // A token of another tenant is inactive here.
        let (b, b_scope) = env.tenant("B").await;
        let b_app = s.create_application(&b_scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let b_token = token_code(&env, &b.tenant_id, &b_app.client_id, b_app.secret.as_deref().unwrap()).await.unwrap();
        assert!(!s.introspect(&runtime, &caller, &b_token, env.now()).await.unwrap().active);
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
        let minutes = s.usage_per_minute(&scope, &app.client_id, super::support::t0()).await.unwrap();
        assert_eq!(minutes.iter().map(|m| m.tokens).collect::<Vec<_>>(), [3, 3], "{}", env.backend);
        let later =
            s.usage_per_minute(&scope, &app.client_id, super::support::t0() + Duration::seconds(60)).await.unwrap();
        assert_eq!(later.len(), 1);
        // The chart's view: one count per minute, gaps filled, the current
        // minute last.
        let usage = s.token_usage(&scope, &app.client_id, 3, env.now()).await.unwrap();
        assert_eq!(usage.per_minute, [0, 3, 3], "{}", env.backend);
        assert_eq!(usage.total(), 6);
        assert_eq!(usage.from_unix, super::support::t0().timestamp() - 60);
        assert_eq!(s.token_usage(&scope, &app.client_id, 1, env.now()).await.unwrap().per_minute, [3]);
        for out_of_range in [0, domain::services::MAX_USAGE_MINUTES + 1] {
            assert!(matches!(
                s.token_usage(&scope, &app.client_id, out_of_range, env.now()).await,
                Err(domain::Error::Validation(_))
            ));
        }
        let (_, other) = env.tenant("Other").await;
        assert!(matches!(
            s.usage_per_minute(&other, &app.client_id, super::support::t0()).await,
            Err(domain::Error::NotFound(_))
        ));
        assert!(matches!(s.token_usage(&other, &app.client_id, 60, env.now()).await, Err(domain::Error::NotFound(_))));
        assert_eq!(s.prune_usage(super::support::t0() + Duration::seconds(60)).await.unwrap(), 1);
        assert_eq!(s.usage_per_minute(&scope, &app.client_id, super::support::t0()).await.unwrap().len(), 1);
        s.delete_application(&scope, &app.client_id, env.now()).await.unwrap();
        let (_, again) = env.tenant("Again").await;
        assert!(s.usage_per_minute(&again, &app.client_id, super::support::t0()).await.is_err());
    }
}
