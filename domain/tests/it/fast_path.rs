//! The token endpoint's fast path: it makes no database write (statements
//! counted on the connection), and while every change reaches the process
//! (SQLite, or PostgreSQL with its invalidation listener) it does not return
//! to the database for unchanged clients however long they stay in use.
//! Changes made elsewhere are the subject of `invalidation.rs`.

use chrono::Duration;
use clavis_oauth::ErrorCode;
use clavis_types::ManagementAccess;
use domain::services::FALLBACK_CACHE_TTL_SECS;

use super::invalidation::listening;
use super::support::{SharedDb, TestEnv, is_write, token};

async fn accepted(env: &TestEnv, tenant_id: &str, client_id: &str, secret: &str) -> bool {
    match token(env, tenant_id, client_id, secret).await {
        Ok(_) => true,
        Err(ErrorCode::InvalidClient) => false,
        Err(other) => panic!("unexpected {other:?} on {}", env.backend),
    }
}

#[tokio::test]
async fn token_requests_make_no_database_write() {
    const N: usize = 100;
    for db in SharedDb::all().await {
        let (env, log) = db.logged_instance().await;
        // The listener's own connection is not the logged one.
        let _listener = listening(&env).await;
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

        // Hours later, with nothing changed: still no statement.
        for _ in 0..3 {
            env.clock.advance(Duration::hours(1));
            for _ in 0..N / 4 {
                token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
            }
        }
        let later = log.take();
        assert!(later.is_empty(), "{}: unchanged clients were reloaded: {later:?}", db.backend);

        // The usage is written by the batch flush, not by the requests.
        assert_eq!(env.services.flush_usage().await.unwrap(), 1);
        assert!(log.take().iter().any(|sql| is_write(sql)), "{}: the flush wrote nothing", db.backend);
        let view = env.services.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(view.tokens_issued, (1 + N + 3 * (N / 4)) as i64, "{}", db.backend);
    }
}

/// Without a listener (a command-line process, or a server whose listener
/// is down) nothing tells the process of changes made elsewhere, so its
/// entries are reloaded once they are a second old; the reloads only read.
#[tokio::test]
async fn without_a_listener_entries_are_reloaded_after_the_fallback_ttl() {
    for db in SharedDb::all().await {
        let (env, log) = db.logged_instance().await;
        let (tenant, scope) = env.tenant("Acme").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        log.take();
        env.clock.advance(Duration::milliseconds(FALLBACK_CACHE_TTL_SECS * 1000 - 1));
        token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        assert!(log.take().is_empty(), "an entry younger than the fallback TTL was reloaded");
        for _ in 0..3 {
            env.clock.advance(Duration::seconds(FALLBACK_CACHE_TTL_SECS));
            token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        }
        let reloads = log.take();
        assert!(!reloads.is_empty(), "expired entries were not reloaded");
        let writes: Vec<&String> = reloads.iter().filter(|sql| is_write(sql)).collect();
        assert!(writes.is_empty(), "token requests wrote: {writes:?}");
    }
}

/// The token request's future is moved into a box on every request (and
/// its size copied each time): its cold paths (database reads, failures,
/// DPoP, the password and refresh grants) are boxed so that it stays small.
#[tokio::test]
async fn the_token_request_future_stays_small() {
    const MOST_BYTES: usize = 2048;
    fn size<F: std::future::Future>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }
    let env = super::support::SharedDb::sqlite().await.instance().await;
    let authorization = super::support::basic("client", "secret");
    let request = super::support::form(&authorization, "grant_type=client_credentials");
    let future = env.services.token("tenant", request, None, env.now());
    let bytes = size(&future);
    drop(future);
    assert!(bytes <= MOST_BYTES, "the token future is {bytes} bytes, more than {MOST_BYTES}");
}
