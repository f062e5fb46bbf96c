//! Fresh databases and services for each test, on every configured backend.

use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::{DateTime, Utc};
use clavis_oauth::introspection::IntrospectionResponse;
use clavis_oauth::request::RawRequest;
use clavis_oauth::{ErrorCode, OAuthError};
pub use clavis_test_support::{postgres_url, t0};
use domain::crypto::MasterKey;
use domain::services::{CliAuthority, NewTenant, TenantInfo, TokenResponse};
use domain::{ManualClock, Services, TenantScope, Write};

pub const PUBLIC_URL: &str = "https://id.example.test";

/// One backend's fresh, migrated database wrapped in services.
pub struct TestEnv {
    pub backend: &'static str,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    /// What the `clavis` command line may do: full rights in every tenant.
    pub cli: Arc<CliAuthority>,
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

    /// The database's URL, for tests that read rows as stored.
    pub fn url(&self) -> &str {
        &self.url
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
        let (services, cli) = Services::for_cli(db, clock.clone(), self.master_key.clone(), PUBLIC_URL);
        TestEnv { backend: self.backend, services, clock, cli: Arc::new(cli), _dir: self.dir.clone() }
    }
}

impl TestEnv {
    pub fn now(&self) -> DateTime<Utc> {
        self.services.now()
    }

    pub async fn tenant(&self, name: &str) -> (TenantInfo, TenantScope<Write>) {
        let operator = self.cli.operator_scope();
        let tenant = self.services.create_tenant(&operator, NewTenant::named(name), self.now()).await.expect("tenant");
        let scope = self.cli.tenant_scope(&self.services, &tenant.tenant_id).await.expect("scope");
        (tenant, scope)
    }

    /// The tenant's audit actions, oldest first.
    pub async fn audit_actions(&self, tenant_id: &str) -> Vec<String> {
        let scope = self.cli.tenant_scope(&self.services, tenant_id).await.expect("scope");
        let page = self.services.list_audit(&scope, Some(domain::services::MAX_AUDIT_PAGE), None).await.expect("audit");
        page.entries.into_iter().rev().map(|entry| entry.action).collect()
    }
}

impl TestEnv {
    /// The operator audit's actions (acts about accounts), oldest first.
    pub async fn operator_audit_actions(&self) -> Vec<String> {
        let operator = self.cli.operator_scope();
        let page = self
            .services
            .list_operator_audit(&operator, Some(domain::services::MAX_AUDIT_PAGE), None)
            .await
            .expect("operator audit");
        page.entries.into_iter().rev().map(|entry| entry.action).collect()
    }

    /// The token at the end of a one-time link.
    pub fn token_of(link: &str) -> String {
        link.rsplit('/').next().expect("token").to_owned()
    }
}

pub fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}")))
}

/// A form request with HTTP Basic credentials, the way the HTTP adapter
/// hands one to the services.
pub fn form<'a>(authorization: &'a str, body: &'a str) -> RawRequest<'a> {
    RawRequest {
        authorization: Some(authorization.as_bytes()),
        several_authorizations: false,
        content_type: Some(b"application/x-www-form-urlencoded"),
        body: Some(body.as_bytes()),
        dpop: None,
        several_dpops: false,
    }
}

/// The token endpoint's answer to a form `body` with HTTP Basic credentials.
pub async fn token_with(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    body: &str,
) -> Result<TokenResponse, OAuthError> {
    let authorization = basic(client_id, secret);
    env.services.token(tenant_id, form(&authorization, body), None, env.now()).await
}

/// A client credentials request with no scope or audience.
pub async fn token_response(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
) -> Result<TokenResponse, OAuthError> {
    token_with(env, tenant_id, client_id, secret, "grant_type=client_credentials").await
}

/// The access token, or the OAuth error code.
pub async fn token(env: &TestEnv, tenant_id: &str, client_id: &str, secret: &str) -> Result<String, ErrorCode> {
    token_response(env, tenant_id, client_id, secret).await.map(|t| t.access_token).map_err(|e| e.code)
}

/// Introspection of `token` by the client `client_id`.
pub async fn introspect(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    token: &str,
) -> Result<IntrospectionResponse, OAuthError> {
    let authorization = basic(client_id, secret);
    let body = format!("token={token}");
    env.services.introspect(tenant_id, form(&authorization, &body), None, env.now()).await
}

/// Revocation of `token` by the client `client_id`.
pub async fn revoke(
    env: &TestEnv,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    token: &str,
) -> Result<(), OAuthError> {
    let authorization = basic(client_id, secret);
    let body = format!("token={token}");
    env.services.revoke(tenant_id, form(&authorization, &body), None, env.now()).await
}

/// The `kid` in a token's header: the key it was signed with.
pub fn kid_of(token: &str) -> String {
    let header = token.split('.').next().expect("header");
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("base64");
    let header: serde_json::Value = serde_json::from_slice(&header).expect("json");
    header["kid"].as_str().expect("kid").to_owned()
}

/// The JOSE header of a token.
pub fn header_of(token: &str) -> serde_json::Value {
    let part = token.split('.').next().expect("header");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64"))
        .expect("json")
}

/// The claims of a token, decoded without verification (for reading claims
/// that introspection does not return).
pub fn payload_of(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64"))
        .expect("json")
}
