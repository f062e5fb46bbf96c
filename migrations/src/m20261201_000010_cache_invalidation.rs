//! The notices of cache invalidation on SQLite: a write that changes what
//! processes cache appends a row in its own transaction, and every serving
//! process reads the rows after the last one it saw (PostgreSQL sends the
//! same notices with `NOTIFY` instead and leaves this table empty). Old rows
//! are pruned by the readers.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000010_cache_invalidation"
    }
}

#[derive(DeriveIden)]
enum CacheInvalidation {
    Table,
    Seq,
    Payload,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CacheInvalidation::Table)
                    .col(ColumnDef::new(CacheInvalidation::Seq).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(CacheInvalidation::Payload).string_len(200).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CacheInvalidation::Table).to_owned()).await
    }
}
