//! Access control: the scopes and identifier of a protected application,
//! roles that grant scopes on protected applications, and the roles each
//! caller holds.
//!
//! An application's scopes are a short ordered list (at most 50), kept as a
//! JSON array on its row; roles point at `(protected application, scope)`
//! pairs so that removing a scope or an application removes its grants.
//! No foreign keys, as elsewhere: each service deletes what it owns in the
//! same transaction, on SQLite and PostgreSQL alike.

use sea_orm_migration::prelude::*;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_access_control"
    }
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    TenantId,
    Identifier,
    Scopes,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoleScopes {
    Table,
    RoleId,
    ClientId,
    Scope,
}

#[derive(DeriveIden)]
enum ApplicationRoles {
    Table,
    ClientId,
    RoleId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(ColumnDef::new(Applications::Identifier).string_len(512).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(ColumnDef::new(Applications::Scopes).text().not_null().default("[]"))
                    .to_owned(),
            )
            .await?;
        // NULLs are distinct in unique indexes on both databases, so only
        // set identifiers must be unique in their tenant.
        manager
            .create_index(
                Index::create()
                    .name("applications_tenant_identifier")
                    .table(Applications::Table)
                    .col(Applications::TenantId)
                    .col(Applications::Identifier)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Roles::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Roles::TenantId).string_len(36).not_null())
                    .col(ColumnDef::new(Roles::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Roles::Description).text().not_null())
                    .col(ColumnDef::new(Roles::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Roles::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("roles_tenant_name")
                    .table(Roles::Table)
                    .col(Roles::TenantId)
                    .col(Roles::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleScopes::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RoleScopes::RoleId).string_len(36).not_null())
                    .col(ColumnDef::new(RoleScopes::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(RoleScopes::Scope).string_len(64).not_null())
                    .primary_key(
                        Index::create().col(RoleScopes::RoleId).col(RoleScopes::ClientId).col(RoleScopes::Scope),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("role_scopes_client")
                    .table(RoleScopes::Table)
                    .col(RoleScopes::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApplicationRoles::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ApplicationRoles::ClientId).string_len(36).not_null())
                    .col(ColumnDef::new(ApplicationRoles::RoleId).string_len(36).not_null())
                    .primary_key(Index::create().col(ApplicationRoles::ClientId).col(ApplicationRoles::RoleId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("application_roles_role")
                    .table(ApplicationRoles::Table)
                    .col(ApplicationRoles::RoleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [ApplicationRoles::Table.into_iden(), RoleScopes::Table.into_iden(), Roles::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("applications_tenant_identifier").table(Applications::Table).to_owned())
            .await?;
        for column in [Applications::Scopes, Applications::Identifier] {
            manager.alter_table(Table::alter().table(Applications::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
