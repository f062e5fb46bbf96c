//! Sessions remember when they began, so that they end after an absolute
//! lifetime however active they stay. Sessions of earlier versions (stored
//! under their raw IDs, which are now hashed) cannot be found any more and
//! expire with their idle deadline.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000004_session_created_at"
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::CreatedAt).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::CreatedAt).to_owned()).await
    }
}
