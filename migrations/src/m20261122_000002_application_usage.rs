//! Tokens issued per application per minute, written by the usage flush.
//!
//! No foreign key to `applications`: a flush that races an application's
//! deletion must not fail the whole batch; deletion removes the rows itself.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_application_usage"
    }
}

#[derive(DeriveIden)]
enum ApplicationUsage {
    Table,
    ClientId,
    Minute,
    Tokens,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApplicationUsage::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ApplicationUsage::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(ApplicationUsage::Minute).big_integer().not_null())
                    .col(ColumnDef::new(ApplicationUsage::Tokens).big_integer().not_null())
                    .primary_key(Index::create().col(ApplicationUsage::ClientId).col(ApplicationUsage::Minute))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ApplicationUsage::Table).if_exists().to_owned()).await
    }
}
