//! The usage flush writes many applications' counts in a few multi-row
//! statements, and the totals come out right, also when a flush adds to
//! counts an earlier one wrote.

use clavis_oauth::jose::Algorithm;
use clavis_types::ManagementAccess;
use domain::services::NewTenant;
use sea_orm::{ConnectionTrait, Statement};

use super::support::{SharedDb, is_write, token};

const CLIENTS: usize = 5_000;

/// Tokens client `i` takes in each round: 1, or 3 for every seventh.
fn tokens_of(i: usize) -> usize {
    if i.is_multiple_of(7) { 3 } else { 1 }
}

async fn one_number(db: &SharedDb, sql: &str) -> i64 {
    let conn = domain::db::connect(db.url()).await.unwrap();
    let row = conn.query_one(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap().unwrap();
    let value: i64 = row.try_get_by_index(0).unwrap();
    conn.close().await.ok();
    value
}

#[tokio::test]
async fn a_flush_of_five_thousand_clients_takes_a_few_statements_and_keeps_every_count() {
    for db in SharedDb::all().await {
        let (env, log) = db.logged_instance().await;
        let operator = env.cli.operator_scope();
        let tenant = env
            .services
            .create_tenant(
                &operator,
                NewTenant { signing_alg: Algorithm::Es256, ..NewTenant::named("Busy") },
                env.now(),
            )
            .await
            .unwrap();
        let scope = env.cli.tenant_scope(&env.services, &tenant.tenant_id).await.unwrap();
        let mut apps = Vec::with_capacity(CLIENTS);
        for i in 0..CLIENTS {
            let app = env
                .services
                .create_application(&scope, &format!("svc-{i}"), ManagementAccess::None, env.now())
                .await
                .unwrap();
            apps.push((app.client_id.clone(), app.secret.clone().unwrap()));
        }
        let per_round: usize = (0..CLIENTS).map(tokens_of).sum();
        for round in 1..=2_i64 {
            for (i, (client_id, secret)) in apps.iter().enumerate() {
                for _ in 0..tokens_of(i) {
                    token(&env, &tenant.tenant_id, client_id, secret).await.unwrap();
                }
            }
            log.take();
            assert_eq!(env.services.flush_usage().await.unwrap(), CLIENTS, "{}", db.backend);
            let writes: Vec<String> = log.take().into_iter().filter(|sql| is_write(sql)).collect();
            // Three kinds of rows (secrets, applications, minutes), 500 per
            // statement: 30 statements for 5,000 clients, not 15,000.
            assert!(writes.len() <= 3 * CLIENTS.div_ceil(500) + 1, "{}: {} writes", db.backend, writes.len());
            assert!(writes.len() >= 3, "{}: {writes:?}", db.backend);

            let expected = i64::try_from(per_round).unwrap() * round;
            let issued = one_number(&db, "SELECT CAST(SUM(tokens_issued) AS BIGINT) FROM applications").await;
            assert_eq!(issued, expected, "{}: tokens issued after round {round}", db.backend);
            let per_minute = one_number(&db, "SELECT CAST(SUM(tokens) AS BIGINT) FROM application_usage").await;
            assert_eq!(per_minute, expected, "{}: per-minute usage after round {round}", db.backend);
            let used = one_number(&db, "SELECT COUNT(*) FROM client_secrets WHERE last_used_at IS NOT NULL").await;
            assert_eq!(used, i64::try_from(CLIENTS).unwrap(), "{}", db.backend);
        }
        // Read back through the services: each application its own count.
        for i in [0, 1, 7, CLIENTS - 1] {
            let (client_id, _) = &apps[i];
            let view = env.services.get_application(&scope, client_id, env.now()).await.unwrap();
            assert_eq!(view.tokens_issued, 2 * i64::try_from(tokens_of(i)).unwrap(), "{}", db.backend);
            assert_eq!(view.last_used_at, Some(env.now()), "{}", db.backend);
            let usage = env.services.token_usage(&scope, client_id, 5, env.now()).await.unwrap();
            assert_eq!(usage.total(), 2 * i64::try_from(tokens_of(i)).unwrap(), "{}", db.backend);
        }
        assert_eq!(env.services.flush_usage().await.unwrap(), 0, "{}: nothing left to write", db.backend);
    }
}

async fn run(db: &SharedDb, sql: &str) {
    let conn = domain::db::connect(db.url()).await.unwrap();
    conn.execute(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
    conn.close().await.ok();
}

#[tokio::test]
async fn counts_a_failed_flush_could_not_write_are_written_by_the_next() {
    for db in SharedDb::all().await {
        let env = db.instance().await;
        let (tenant, scope) = env.tenant("Flaky").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        for _ in 0..3 {
            token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        }
        // The flush's last statement fails, so its transaction writes nothing.
        run(&db, "ALTER TABLE application_usage RENAME TO application_usage_away").await;
        assert!(env.services.flush_usage().await.is_err(), "{}", db.backend);
        // Tokens counted after the failure, in the next minute, join them.
        env.clock.advance(chrono::Duration::seconds(60));
        for _ in 0..2 {
            token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        }
        run(&db, "ALTER TABLE application_usage_away RENAME TO application_usage").await;
        assert_eq!(env.services.flush_usage().await.unwrap(), 1, "{}", db.backend);

        let view = env.services.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(view.tokens_issued, 5, "{}: tokens issued", db.backend);
        assert_eq!(view.last_used_at, Some(env.now()), "{}", db.backend);
        let usage = env.services.token_usage(&scope, &app.client_id, 2, env.now()).await.unwrap();
        assert_eq!(usage.per_minute, [3, 2], "{}: per minute", db.backend);
        assert_eq!(env.services.flush_usage().await.unwrap(), 0, "{}: nothing left to write", db.backend);
    }
}

#[tokio::test]
async fn a_client_reloaded_between_flushes_has_its_counts_written_once() {
    for db in SharedDb::all().await {
        let env = db.instance().await;
        let (tenant, scope) = env.tenant("Reloaded").await;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        for _ in 0..2 {
            token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        }
        // A change drops the cached client; the next token loads it again,
        // with new counters, while the old ones still wait for the flush.
        env.services.set_management_access(&scope, &app.client_id, ManagementAccess::Read, env.now()).await.unwrap();
        token(&env, &tenant.tenant_id, &app.client_id, &secret).await.unwrap();
        assert_eq!(env.services.flush_usage().await.unwrap(), 1, "{}: one secret", db.backend);
        let view = env.services.get_application(&scope, &app.client_id, env.now()).await.unwrap();
        assert_eq!(view.tokens_issued, 3, "{}", db.backend);
        let usage = env.services.token_usage(&scope, &app.client_id, 1, env.now()).await.unwrap();
        assert_eq!(usage.per_minute, [3], "{}", db.backend);
    }
}
