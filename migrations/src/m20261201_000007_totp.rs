//! The TOTP second factor: each user's sealed secret and last used step,
//! their recovery code digests, sign-ins waiting for a second factor, and a
//! tenant's "two-factor required for admins" setting.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000007_totp"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    RequireAdminSecondFactor,
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    SealedSecret,
    CreatedAt,
    EnabledAt,
    LastUsedStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    Digest,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum PendingSignIns {
    Table,
    Digest,
    UserId,
    ExpiresAt,
}

fn user_fk(from: (impl IntoIden + 'static, impl IntoIden + 'static)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(ColumnDef::new(Tenants::RequireAdminSecondFactor).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserTotp::Table)
                    .col(ColumnDef::new(UserTotp::UserId).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(UserTotp::SealedSecret).text().not_null())
                    .col(ColumnDef::new(UserTotp::CreatedAt).big_integer().not_null())
                    // NULL while the enrolment waits for its first correct code.
                    .col(ColumnDef::new(UserTotp::EnabledAt).big_integer().null())
                    .col(ColumnDef::new(UserTotp::LastUsedStep).big_integer().null())
                    .foreign_key(&mut user_fk((UserTotp::Table, UserTotp::UserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(ColumnDef::new(RecoveryCodes::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(RecoveryCodes::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(RecoveryCodes::Digest).string_len(64).not_null())
                    .col(ColumnDef::new(RecoveryCodes::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(RecoveryCodes::UsedAt).big_integer().null())
                    .foreign_key(&mut user_fk((RecoveryCodes::Table, RecoveryCodes::UserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recovery_codes_user")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PendingSignIns::Table)
                    .col(ColumnDef::new(PendingSignIns::Digest).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(PendingSignIns::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(PendingSignIns::ExpiresAt).big_integer().not_null())
                    .foreign_key(&mut user_fk((PendingSignIns::Table, PendingSignIns::UserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pending_sign_ins_expires")
                    .table(PendingSignIns::Table)
                    .col(PendingSignIns::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PendingSignIns::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(UserTotp::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::RequireAdminSecondFactor).to_owned())
            .await
    }
}
