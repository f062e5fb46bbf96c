//! Schema migrations for Clavis, portable across SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_application_usage;
mod m20261201_000003_access_control;
mod m20261201_000004_session_created_at;
mod m20261201_000005_tokens_revoked_before;
mod m20261201_000006_invitations;
mod m20261201_000007_totp;
mod m20261201_000008_cloud_directory;
mod m20261201_000009_throttle;
mod m20261201_000010_cache_invalidation;
mod m20261201_000011_key_rotation;
mod m20261201_000012_client_keys;

/// Every migration, in order. Applied at start-up and by `clavis migrate`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_application_usage::Migration),
            Box::new(m20261201_000003_access_control::Migration),
            Box::new(m20261201_000004_session_created_at::Migration),
            Box::new(m20261201_000005_tokens_revoked_before::Migration),
            Box::new(m20261201_000006_invitations::Migration),
            Box::new(m20261201_000007_totp::Migration),
            Box::new(m20261201_000008_cloud_directory::Migration),
            Box::new(m20261201_000009_throttle::Migration),
            Box::new(m20261201_000010_cache_invalidation::Migration),
            Box::new(m20261201_000011_key_rotation::Migration),
            Box::new(m20261201_000012_client_keys::Migration),
        ]
    }
}
