//! Fresh databases and services for each test, on every configured backend.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use domain::crypto::MasterKey;
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
}

async fn sqlite_env() -> TestEnv {
    let dir = std::env::temp_dir().join(format!("clavis-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = domain::db::connect(&domain::db::sqlite_url(&dir.join("test.db"))).await.expect("sqlite");
    domain::db::migrate(&db).await.expect("migrate sqlite");
    let clock = Arc::new(ManualClock::new(t0()));
    TestEnv { backend: "sqlite", services: Services::new(db, clock.clone(), MasterKey::generate(), PUBLIC_URL), clock }
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
    let url = postgres_url().await?;
    let db = domain::db::connect(&url).await.expect("postgres");
    domain::db::migrate(&db).await.expect("migrate postgres");
    let clock = Arc::new(ManualClock::new(t0()));
    Some(TestEnv { backend: "postgres", services: Services::new(db, clock.clone(), MasterKey::generate(), PUBLIC_URL), clock })
}

/// SQLite always; PostgreSQL too when the test command provides a cluster.
pub async fn envs() -> Vec<TestEnv> {
    let mut envs = vec![sqlite_env().await];
    envs.extend(postgres_env().await);
    envs
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
