//! The token endpoint's fast path stays correct: it makes no database write
//! (statements counted on the connection), and a rotated, revoked or deleted
//! credential is refused at once by the process that changed it and, within
//! the cache bound, by another process sharing the database.

use chrono::Duration;
use clavis_oauth::ErrorCode;
use clavis_types::ManagementAccess;
use domain::services::CLIENT_CACHE_TTL_SECS;

use super::support::{SharedDb, TestEnv, introspect, is_write, kid_of, token, token_with};

async fn accepted(env: &TestEnv, tenant_id: &str, client_id: &str, secret: &str) -> bool {
    match token(env, tenant_id, client_id, secret).await {
        Ok(_) => true,
        Err(ErrorCode::InvalidClient) => false,
        Err(other) => panic!("unexpected {other:?} on {}", env.backend),
    }
}

fn cache_bound() -> Duration {
    Duration::seconds(CLIENT_CACHE_TTL_SECS)
}

#[tokio::test]
async fn token_requests_make_no_database_write() {
    const N: usize = 100;
    for db in SharedDb::all().await {
        let (env, log) = db.logged_instance().await;
        let (tenant, scope) = env.tenant("Acme").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        let unknown = uuid::Uuid::new_v4().to_string();
        // The changes above wrote, and the log saw it.
        assert!(log.take().iter().any(|sql| is_write(sql)), "{}: the statement log records nothing", db.backend);

        // Warm-up: the tenant runtime and the client are loaded once.
        token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        assert!(!accepted(&env, &tenant.tenant_id, &unknown, &secret).await);
        let warm_up = log.take();
        assert!(!warm_up.is_empty(), "{}: the first request reads the database", db.backend);
        assert!(!warm_up.iter().any(|sql| is_write(sql)), "{}: warm-up wrote: {warm_up:?}", db.backend);

        // Warm cache: no statement at all, accepted or refused.
        for _ in 0..N {
            token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        }
        for _ in 0..10 {
            assert!(!accepted(&env, &tenant.tenant_id, &app.client_id, "wrong").await);
            assert!(!accepted(&env, &tenant.tenant_id, &unknown, &secret).await);
        }
        let warm = log.take();
        assert!(warm.is_empty(), "{}: {N} token requests on a warm cache ran {warm:?}", db.backend);

        // Across several cache lifetimes: reloads read, nothing writes.
        for _ in 0..3 {
            env.clock.advance(cache_bound());
            for _ in 0..N / 4 {
                token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
            }
        }
        let reloads = log.take();
        assert!(!reloads.is_empty(), "{}: expired cache entries were not reloaded", db.backend);
        let writes: Vec<&String> = reloads.iter().filter(|sql| is_write(sql)).collect();
        assert!(writes.is_empty(), "{}: token requests wrote: {writes:?}", db.backend);

        // The usage is written by the batch flush, not by the requests.
        assert_eq!(env.services.flush_usage().await.unwrap(), 1);
        assert!(log.take().iter().any(|sql| is_write(sql)), "{}: the flush wrote nothing", db.backend);
        let view = env.services.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(view.tokens_issued, (1 + N + 3 * (N / 4)) as i64, "{}", db.backend);
    }
}

/// Two services on one database, clocks in step: `here` makes the changes,
/// `there` stands for another process.
struct Pair {
    here: TestEnv,
    there: TestEnv,
}

impl Pair {
    async fn on(db: &SharedDb) -> Self {
        Self { here: db.instance().await, there: db.instance().await }
    }

    /// Both clocks move past the cache bound.
    fn wait_out_the_cache(&self) {
        self.here.clock.advance(cache_bound());
        self.there.clock.advance(cache_bound());
    }
}

#[tokio::test]
async fn a_rotated_secret_is_refused_here_at_once_and_elsewhere_within_the_bound() {
    for db in SharedDb::all().await {
        let pair = Pair::on(&db).await;
        let (tenant, scope) = pair.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app = pair
            .here
            .services
            .create_application(&scope, "svc", ManagementAccess::None, pair.here.now())
            .await
            .unwrap();
        let old = app.secret.clone().unwrap();
        // Both processes have the client cached.
        assert!(accepted(&pair.here, t, &app.client_id, &old).await);
        assert!(accepted(&pair.there, t, &app.client_id, &old).await);

        let rotated = pair.here.services.rotate_secret(&scope, &app.client_id, 0, pair.here.now()).await.unwrap();
        assert!(
            !accepted(&pair.here, t, &app.client_id, &old).await,
            "{}: old secret accepted after rotation",
            db.backend
        );
        assert!(accepted(&pair.here, t, &app.client_id, &rotated.secret).await, "{}", db.backend);

        pair.wait_out_the_cache();
        assert!(!accepted(&pair.there, t, &app.client_id, &old).await, "{}: old secret accepted elsewhere", db.backend);
        assert!(
            accepted(&pair.there, t, &app.client_id, &rotated.secret).await,
            "{}: new secret unknown elsewhere",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_revoked_previous_secret_is_refused_here_at_once_and_elsewhere_within_the_bound() {
    for db in SharedDb::all().await {
        let pair = Pair::on(&db).await;
        let (tenant, scope) = pair.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app = pair
            .here
            .services
            .create_application(&scope, "svc", ManagementAccess::None, pair.here.now())
            .await
            .unwrap();
        let old = app.secret.clone().unwrap();
        // A day of grace: both secrets work in both processes.
        let rotated = pair.here.services.rotate_secret(&scope, &app.client_id, 86_400, pair.here.now()).await.unwrap();
        for env in [&pair.here, &pair.there] {
            assert!(accepted(env, t, &app.client_id, &old).await, "{}", db.backend);
            assert!(accepted(env, t, &app.client_id, &rotated.secret).await, "{}", db.backend);
        }

        pair.here.services.revoke_previous_secret(&scope, &app.client_id, pair.here.now()).await.unwrap();
        assert!(!accepted(&pair.here, t, &app.client_id, &old).await, "{}: revoked secret accepted", db.backend);
        assert!(accepted(&pair.here, t, &app.client_id, &rotated.secret).await, "{}", db.backend);

        pair.wait_out_the_cache();
        assert!(
            !accepted(&pair.there, t, &app.client_id, &old).await,
            "{}: revoked secret accepted elsewhere",
            db.backend
        );
        assert!(accepted(&pair.there, t, &app.client_id, &rotated.secret).await, "{}", db.backend);
    }
}

#[tokio::test]
async fn a_deleted_application_is_refused_here_at_once_and_elsewhere_within_the_bound() {
    for db in SharedDb::all().await {
        let pair = Pair::on(&db).await;
        let (tenant, scope) = pair.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app = pair
            .here
            .services
            .create_application(&scope, "svc", ManagementAccess::None, pair.here.now())
            .await
            .unwrap();
        let secret = app.secret.clone().unwrap();
        assert!(accepted(&pair.here, t, &app.client_id, &secret).await);
        assert!(accepted(&pair.there, t, &app.client_id, &secret).await);

        pair.here.services.delete_application(&scope, &app.client_id, pair.here.now()).await.unwrap();
        assert!(!accepted(&pair.here, t, &app.client_id, &secret).await, "{}: deleted client accepted", db.backend);

        pair.wait_out_the_cache();
        assert!(
            !accepted(&pair.there, t, &app.client_id, &secret).await,
            "{}: deleted client accepted elsewhere",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_new_signing_key_is_used_here_at_once_and_elsewhere_within_the_bound() {
    for db in SharedDb::all().await {
        let pair = Pair::on(&db).await;
        let (tenant, scope) = pair.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app = pair
            .here
            .services
            .create_application(&scope, "svc", ManagementAccess::None, pair.here.now())
            .await
            .unwrap();
        let secret = app.secret.clone().unwrap();
        // The key a process signs with: the kid of a token it issues now.
        let kid = async |env: &TestEnv| kid_of(&token(env, t, &app.client_id, &secret).await.unwrap());
        let old = kid(&pair.here).await;
        assert_eq!(kid(&pair.there).await, old);

        let new = pair.here.services.rotate_signing_key(&scope, None, pair.here.now()).await.unwrap();
        assert_ne!(new, old);
        assert_eq!(kid(&pair.here).await, new, "{}", db.backend);

        pair.wait_out_the_cache();
        assert_eq!(kid(&pair.there).await, new, "{}: the old key still signs elsewhere", db.backend);
        let jwks = pair.there.services.jwks_json(t, pair.there.now()).await.unwrap();
        assert!(jwks.contains(&old) && jwks.contains(&new), "{}", db.backend);
    }
}

#[tokio::test]
async fn a_removed_role_and_revoked_tokens_are_honoured_elsewhere_within_the_bound() {
    for db in SharedDb::all().await {
        let pair = Pair::on(&db).await;
        let (tenant, scope) = pair.here.tenant("Acme").await;
        let t = tenant.tenant_id.as_str();
        let api = super::access::protected_api(&pair.here, &scope, "https://inventory.example", &["read"]).await;
        let caller = pair
            .here
            .services
            .create_application(&scope, "caller", ManagementAccess::None, pair.here.now())
            .await
            .unwrap();
        let (id, secret) = (caller.client_id.as_str(), caller.secret.as_deref().unwrap());
        let role = super::access::grant(&pair.here, &scope, id, &api, &["read"]).await;
        let body = format!("grant_type=client_credentials&audience={api}");
        // The other process has the caller, with its grants, cached.
        let token = token_with(&pair.there, t, id, secret, &body).await.unwrap();
        assert_eq!(token.scope, "appid_default read", "{}", db.backend);

        pair.here.services.delete_role(&scope, &role, pair.here.now()).await.unwrap();
        pair.here.services.revoke_application_tokens(&scope, id, pair.here.now()).await.unwrap();
        assert!(token_with(&pair.here, t, id, secret, &body).await.is_err(), "at once here");
        pair.wait_out_the_cache();
        let refused = token_with(&pair.there, t, id, secret, &body).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidTarget, "{}: the role still grants elsewhere", db.backend);
        let seen = introspect(&pair.there, t, id, secret, &token.access_token).await.unwrap();
        assert!(!seen.active, "{}: the revoked token is still active elsewhere", db.backend);
    }
}
