//! Failure throttles over several replicas: on PostgreSQL every `Services`
//! on one database counts the same failures, so failures spread over two
//! instances trip a throttle at the same total as one instance would. On
//! SQLite (one process) the single instance is its own reference.

use std::net::IpAddr;

use base64::Engine;
use clavis_oauth::OAuthError;
use clavis_oauth::request::RawRequest;
use clavis_types::ManagementAccess;
use domain::Error;
use sea_orm::{ConnectionTrait, Statement};

use super::support::{SharedDb, TestEnv};

/// Failed client authentications answered 401 before the first 429.
const CLIENT_FREE_FAILURES: usize = 10;
/// Failed sign-ins from one address refused only after these.
const SIGN_IN_FREE_FAILURES: usize = 5;

/// Two instances on one database where replicas share it (PostgreSQL);
/// the one instance twice where a single process owns it (SQLite).
pub(super) async fn replicas(db: &SharedDb) -> (TestEnv, Option<TestEnv>) {
    let first = db.instance().await;
    let second = if db.backend == "postgres" { Some(db.instance().await) } else { None };
    (first, second)
}

pub(super) fn pick<'a>(first: &'a TestEnv, second: &'a Option<TestEnv>, attempt: usize) -> &'a TestEnv {
    match second {
        Some(second) if attempt % 2 == 1 => second,
        _ => first,
    }
}

async fn token_from(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    source: IpAddr,
) -> Result<(), OAuthError> {
    let authorization =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}")));
    let raw = RawRequest {
        authorization: Some(authorization.as_bytes()),
        several_authorizations: false,
        content_type: Some(b"application/x-www-form-urlencoded"),
        body: Some(b"grant_type=client_credentials"),
        dpop: None,
        several_dpops: false,
    };
    env.services.token(tenant_id, raw, Some(source), env.now()).await.map(|_| ())
}

#[tokio::test]
async fn client_failures_spread_over_replicas_trip_the_throttle_at_one_replicas_total() {
    for db in SharedDb::all().await {
        let (first, second) = replicas(&db).await;
        let (tenant, scope) = first.tenant("Acme").await;
        let app = first.services.create_application(&scope, "svc", ManagementAccess::None, first.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        let attacker: IpAddr = "198.51.100.7".parse().unwrap();
        for attempt in 0..CLIENT_FREE_FAILURES {
            let env = pick(&first, &second, attempt);
            let err = token_from(env, &tenant.tenant_id, &app.client_id, "wrong", attacker).await.unwrap_err();
            assert_eq!(err.status, 401, "{}: attempt {} was {err:?}", db.backend, attempt + 1);
        }
        // The next wrong secret is refused with a wait on either instance.
        for env in [Some(&first), second.as_ref()].into_iter().flatten() {
            let err = token_from(env, &tenant.tenant_id, &app.client_id, "wrong", attacker).await.unwrap_err();
            assert_eq!(err.status, 429, "{}: {err:?}", db.backend);
            assert!(err.retry_after_secs.is_some(), "{}", db.backend);
        }
        // The right secret always works, from the same address too, and a
        // client that never failed is not slowed anywhere.
        for env in [Some(&first), second.as_ref()].into_iter().flatten() {
            token_from(env, &tenant.tenant_id, &app.client_id, &secret, attacker).await.unwrap();
            let other: IpAddr = "203.0.113.1".parse().unwrap();
            let err = token_from(env, &tenant.tenant_id, &app.client_id, "typo", other).await.unwrap_err();
            assert_eq!(err.status, 401, "{}: another address is not throttled", db.backend);
        }
    }
}

#[tokio::test]
async fn sign_in_failures_spread_over_replicas_are_refused_at_one_replicas_total() {
    for db in SharedDb::all().await {
        let (first, second) = replicas(&db).await;
        let admin = first.services.bootstrap("admin@localhost", first.now()).await.unwrap().unwrap();
        for attempt in 0..SIGN_IN_FREE_FAILURES {
            let env = pick(&first, &second, attempt);
            let err =
                env.services.authenticate("admin@localhost", "guess", Some("192.0.2.9"), env.now()).await.unwrap_err();
            assert!(matches!(err, Error::Unauthenticated), "{}: attempt {}: {err:?}", db.backend, attempt + 1);
        }
        for env in [Some(&first), second.as_ref()].into_iter().flatten() {
            let err = env
                .services
                .authenticate("admin@localhost", &admin.password, Some("192.0.2.9"), env.now())
                .await
                .unwrap_err();
            assert!(matches!(err, Error::RateLimited { .. }), "{}: {err:?}", db.backend);
            // The admin's own address is not refused.
            env.services
                .authenticate("admin@localhost", &admin.password, Some("192.0.2.200"), env.now())
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn shared_counts_hold_digests_only_and_are_pruned_after_the_window() {
    for db in SharedDb::all().await {
        if db.backend != "postgres" {
            continue;
        }
        let (first, _) = replicas(&db).await;
        first.services.bootstrap("admin@localhost", first.now()).await.unwrap().unwrap();
        first.services.authenticate("admin@localhost", "guess", Some("192.0.2.9"), first.now()).await.unwrap_err();
        let conn = domain::db::connect(db.url()).await.unwrap();
        let rows = conn
            .query_all(Statement::from_string(
                conn.get_database_backend(),
                "SELECT kind, key_digest, failures FROM throttle_failures ORDER BY kind",
            ))
            .await
            .unwrap();
        let kinds: Vec<String> = rows.iter().map(|row| row.try_get::<String>("", "kind").unwrap()).collect();
        // The (account, address) pair is counted in each process only.
        assert_eq!(kinds, ["signin_account", "signin_addr"]);
        for row in &rows {
            let digest: String = row.try_get("", "key_digest").unwrap();
            assert_eq!(digest.len(), 64, "{digest}");
            assert!(!digest.contains("admin") && !digest.contains("192.0.2.9"), "{digest}");
            assert_eq!(row.try_get::<i32>("", "failures").unwrap(), 1);
        }
        assert_eq!(first.services.prune_throttle_failures(first.now()).await.unwrap(), 0);
        let later = first.now() + chrono::Duration::minutes(16);
        assert_eq!(first.services.prune_throttle_failures(later).await.unwrap(), 2);
    }
}
