//! Changes made by one process are honoured by the others within a second:
//! two `Services` on one database stand for two processes (replicas on
//! PostgreSQL; a server and the command line on SQLite), each with its
//! invalidation listener. The process that makes a change honours it at once.

use std::time::{Duration, Instant};

use clavis_oauth::ErrorCode;
use clavis_types::ManagementAccess;
use domain::services::{FALLBACK_CACHE_TTL_SECS, RoleAccess, RoleInput, TokenConfig};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, Database, Statement};

use super::support::{SharedDb, TestEnv, introspect, kid_of, token, token_with};

/// Starts `env`'s invalidation listener and waits until it is subscribed.
pub async fn listening(env: &TestEnv) -> tokio::task::JoinHandle<()> {
    let task = env.services.spawn_invalidation_listener().expect("a listener");
    let start = Instant::now();
    while !env.services.listening_for_invalidations() {
        assert!(start.elapsed() < Duration::from_secs(10), "the listener did not subscribe");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task
}

/// Polls `check` until it holds; how long that took, failing past a second.
async fn within_a_second(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(1), "{what}: not honoured within a second");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn accepted(env: &TestEnv, tenant_id: &str, client_id: &str, secret: &str) -> bool {
    match token(env, tenant_id, client_id, secret).await {
        Ok(_) => true,
        Err(ErrorCode::InvalidClient) => false,
        Err(other) => panic!("unexpected {other:?} on {}", env.backend),
    }
}

/// `here` makes the changes; `there` is another process. Both listen, and
/// their clocks stand still: only notices (or the local drop) can make them
/// see a change.
struct Replicas {
    here: TestEnv,
    there: TestEnv,
    listeners: Vec<tokio::task::JoinHandle<()>>,
}

impl Replicas {
    async fn on(db: &SharedDb) -> Self {
        let here = db.instance().await;
        let there = db.instance().await;
        let listeners = vec![listening(&here).await, listening(&there).await];
        Self { here, there, listeners }
    }

    fn all(&self) -> Vec<&TestEnv> {
        vec![&self.here, &self.there]
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for task in &self.listeners {
            task.abort();
        }
    }
}

#[tokio::test]
async fn a_deleted_application_is_refused_here_at_once_and_elsewhere_within_a_second() {
    for db in SharedDb::all().await {
        let r = Replicas::on(&db).await;
        let (tenant, scope) = r.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app =
            r.here.services.create_application(&scope, "svc", ManagementAccess::None, r.here.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        for env in r.all() {
            assert!(accepted(env, t, &app.client_id, &secret).await, "{}", db.backend);
        }
        r.here.services.delete_application(&scope, &app.client_id, r.here.now()).await.unwrap();
        assert!(!accepted(&r.here, t, &app.client_id, &secret).await, "{}: deleted client accepted", db.backend);
        {
            let there = &r.there;
            within_a_second("delete", async || !accepted(there, t, &app.client_id, &secret).await).await;
        }
    }
}

#[tokio::test]
async fn a_rotated_or_revoked_secret_is_refused_here_at_once_and_elsewhere_within_a_second() {
    for db in SharedDb::all().await {
        let r = Replicas::on(&db).await;
        let (tenant, scope) = r.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app =
            r.here.services.create_application(&scope, "svc", ManagementAccess::None, r.here.now()).await.unwrap();
        let first = app.secret.clone().unwrap();
        for env in r.all() {
            assert!(accepted(env, t, &app.client_id, &first).await);
        }
        // Grace 0: the old secret stops at once.
        let second = r.here.services.rotate_secret(&scope, &app.client_id, 0, r.here.now()).await.unwrap().secret;
        assert!(!accepted(&r.here, t, &app.client_id, &first).await, "{}: old secret accepted", db.backend);
        assert!(accepted(&r.here, t, &app.client_id, &second).await, "{}", db.backend);
        {
            let there = &r.there;
            within_a_second("rotation", async || !accepted(there, t, &app.client_id, &first).await).await;
            assert!(accepted(there, t, &app.client_id, &second).await, "new secret unknown elsewhere");
        }
        // A day of grace, then the previous secret revoked.
        let third = r.here.services.rotate_secret(&scope, &app.client_id, 86_400, r.here.now()).await.unwrap().secret;
        {
            let there = &r.there;
            within_a_second("graceful rotation", async || accepted(there, t, &app.client_id, &third).await).await;
            assert!(accepted(there, t, &app.client_id, &second).await, "the secret in its grace period refused");
        }
        r.here.services.revoke_previous_secret(&scope, &app.client_id, r.here.now()).await.unwrap();
        assert!(!accepted(&r.here, t, &app.client_id, &second).await, "{}: revoked secret accepted", db.backend);
        {
            let there = &r.there;
            within_a_second("revocation", async || !accepted(there, t, &app.client_id, &second).await).await;
            assert!(accepted(there, t, &app.client_id, &third).await);
        }
    }
}

#[tokio::test]
async fn role_changes_and_revoked_tokens_are_honoured_elsewhere_within_a_second() {
    for db in SharedDb::all().await {
        let r = Replicas::on(&db).await;
        let (tenant, scope) = r.here.tenant("Acme").await;
        let t = tenant.tenant_id.as_str();
        let api = super::access::protected_api(&r.here, &scope, "https://inventory.example", &["read", "write"]).await;
        let caller = r.here.services.create_application(&scope, "caller", ManagementAccess::None, r.here.now());
        let caller = caller.await.unwrap();
        let (id, secret) = (caller.client_id.as_str(), caller.secret.as_deref().unwrap());
        let role = super::access::grant(&r.here, &scope, id, &api, &["read"]).await;
        let body = format!("grant_type=client_credentials&audience={api}");
        let scope_on = async |env: &TestEnv| token_with(env, t, id, secret, &body).await.map(|token| token.scope);
        for env in r.all() {
            assert_eq!(scope_on(env).await.unwrap(), "appid_default read", "{}", db.backend);
        }

        let wider = RoleInput {
            name: "inventory-writer".into(),
            description: String::new(),
            access: vec![RoleAccess { application_id: api.clone(), scopes: vec!["read".into(), "write".into()] }],
        };
        r.here.services.update_role(&scope, &role, wider, r.here.now()).await.unwrap();
        for env in r.all() {
            let wanted = "appid_default read write";
            within_a_second("role update", async || scope_on(env).await.is_ok_and(|s| s == wanted)).await;
        }

        let token = token_with(&r.here, t, id, secret, &body).await.unwrap().access_token;
        r.here.services.delete_role(&scope, &role, r.here.now()).await.unwrap();
        r.here.services.revoke_application_tokens(&scope, id, r.here.now()).await.unwrap();
        for env in r.all() {
            let refused = async || scope_on(env).await.is_err_and(|err| err.code == ErrorCode::InvalidTarget);
            within_a_second("role deletion", refused).await;
            let inactive = async || !introspect(env, t, id, secret, &token).await.unwrap().active;
            within_a_second("token revocation", inactive).await;
        }
    }
}

#[tokio::test]
async fn a_new_signing_key_signs_and_verifies_elsewhere_within_a_second() {
    for db in SharedDb::all().await {
        let r = Replicas::on(&db).await;
        let (tenant, scope) = r.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app =
            r.here.services.create_application(&scope, "svc", ManagementAccess::None, r.here.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        let kid = async |env: &TestEnv| kid_of(&token(env, t, &app.client_id, &secret).await.unwrap());
        let old = kid(&r.here).await;
        for env in r.all() {
            assert_eq!(kid(env).await, old);
        }

        let new = r.here.services.rotate_signing_key(&scope, None, r.here.now()).await.unwrap();
        assert_ne!(new, old);
        assert_eq!(kid(&r.here).await, new, "{}", db.backend);
        let signed_here = token(&r.here, t, &app.client_id, &secret).await.unwrap();
        for env in r.all() {
            within_a_second("key rotation", async || kid(env).await == new).await;
            let seen = introspect(env, t, &app.client_id, &secret, &signed_here).await.unwrap();
            assert!(seen.active, "{}: a token signed with the new key does not verify", db.backend);
            let jwks = env.services.jwks_json(t, env.now()).await.unwrap();
            assert!(jwks.contains(&old) && jwks.contains(&new), "{}", db.backend);
        }
    }
}

#[tokio::test]
async fn a_tenant_token_lifetime_change_is_honoured_elsewhere_within_a_second() {
    for db in SharedDb::all().await {
        let r = Replicas::on(&db).await;
        let (tenant, scope) = r.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app =
            r.here.services.create_application(&scope, "svc", ManagementAccess::None, r.here.now()).await.unwrap();
        let secret = app.secret.clone().unwrap();
        let lifetime = async |env: &TestEnv| {
            token_with(env, t, &app.client_id, &secret, "grant_type=client_credentials").await.unwrap().expires_in
        };
        for env in r.all() {
            assert_eq!(lifetime(env).await, 3600);
        }
        let config = TokenConfig { access_expires_in: 600 };
        r.here.services.set_token_config(&scope, config, r.here.now()).await.unwrap();
        assert_eq!(lifetime(&r.here).await, 600, "{}", db.backend);
        for env in r.all() {
            within_a_second("token lifetime", async || lifetime(env).await == 600).await;
        }
    }
}

/// A role change drops the clients of its own tenant only: another tenant's
/// callers keep their entries and make no statement.
#[tokio::test]
async fn a_role_change_drops_only_its_own_tenants_clients() {
    for db in SharedDb::all().await {
        let (env, log) = db.logged_instance().await;
        let _listener = listening(&env).await;
        let (acme, acme_scope) = env.tenant("Acme").await;
        let (other, other_scope) = env.tenant("Other").await;
        let api = super::access::protected_api(&env, &acme_scope, "https://inventory.example", &["read"]).await;
        let new_app = async |scope| {
            let app = env.services.create_application(scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
            (app.client_id, app.secret.unwrap())
        };
        let (acme_id, acme_secret) = new_app(&acme_scope).await;
        let (other_id, other_secret) = new_app(&other_scope).await;
        // The listener also applies this process's own notices, a poll
        // later (on SQLite every 200 ms, later on a busy machine): the
        // applications' creation notices may still drop the entries warmed
        // here. Warm until both clients stay cached, before the change.
        let start = Instant::now();
        loop {
            token(&env, &acme.tenant_id, &acme_id, &acme_secret).await.unwrap();
            token(&env, &other.tenant_id, &other_id, &other_secret).await.unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
            log.take();
            token(&env, &acme.tenant_id, &acme_id, &acme_secret).await.unwrap();
            token(&env, &other.tenant_id, &other_id, &other_secret).await.unwrap();
            if log.take().is_empty() {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{}: the set-up's notices never settled", db.backend);
        }

        super::access::grant(&env, &acme_scope, &acme_id, &api, &["read"]).await;
        log.take();
        token(&env, &other.tenant_id, &other_id, &other_secret).await.unwrap();
        let statements = log.take();
        assert!(statements.is_empty(), "{}: another tenant's client was reloaded: {statements:?}", db.backend);
        token(&env, &acme.tenant_id, &acme_id, &acme_secret).await.unwrap();
        assert!(!log.take().is_empty(), "{}: the tenant's own client was not reloaded", db.backend);
    }
}

/// The notices a database carries, read the way a listener reads them.
enum Notices {
    Postgres(PgListener),
    Sqlite { pool: sea_orm::sqlx::SqlitePool, seen: i64 },
}

impl Notices {
    async fn open(db: &SharedDb) -> Self {
        if db.backend == "postgres" {
            let pool = sea_orm::sqlx::PgPool::connect(db.url()).await.unwrap();
            let mut listener = PgListener::connect_with(&pool).await.unwrap();
            listener.listen("clavis_invalidate").await.unwrap();
            Self::Postgres(listener)
        } else {
            let pool = sea_orm::sqlx::SqlitePool::connect(db.url()).await.unwrap();
            Self::Sqlite { pool, seen: 0 }
        }
    }

    /// The next notice; `None` when there is none within a second.
    async fn next(&mut self) -> Option<String> {
        match self {
            Self::Postgres(listener) => {
                let notice = tokio::time::timeout(Duration::from_secs(1), listener.recv()).await.ok()?;
                Some(notice.unwrap().payload().to_owned())
            }
            Self::Sqlite { pool, seen } => {
                let row: Option<(i64, String)> =
                    sea_orm::sqlx::query_as("SELECT seq, payload FROM cache_invalidation WHERE seq > ? ORDER BY seq")
                        .bind(*seen)
                        .fetch_optional(&*pool)
                        .await
                        .unwrap();
                let (seq, payload) = row?;
                *seen = seq;
                Some(payload)
            }
        }
    }
}

/// The notices each write publishes: exactly what it changed, sent only
/// when the write commits. A created client's ID is published too, so a
/// process that remembered it as unknown forgets that.
#[tokio::test]
async fn each_write_publishes_what_it_changed_and_only_when_it_commits() {
    for db in SharedDb::all().await {
        let env = db.instance().await;
        let mut notices = Notices::open(&db).await;
        let (tenant, scope) = env.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let app = env.services.create_application(&scope, "svc", ManagementAccess::None, env.now()).await.unwrap();
        let c = &app.client_id;
        let client = Some(format!("client:{c}"));
        let (runtime, tenant_clients) = (Some(format!("runtime:{t}")), Some(format!("tenant-clients:{t}")));
        assert_eq!(notices.next().await, client, "{}: create", db.backend);
        env.services.rotate_secret(&scope, c, 0, env.now()).await.unwrap();
        assert_eq!(notices.next().await, client, "{}: rotate", db.backend);
        env.services.set_management_access(&scope, c, ManagementAccess::Read, env.now()).await.unwrap();
        assert_eq!(notices.next().await, client, "{}: management access", db.backend);
        env.services.rotate_signing_key(&scope, None, env.now()).await.unwrap();
        assert_eq!(notices.next().await, runtime, "{}: key rotation", db.backend);
        env.services.set_token_config(&scope, TokenConfig { access_expires_in: 900 }, env.now()).await.unwrap();
        assert_eq!(notices.next().await, runtime, "{}: token config", db.backend);
        env.services.set_application_scopes(&scope, c, vec!["read".into()], env.now()).await.unwrap();
        assert_eq!(notices.next().await, tenant_clients, "{}: scopes", db.backend);

        // A write that fails inside its transaction publishes nothing.
        let missing = uuid::Uuid::new_v4().to_string();
        assert!(env.services.delete_application(&scope, &missing, env.now()).await.is_err());
        env.services.delete_application(&scope, c, env.now()).await.unwrap();
        assert_eq!(notices.next().await, tenant_clients, "{}: the failed delete published", db.backend);
        assert_eq!(notices.next().await, None, "{}", db.backend);
    }
}

/// The listener's connection is killed: the replica reconnects by itself,
/// changes made meanwhile are honoured within a second, and notices work
/// again afterwards.
#[tokio::test]
async fn a_killed_listener_connection_reconnects_and_changes_are_still_honoured() {
    let Some(db) = SharedDb::postgres().await else { return };
    let r = Replicas::on(&db).await;
    let there = &r.there;
    let (tenant, scope) = r.here.tenant("Acme").await;
    let t = &tenant.tenant_id;
    let create = async || {
        let app = r.here.services.create_application(&scope, "svc", ManagementAccess::None, r.here.now()).await;
        let app = app.unwrap();
        (app.client_id, app.secret.unwrap())
    };
    let (first, first_secret) = create().await;
    let (second, second_secret) = create().await;
    assert!(accepted(there, t, &first, &first_secret).await);
    assert!(accepted(there, t, &second, &second_secret).await);

    let admin = Database::connect(db.url()).await.unwrap();
    let listeners = async || -> Vec<i32> {
        let rows = admin
            .query_all(Statement::from_string(
                admin.get_database_backend(),
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            ))
            .await
            .unwrap();
        rows.iter().map(|row| row.try_get::<i32>("", "pid").unwrap()).collect()
    };
    let killed = listeners().await;
    assert_eq!(killed.len(), 2, "one listener per replica");
    for pid in &killed {
        admin
            .execute(Statement::from_string(
                admin.get_database_backend(),
                format!("SELECT pg_terminate_backend({pid})"),
            ))
            .await
            .unwrap();
    }
    // Made while the listeners are down or reconnecting: honoured once the
    // fallback TTL has passed, if the reconnection has not dropped it first.
    r.here.services.delete_application(&scope, &first, r.here.now()).await.unwrap();
    there.clock.advance(chrono::Duration::seconds(FALLBACK_CACHE_TTL_SECS));
    within_a_second("a delete during the outage", async || !accepted(there, t, &first, &first_secret).await).await;

    let start = Instant::now();
    loop {
        let now_listening = listeners().await;
        if now_listening.len() == 2 && now_listening.iter().all(|pid| !killed.contains(pid)) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the listeners did not reconnect: {now_listening:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(there.services.listening_for_invalidations());
    assert!(accepted(there, t, &second, &second_secret).await);
    r.here.services.delete_application(&scope, &second, r.here.now()).await.unwrap();
    within_a_second("a delete after reconnecting", async || !accepted(there, t, &second, &second_secret).await).await;
    admin.close().await.ok();
}

/// An entry lives until changed, except that a retired key leaves the JWKS
/// when its publication ends, with no write to announce it.
#[tokio::test]
async fn a_retired_key_leaves_the_cached_jwks_when_its_publication_ends() {
    for db in SharedDb::all().await {
        let r = Replicas::on(&db).await;
        let (tenant, scope) = r.here.tenant("Acme").await;
        let t = &tenant.tenant_id;
        let jwks = async || r.here.services.jwks_json(t, r.here.now()).await.unwrap();
        let old = serde_json::from_str::<serde_json::Value>(&jwks().await).unwrap()["keys"][0]["kid"]
            .as_str()
            .unwrap()
            .to_owned();
        let new = r.here.services.rotate_signing_key(&scope, None, r.here.now()).await.unwrap();
        assert!(jwks().await.contains(&old), "{}: the previous key is published", db.backend);
        r.here.clock.advance(chrono::Duration::seconds(clavis_types::MAX_TOKEN_LIFETIME_SECS));
        assert!(jwks().await.contains(&old), "{}: the previous key left too early", db.backend);
        r.here.clock.advance(chrono::Duration::days(1));
        let later = jwks().await;
        assert!(!later.contains(&old) && later.contains(&new), "{}: {later}", db.backend);
    }
}
