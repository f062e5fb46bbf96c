//! The Cloud Directory: each tenant's end users, the roles they hold, their
//! refresh tokens (stored as SHA-256 digests, grouped in rotation families),
//! and the tenant's settings for both.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000008_cloud_directory"
    }
}

#[derive(DeriveIden)]
enum DirectoryUsers {
    Table,
    Id,
    ProfileId,
    TenantId,
    Email,
    EmailKey,
    UserName,
    GivenName,
    FamilyName,
    PasswordHash,
    Active,
    Status,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DirectoryUserRoles {
    Table,
    UserId,
    RoleId,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TenantId,
    FamilyId,
    UserId,
    ClientId,
    TokenDigest,
    Scope,
    Audience,
    AuthTime,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    RefreshEnabled,
    RefreshLifetimeSecs,
    DirectoryPasswordMinChars,
    DirectoryRejectCommonPasswords,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    ClientId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DirectoryUsers::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(DirectoryUsers::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(DirectoryUsers::ProfileId).string_len(36).not_null().unique_key())
                    .col(ColumnDef::new(DirectoryUsers::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(DirectoryUsers::Email).string_len(320).not_null())
                    .col(ColumnDef::new(DirectoryUsers::EmailKey).string_len(320).not_null())
                    .col(ColumnDef::new(DirectoryUsers::UserName).string_len(320).not_null())
                    .col(ColumnDef::new(DirectoryUsers::GivenName).string_len(200).not_null())
                    .col(ColumnDef::new(DirectoryUsers::FamilyName).string_len(200).not_null())
                    .col(ColumnDef::new(DirectoryUsers::PasswordHash).text().not_null())
                    .col(ColumnDef::new(DirectoryUsers::Active).boolean().not_null())
                    .col(ColumnDef::new(DirectoryUsers::Status).string_len(16).not_null())
                    .col(ColumnDef::new(DirectoryUsers::PasswordChangedAt).big_integer().not_null())
                    .col(ColumnDef::new(DirectoryUsers::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(DirectoryUsers::UpdatedAt).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectoryUsers::Table, DirectoryUsers::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Emails are unique per tenant, compared case-insensitively: the key
        // is the lower-cased email.
        manager
            .create_index(
                Index::create()
                    .name("idx_directory_users_tenant_email")
                    .table(DirectoryUsers::Table)
                    .col(DirectoryUsers::TenantId)
                    .col(DirectoryUsers::EmailKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DirectoryUserRoles::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(DirectoryUserRoles::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(DirectoryUserRoles::RoleId).string_len(36).not_null())
                    .primary_key(Index::create().col(DirectoryUserRoles::UserId).col(DirectoryUserRoles::RoleId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectoryUserRoles::Table, DirectoryUserRoles::UserId)
                            .to(DirectoryUsers::Table, DirectoryUsers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectoryUserRoles::Table, DirectoryUserRoles::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_directory_user_roles_role")
                    .table(DirectoryUserRoles::Table)
                    .col(DirectoryUserRoles::RoleId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RefreshTokens::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(RefreshTokens::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(RefreshTokens::FamilyId).string_len(36).not_null())
                    .col(ColumnDef::new(RefreshTokens::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(RefreshTokens::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(RefreshTokens::TokenDigest).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(RefreshTokens::Scope).text().null())
                    .col(ColumnDef::new(RefreshTokens::Audience).string_len(512).null())
                    .col(ColumnDef::new(RefreshTokens::AuthTime).big_integer().not_null())
                    .col(ColumnDef::new(RefreshTokens::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(RefreshTokens::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(RefreshTokens::UsedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(DirectoryUsers::Table, DirectoryUsers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::ClientId)
                            .to(Applications::Table, Applications::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_refresh_tokens_family", RefreshTokens::FamilyId),
            ("idx_refresh_tokens_user", RefreshTokens::UserId),
            ("idx_refresh_tokens_expires", RefreshTokens::ExpiresAt),
        ] {
            manager.create_index(Index::create().name(name).table(RefreshTokens::Table).col(column).to_owned()).await?;
        }
        let tenant_columns = [
            ColumnDef::new(Tenants::RefreshEnabled).boolean().not_null().default(true).to_owned(),
            ColumnDef::new(Tenants::RefreshLifetimeSecs).big_integer().not_null().default(2_592_000).to_owned(),
            ColumnDef::new(Tenants::DirectoryPasswordMinChars).integer().not_null().default(8).to_owned(),
            ColumnDef::new(Tenants::DirectoryRejectCommonPasswords).boolean().not_null().default(true).to_owned(),
        ];
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for mut column in tenant_columns {
            manager.alter_table(Table::alter().table(Tenants::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Tenants::DirectoryRejectCommonPasswords,
            Tenants::DirectoryPasswordMinChars,
            Tenants::RefreshLifetimeSecs,
            Tenants::RefreshEnabled,
        ] {
            manager.alter_table(Table::alter().table(Tenants::Table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(RefreshTokens::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(DirectoryUserRoles::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(DirectoryUsers::Table).to_owned()).await
    }
}
