//! What the test suites of `domain` and `server` share: the fixed time tests
//! start at, and a fresh database in the throwaway PostgreSQL cluster that
//! the test command starts (`scripts/with-postgres.sh`).

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Database};

/// The moment every test clock starts at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).single().unwrap_or_default()
}

/// A new, empty database in the cluster named by `CLAVIS_TEST_POSTGRES_URL`,
/// so tests never share rows; `None` when no cluster was provided.
///
/// # Panics
///
/// When the variable is set but the cluster cannot be reached: a test run
/// that was promised PostgreSQL must not quietly skip it.
#[allow(clippy::expect_used)]
pub async fn postgres_url() -> Option<String> {
    let admin_url = std::env::var("CLAVIS_TEST_POSTGRES_URL").ok()?;
    let name = format!("clavis_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("connect to CLAVIS_TEST_POSTGRES_URL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
    Some(format!("{base}/{name}"))
}
