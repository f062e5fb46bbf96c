//! Failure counts that every replica on one PostgreSQL shares: the client
//! authentication and sign-in throttles, so N processes do not grant N
//! times the attempts. Keys are SHA-256 digests (a sign-in key holds an
//! email); rows are written only on failures and pruned by housekeeping.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000009_throttle"
    }
}

#[derive(DeriveIden)]
enum ThrottleFailures {
    Table,
    Kind,
    KeyDigest,
    Failures,
    LastFailureAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ThrottleFailures::Table)
                    .col(ColumnDef::new(ThrottleFailures::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(ThrottleFailures::KeyDigest).string_len(64).not_null())
                    .col(ColumnDef::new(ThrottleFailures::Failures).integer().not_null())
                    .col(ColumnDef::new(ThrottleFailures::LastFailureAt).big_integer().not_null())
                    .primary_key(Index::create().col(ThrottleFailures::Kind).col(ThrottleFailures::KeyDigest))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_throttle_failures_last")
                    .table(ThrottleFailures::Table)
                    .col(ThrottleFailures::LastFailureAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ThrottleFailures::Table).to_owned()).await
    }
}
