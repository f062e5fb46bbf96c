//! The shared throttle table stays bounded whatever names and addresses
//! failing callers make up, while an account that exists still has its
//! failures shared, and the answers never tell an unknown email from a
//! wrong password: not by status, not by when the 429 starts, not by the
//! statements the failure costs.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use clavis_oauth::OAuthError;
use clavis_oauth::request::RawRequest;
use clavis_types::ManagementAccess;
use domain::services::MAX_SHARED_KEYS;
use domain::{Error, Role};
use sea_orm::{ConnectionTrait, Statement};

use super::shared_throttle::{pick, replicas};
use super::support::{SharedDb, TestEnv};

/// The shared rows of each kind, in kind order (none on SQLite).
async fn shared_rows(db: &SharedDb) -> Vec<(String, i64)> {
    let conn = domain::db::connect(db.url()).await.unwrap();
    let rows = conn
        .query_all(Statement::from_string(
            conn.get_database_backend(),
            "SELECT kind, COUNT(*) AS n FROM throttle_failures GROUP BY kind ORDER BY kind",
        ))
        .await
        .unwrap();
    rows.iter().map(|row| (row.try_get("", "kind").unwrap(), row.try_get("", "n").unwrap())).collect()
}

/// Fills `kind` to the cap with recent rows of made-up keys, as a flood of
/// that many failing keys would (PostgreSQL only: SQLite keeps no rows).
async fn flood_to_cap(db: &SharedDb, kind: &str, now: chrono::DateTime<chrono::Utc>) {
    let conn = domain::db::connect(db.url()).await.unwrap();
    conn.execute(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "INSERT INTO throttle_failures (kind, key_digest, failures, last_failure_at) \
         SELECT $1, md5('flood' || i::text) || md5(i::text), 1, $2 \
         FROM generate_series(1, $3 - (SELECT count(*) FROM throttle_failures WHERE kind = $1)) AS i",
        [kind.into(), now.timestamp().into(), MAX_SHARED_KEYS.into()],
    ))
    .await
    .unwrap();
}

async fn grant(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    body: &str,
    source: IpAddr,
) -> Result<(), OAuthError> {
    let authorization =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}")));
    let raw = RawRequest {
        authorization: Some(authorization.as_bytes()),
        several_authorizations: false,
        content_type: Some(b"application/x-www-form-urlencoded"),
        body: Some(body.as_bytes()),
        dpop: None,
        several_dpops: false,
    };
    env.services.token(tenant_id, raw, Some(source), env.now()).await.map(|_| ())
}

/// What a caller sees of one failed sign-in: the status, and the wait it
/// was told or made to sleep (the delay before the attempt).
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Refused { delay: Duration },
    Throttled { delay: Duration, retry_after_secs: u64 },
}

async fn sign_in(env: &TestEnv, email: &str, source: Option<&str>) -> Seen {
    let delay = env.services.sign_in_delay(email, env.now());
    match env.services.authenticate(email, "not-the-password", source, env.now()).await {
        Err(Error::Unauthenticated) => Seen::Refused { delay },
        Err(Error::RateLimited { retry_after_secs }) => Seen::Throttled { delay, retry_after_secs },
        other => panic!("{email}: {other:?}"),
    }
}

#[tokio::test]
async fn made_up_emails_and_many_addresses_leave_the_shared_table_bounded() {
    for db in SharedDb::all().await {
        let (first, second) = replicas(&db).await;
        let (tenant, scope) = first.tenant("Acme").await;
        let app = first.services.create_application(&scope, "web", ManagementAccess::None, first.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        // Dashboard sign-ins and password grants of made-up emails, each
        // from a new IPv6 address and from an IPv4 one, five to an IPv4
        // address and to a /64 (the free failures of each).
        let attempt = |i: usize| {
            let email = format!("nobody-{i}@example.com");
            let sources = [format!("2001:db8:7:{:x}:{i:x}::1", i / 5), format!("198.51.100.{}", i / 5)];
            (email, sources)
        };
        let run = async |range: std::ops::Range<usize>| {
            for i in range {
                let env = pick(&first, &second, i);
                let (email, sources) = attempt(i);
                for source in &sources {
                    assert!(matches!(sign_in(env, &email, Some(source)).await, Seen::Refused { .. }), "{i}");
                    let body = format!("grant_type=password&username=nobody-{i}%40example.com&password=guess-guess-1");
                    let err = grant(env, &tenant.tenant_id, &app.client_id, &secret, &body, source.parse().unwrap())
                        .await
                        .unwrap_err();
                    assert_eq!(err.status, 400, "{i}: {err:?}");
                }
            }
        };
        run(0..20).await;
        let kinds = ["grant_account", "grant_addr", "signin_account", "signin_addr"];
        if db.backend == "postgres" {
            // One row per email and per address (twenty IPv6 addresses in
            // four /64s make four), none per (email, address) pair.
            let expected: Vec<(String, i64)> =
                kinds.iter().zip([20, 8, 20, 8]).map(|(kind, n)| ((*kind).to_owned(), n)).collect();
            assert_eq!(shared_rows(&db).await, expected);
            // However many more there are, no kind passes the cap.
            for kind in kinds {
                flood_to_cap(&db, kind, first.now()).await;
            }
            run(20..40).await;
            let expected: Vec<(String, i64)> = kinds.iter().map(|kind| ((*kind).to_owned(), MAX_SHARED_KEYS)).collect();
            assert_eq!(shared_rows(&db).await, expected);
        } else {
            run(20..40).await;
            assert_eq!(shared_rows(&db).await, Vec::new());
        }
    }
}

#[tokio::test]
async fn a_known_client_failing_from_ever_new_addresses_stops_at_the_cap_and_is_still_throttled() {
    for db in SharedDb::all().await {
        let (first, _) = replicas(&db).await;
        let (tenant, scope) = first.tenant("Acme").await;
        let app = first.services.create_application(&scope, "svc", ManagementAccess::None, first.now()).await.unwrap();
        let body = "grant_type=client_credentials";
        let address = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        if db.backend == "postgres" {
            flood_to_cap(&db, "client", first.now()).await;
            let conn = domain::db::connect(db.url()).await.unwrap();
            conn.execute_unprepared(
                "DELETE FROM throttle_failures WHERE key_digest IN \
                (SELECT key_digest FROM throttle_failures WHERE kind = 'client' LIMIT 5)",
            )
            .await
            .unwrap();
        }
        for n in 0..40 {
            let err = grant(&first, &tenant.tenant_id, &app.client_id, "wrong", body, address(n)).await.unwrap_err();
            assert_eq!(err.status, 401, "{n}");
        }
        let rows = shared_rows(&db).await;
        if db.backend == "postgres" {
            assert_eq!(rows, [("client".to_owned(), MAX_SHARED_KEYS)]);
        } else {
            assert!(rows.is_empty(), "{rows:?}");
        }
        // An address past the cap is counted in this process, and refused
        // after the same ten failures as any other.
        let mut statuses = Vec::new();
        for _ in 0..11 {
            let err = grant(&first, &tenant.tenant_id, &app.client_id, "wrong", body, address(99)).await.unwrap_err();
            statuses.push(err.status);
        }
        assert_eq!(statuses, [[401; 10].as_slice(), &[429]].concat(), "{}", db.backend);
        // Once the window has passed, forgotten rows make room at the next
        // new key, before housekeeping runs.
        first.clock.advance(chrono::Duration::minutes(16));
        grant(&first, &tenant.tenant_id, &app.client_id, "wrong", body, address(100)).await.unwrap_err();
        if db.backend == "postgres" {
            assert_eq!(shared_rows(&db).await, [("client".to_owned(), 1)]);
        }
    }
}

#[tokio::test]
async fn a_known_accounts_failures_from_many_addresses_are_shared_across_replicas() {
    for db in SharedDb::all().await {
        let (first, second) = replicas(&db).await;
        first.services.bootstrap("admin@localhost", first.now()).await.unwrap().unwrap();
        // Six failures, one per address, alternating replicas: each replica
        // saw three, fewer than the five free ones, and both slow it down.
        for i in 0..6 {
            let env = pick(&first, &second, i);
            let source = format!("192.0.2.{}", 10 + i);
            assert!(matches!(sign_in(env, "admin@localhost", Some(&source)).await, Seen::Refused { .. }));
        }
        for env in [Some(&first), second.as_ref()].into_iter().flatten() {
            let delay = env.services.sign_in_delay("admin@localhost", env.now());
            assert!(delay >= Duration::from_millis(250), "{}: {delay:?}", db.backend);
        }
        if db.backend == "postgres" {
            let rows = shared_rows(&db).await;
            assert_eq!(rows, [("signin_account".to_owned(), 1), ("signin_addr".to_owned(), 6)]);
        }
    }
}

/// Wrong passwords of `known` and sign-ins of `unknown`, side by side and
/// alternating replicas: from one address each, then from many, then with
/// no address at all. Returns what each saw.
async fn side_by_side(first: &TestEnv, second: &Option<TestEnv>, known: &str, unknown: &str) -> [Vec<Seen>; 2] {
    let mut seen = [Vec::new(), Vec::new()];
    let mut attempt = 0;
    for round in 0..3 {
        for i in 0..8 {
            let env = pick(first, second, attempt);
            attempt += 1;
            for (side, email) in [known, unknown].into_iter().enumerate() {
                let source = match round {
                    0 => Some(format!("203.0.113.{side}")),
                    1 => Some(format!("198.18.{side}.{i}")),
                    _ => None,
                };
                seen[side].push(sign_in(env, email, source.as_deref()).await);
            }
        }
    }
    seen
}

#[tokio::test]
async fn an_unknown_email_is_answered_like_a_wrong_password_over_two_replicas() {
    for db in SharedDb::all().await {
        let (first, second) = replicas(&db).await;
        first.services.bootstrap("admin@localhost", first.now()).await.unwrap().unwrap();
        let [known, unknown] = side_by_side(&first, &second, "admin@localhost", "nobody@localhost").await;
        assert_eq!(known, unknown, "{}", db.backend);
        // The throttle did act: a 429 after five failures from one address,
        // and delays once the account has failed from many.
        assert!(matches!(known[5], Seen::Throttled { .. }), "{}: {known:?}", db.backend);
        assert!(matches!(known[15], Seen::Refused { delay } if delay > Duration::ZERO), "{}: {known:?}", db.backend);
        // With every kind at its cap, a fresh account and a fresh made-up
        // email are both counted in each process: alike again.
        if db.backend == "postgres" {
            for kind in ["signin_account", "signin_addr"] {
                flood_to_cap(&db, kind, first.now()).await;
            }
        }
        let (_, scope) = first.tenant("Acme").await;
        first
            .services
            .add_member_by_operator(
                &first.cli,
                &scope,
                "grace@example.com",
                Role::Viewer,
                Some(GRACE_PASSWORD),
                first.now(),
            )
            .await
            .unwrap();
        let [known, unknown] = side_by_side(&first, &second, "grace@example.com", "nobody-else@example.com").await;
        assert_eq!(known, unknown, "{}", db.backend);
    }
}

const GRACE_PASSWORD: &str = "a long and unusual passphrase 42";

#[tokio::test]
async fn a_failure_costs_the_same_statements_whether_or_not_the_email_exists() {
    for db in SharedDb::all().await {
        let (env, log) = db.logged_instance().await;
        env.services.bootstrap("admin@localhost", env.now()).await.unwrap().unwrap();
        for round in 0..3 {
            log.take();
            sign_in(&env, "admin@localhost", Some("203.0.113.5")).await;
            let known = log.take();
            sign_in(&env, "nobody@localhost", Some("203.0.113.6")).await;
            let unknown = log.take();
            assert_eq!(known.len(), unknown.len(), "{} round {round}: {known:#?}\n{unknown:#?}", db.backend);
        }
    }
}
