//! Member invitations and password-reset links (one-time tokens stored as
//! SHA-256 digests), and the user of each session, so that a password
//! change or reset can end that user's other sessions.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_invitations"
    }
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TenantId,
    Email,
    Role,
    InvitedBy,
    TokenDigest,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    TokenDigest,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Invitations::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Invitations::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(Invitations::Email).string_len(320).not_null())
                    .col(ColumnDef::new(Invitations::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Invitations::InvitedBy).string_len(320).not_null())
                    .col(ColumnDef::new(Invitations::TokenDigest).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Invitations::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Invitations::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(Invitations::UsedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitations_tenant")
                    .table(Invitations::Table)
                    .col(Invitations::TenantId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PasswordResets::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(PasswordResets::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(PasswordResets::TokenDigest).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(PasswordResets::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(PasswordResets::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(PasswordResets::UsedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::UserId).string_len(36).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_sessions_user").table(Sessions::Table).col(Sessions::UserId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_sessions_user").table(Sessions::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::UserId).to_owned()).await?;
        manager.drop_table(Table::drop().table(PasswordResets::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Invitations::Table).to_owned()).await
    }
}
