//! Credentials without shared secrets: an application's public keys (a
//! JWKS, or where to fetch one), the tenant's trusted workload-identity
//! issuers and the federated credentials that name them, single-use `jti`s
//! of client assertions and DPoP proofs (shared by every replica), and the
//! DPoP settings of tenants and applications.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000012_client_keys"
    }
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    ClientId,
    Jwks,
    JwksUri,
    DpopRequired,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    DpopNonceRequired,
}

#[derive(DeriveIden)]
enum TrustedIssuers {
    Table,
    Id,
    TenantId,
    Name,
    Issuer,
    JwksUri,
    Jwks,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FederatedCredentials {
    Table,
    Id,
    TenantId,
    ClientId,
    IssuerId,
    Subject,
    Audience,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SpentJtis {
    Table,
    Digest,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(ColumnDef::new(Applications::Jwks).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(ColumnDef::new(Applications::JwksUri).string_len(2048).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(ColumnDef::new(Applications::DpopRequired).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(ColumnDef::new(Tenants::DpopNonceRequired).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrustedIssuers::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(TrustedIssuers::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(TrustedIssuers::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(TrustedIssuers::Name).string_len(200).not_null())
                    .col(ColumnDef::new(TrustedIssuers::Issuer).string_len(2048).not_null())
                    .col(ColumnDef::new(TrustedIssuers::JwksUri).string_len(2048).null())
                    .col(ColumnDef::new(TrustedIssuers::Jwks).text().null())
                    .col(ColumnDef::new(TrustedIssuers::CreatedAt).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(TrustedIssuers::Table, TrustedIssuers::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One entry per issuer URL in a tenant: an assertion's `iss` names
        // exactly one set of keys.
        manager
            .create_index(
                Index::create()
                    .name("idx_trusted_issuers_tenant_issuer")
                    .table(TrustedIssuers::Table)
                    .col(TrustedIssuers::TenantId)
                    .col(TrustedIssuers::Issuer)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FederatedCredentials::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(FederatedCredentials::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(FederatedCredentials::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(FederatedCredentials::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(FederatedCredentials::IssuerId).string_len(36).not_null())
                    .col(ColumnDef::new(FederatedCredentials::Subject).string_len(512).not_null())
                    .col(ColumnDef::new(FederatedCredentials::Audience).string_len(2048).not_null())
                    .col(ColumnDef::new(FederatedCredentials::CreatedAt).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(FederatedCredentials::Table, FederatedCredentials::ClientId)
                            .to(Applications::Table, Applications::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(FederatedCredentials::Table, FederatedCredentials::IssuerId)
                            .to(TrustedIssuers::Table, TrustedIssuers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_federated_credentials_client")
                    .table(FederatedCredentials::Table)
                    .col(FederatedCredentials::ClientId)
                    .to_owned(),
            )
            .await?;
        // A spent `jti` is kept, as a digest of its context and value, until
        // the assertion or proof that carried it could no longer be used.
        manager
            .create_table(
                Table::create()
                    .table(SpentJtis::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(SpentJtis::Digest).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(SpentJtis::ExpiresAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_spent_jtis_expires")
                    .table(SpentJtis::Table)
                    .col(SpentJtis::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SpentJtis::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(FederatedCredentials::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(TrustedIssuers::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::DpopNonceRequired).to_owned())
            .await?;
        for column in [Applications::DpopRequired, Applications::JwksUri, Applications::Jwks] {
            manager.alter_table(Table::alter().table(Applications::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
