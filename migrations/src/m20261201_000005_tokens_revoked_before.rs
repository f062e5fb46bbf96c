//! The kill switch of an application's tokens: every token it was issued
//! up to this moment fails wherever Clavis checks tokens.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000005_tokens_revoked_before"
    }
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    TokensRevokedBefore,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(ColumnDef::new(Applications::TokensRevokedBefore).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Applications::Table).drop_column(Applications::TokensRevokedBefore).to_owned(),
            )
            .await
    }
}
