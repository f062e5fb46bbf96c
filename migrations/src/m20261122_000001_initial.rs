//! The initial data model: tenants, users, memberships, applications, client
//! secrets, signing keys, audit events, revoked tokens and dashboard sessions.
//!
//! Timestamps are Unix seconds (`BIGINT`) so that comparisons behave the same
//! on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_initial"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    SigningAlg,
    TokenLifetimeSecs,
    DefaultScope,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    IsOperator,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    UserId,
    TenantId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    ClientId,
    TenantId,
    Name,
    ManagementAccess,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
    TokensIssued,
}

#[derive(DeriveIden)]
enum ClientSecrets {
    Table,
    Id,
    ClientId,
    TenantId,
    Status,
    Digest,
    SealedSecret,
    LastFour,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    TenantId,
    Alg,
    Status,
    SealedPrivateKey,
    PublicJwk,
    CreatedAt,
    RetiredAt,
    PublishUntil,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    TenantId,
    Actor,
    Action,
    Target,
    SourceAddr,
    Details,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    Jti,
    TenantId,
    ClientId,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Data,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Tenants::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Tenants::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Tenants::SigningAlg).string_len(16).not_null())
                    .col(ColumnDef::new(Tenants::TokenLifetimeSecs).big_integer().not_null())
                    .col(ColumnDef::new(Tenants::DefaultScope).string_len(200).not_null())
                    .col(ColumnDef::new(Tenants::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Tenants::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Users::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Users::Email).string_len(320).not_null().unique_key())
                    .col(ColumnDef::new(Users::PasswordHash).text().not_null())
                    .col(ColumnDef::new(Users::IsOperator).boolean().not_null().default(false))
                    .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Memberships::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(Memberships::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(Memberships::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Memberships::CreatedAt).big_integer().not_null())
                    .primary_key(Index::create().col(Memberships::UserId).col(Memberships::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Applications::ClientId).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Applications::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(Applications::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Applications::ManagementAccess).string_len(8).not_null().default("none"))
                    .col(ColumnDef::new(Applications::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Applications::UpdatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Applications::LastUsedAt).big_integer().null())
                    .col(ColumnDef::new(Applications::TokensIssued).big_integer().not_null().default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Applications::Table, Applications::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_applications_tenant_created")
                    .table(Applications::Table)
                    .col(Applications::TenantId)
                    .col(Applications::CreatedAt)
                    .col(Applications::ClientId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientSecrets::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ClientSecrets::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(ClientSecrets::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(ClientSecrets::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(ClientSecrets::Status).string_len(16).not_null())
                    .col(ColumnDef::new(ClientSecrets::Digest).string_len(64).not_null())
                    .col(ColumnDef::new(ClientSecrets::SealedSecret).text().not_null())
                    .col(ColumnDef::new(ClientSecrets::LastFour).string_len(4).not_null())
                    .col(ColumnDef::new(ClientSecrets::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ClientSecrets::ExpiresAt).big_integer().null())
                    .col(ColumnDef::new(ClientSecrets::LastUsedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClientSecrets::Table, ClientSecrets::ClientId)
                            .to(Applications::Table, Applications::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_client_secrets_client")
                    .table(ClientSecrets::Table)
                    .col(ClientSecrets::ClientId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(SigningKeys::Kid).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(SigningKeys::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(SigningKeys::Alg).string_len(16).not_null())
                    .col(ColumnDef::new(SigningKeys::Status).string_len(16).not_null())
                    .col(ColumnDef::new(SigningKeys::SealedPrivateKey).text().not_null())
                    .col(ColumnDef::new(SigningKeys::PublicJwk).text().not_null())
                    .col(ColumnDef::new(SigningKeys::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(SigningKeys::RetiredAt).big_integer().null())
                    .col(ColumnDef::new(SigningKeys::PublishUntil).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(SigningKeys::Table, SigningKeys::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_signing_keys_tenant")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::TenantId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AuditEvents::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditEvents::TenantId).string_len(36).null())
                    .col(ColumnDef::new(AuditEvents::Actor).string_len(320).not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::Target).string_len(320).not_null())
                    .col(ColumnDef::new(AuditEvents::SourceAddr).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::Details).text().null())
                    .col(ColumnDef::new(AuditEvents::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_audit_events_tenant_id")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::TenantId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RevokedTokens::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RevokedTokens::Jti).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(RevokedTokens::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(RevokedTokens::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(RevokedTokens::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(RevokedTokens::RevokedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Sessions::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Sessions::Data).text().not_null())
                    .col(ColumnDef::new(Sessions::ExpiresAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Sessions::Table.into_iden(),
            RevokedTokens::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            ClientSecrets::Table.into_iden(),
            Applications::Table.into_iden(),
            Memberships::Table.into_iden(),
            Users::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
