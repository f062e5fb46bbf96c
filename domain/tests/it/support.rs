//! Fresh databases and services for each test, on every configured backend.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use domain::crypto::MasterKey;
use domain::oauth::ErrorCode;
use domain::oauth::client_auth::{AuthMethod, ClientCredentials};
use domain::oauth::token_request::TokenRequest;
use domain::services::{NewTenant, TenantInfo};
use domain::{ManualClock, Services, TenantScope};
use sea_orm::{ConnectionTrait, Database};

pub const PUBLIC_URL: &str = "https://id.example.test";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).single().expect("valid time")
}

/// One backend's fresh, migrated database wrapped in services.
pub struct TestEnv {
    pub backend: &'static str,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    /// Keeps a SQLite database's directory until its last user is gone.
    _dir: Option<Arc<TempDir>>,
}

/// A temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn sqlite_env() -> TestEnv {
    SharedDb::sqlite().await.instance().await
}

/// A new database in the throwaway cluster, so tests never share rows.
pub async fn postgres_url() -> Option<String> {
    let admin_url = std::env::var("CLAVIS_TEST_POSTGRES_URL").ok()?;
    let name = format!("clavis_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("connect to CLAVIS_TEST_POSTGRES_URL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
    Some(format!("{base}/{name}"))
}

async fn postgres_env() -> Option<TestEnv> {
    Some(SharedDb::postgres().await?.instance().await)
}

/// SQLite always; PostgreSQL too when the test command provides a cluster.
pub async fn envs() -> Vec<TestEnv> {
    let mut envs = vec![sqlite_env().await];
    envs.extend(postgres_env().await);
    envs
}

/// A fresh, migrated database that several `Services` can share, the way
/// several `clavis` processes share one database. Each instance has its own
/// connection pool, caches and clock; they share the master key.
pub struct SharedDb {
    pub backend: &'static str,
    url: String,
    master_key: MasterKey,
    dir: Option<Arc<TempDir>>,
}

/// The SQL of every statement a connection executed, in order.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl StatementLog {
    /// Everything recorded so far, and forget it.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("statement log"))
    }
}

/// Whether a statement changes rows or schema.
pub fn is_write(sql: &str) -> bool {
    let verb = sql.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
    matches!(
        verb.as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "UPSERT" | "CREATE" | "ALTER" | "DROP" | "TRUNCATE"
    )
}

impl SharedDb {
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("clavis-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = domain::db::sqlite_url(&dir.join("test.db"));
        Self::migrated("sqlite", url, Some(Arc::new(TempDir(dir)))).await
    }

    pub async fn postgres() -> Option<Self> {
        Some(Self::migrated("postgres", postgres_url().await?, None).await)
    }

    async fn migrated(backend: &'static str, url: String, dir: Option<Arc<TempDir>>) -> Self {
        let db = domain::db::connect(&url).await.expect(backend);
        domain::db::migrate(&db).await.expect("migrate");
        db.close().await.ok();
        Self { backend, url, master_key: MasterKey::generate(), dir }
    }

    /// SQLite always; PostgreSQL too when the test command provides a cluster.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite().await];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// Services on a new connection pool with its own clock (at `t0()`).
    pub async fn instance(&self) -> TestEnv {
        let db = domain::db::connect(&self.url).await.expect(self.backend);
        self.wrap(db)
    }

    /// Like `instance`, recording every statement its connection executes.
    pub async fn logged_instance(&self) -> (TestEnv, StatementLog) {
        let mut db = domain::db::connect(&self.url).await.expect(self.backend);
        let log = StatementLog::default();
        let sink = log.clone();
        db.set_metric_callback(move |info| {
            if let Ok(mut statements) = sink.0.lock() {
                statements.push(info.statement.sql.clone());
            }
        });
        (self.wrap(db), log)
    }

    fn wrap(&self, db: sea_orm::DatabaseConnection) -> TestEnv {
        let clock = Arc::new(ManualClock::new(t0()));
        TestEnv {
            backend: self.backend,
            services: Services::new(db, clock.clone(), self.master_key.clone(), PUBLIC_URL),
            clock,
            _dir: self.dir.clone(),
        }
    }
}

impl TestEnv {
    pub fn now(&self) -> DateTime<Utc> {
        self.services.now()
    }

    pub async fn tenant(&self, name: &str) -> (TenantInfo, TenantScope) {
        let operator = self.services.operator_scope_for_cli();
        let tenant = self.services.create_tenant(&operator, NewTenant::named(name), self.now()).await.expect("tenant");
        let scope = self.services.scope_for_cli(&tenant.tenant_id).await.expect("scope");
        (tenant, scope)
    }

    pub async fn audit_actions(&self, tenant_id: &str) -> Vec<String> {
        use domain::entities::audit_event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        audit_event::Entity::find()
            .filter(audit_event::Column::TenantId.eq(tenant_id))
            .order_by_asc(audit_event::Column::Id)
            .all(self.services.db())
            .await
            .expect("audit")
            .into_iter()
            .map(|event| event.action)
            .collect()
    }
}

/// A client credentials request with HTTP Basic credentials and no scope or audience.
pub fn request(client_id: &str, secret: &str) -> TokenRequest {
    TokenRequest {
        credentials: ClientCredentials {
            client_id: client_id.to_owned(),
            client_secret: secret.to_owned(),
            method: AuthMethod::ClientSecretBasic,
        },
        scope: None,
        audiences: vec![],
    }
}

/// What the token endpoint does per request: the tenant's runtime, then the
/// grant. The access token, or the OAuth error code.
pub async fn token(env: &TestEnv, tenant_id: &str, client_id: &str, secret: &str) -> Result<String, ErrorCode> {
    let now = env.now();
    let runtime = env.services.tenant_runtime(tenant_id, now).await.expect("runtime").expect("tenant");
    env.services
        .issue_token(&runtime, &request(client_id, secret), now)
        .await
        .map(|t| t.access_token)
        .map_err(|e| e.code)
}
