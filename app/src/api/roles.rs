//! The Roles page's server functions, and the roles a calling application
//! holds (its expanded row): one domain call each, as the REST API's
//! `/roles` and `/applications/{clientId}/roles` make them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The scopes a role grants on one protected application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The protected application's client ID.
    pub application_id: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A role as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub description: String,
    /// What it grants, by protected application.
    pub access: Vec<RoleGrant>,
}

/// A role a calling application holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRole {
    pub id: String,
    pub name: String,
}

#[cfg(feature = "ssr")]
impl From<domain::services::Role> for RoleRow {
    fn from(role: domain::services::Role) -> Self {
        Self {
            id: role.id,
            name: role.name,
            description: role.description,
            access: role
                .access
                .into_iter()
                .map(|access| RoleGrant { application_id: access.application_id, scopes: access.scopes })
                .collect(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<domain::services::RoleRef> for HeldRole {
    fn from(role: domain::services::RoleRef) -> Self {
        Self { id: role.id, name: role.name }
    }
}

#[cfg(feature = "ssr")]
fn role_input(name: String, description: String, access: Vec<RoleGrant>) -> domain::services::RoleInput {
    domain::services::RoleInput {
        name,
        description,
        access: access
            .into_iter()
            .map(|grant| domain::services::RoleAccess { application_id: grant.application_id, scopes: grant.scopes })
            .collect(),
    }
}

/// The tenant's roles, by name (viewers may read them).
#[server(endpoint = "list_roles")]
pub async fn list_roles(tenant_id: String) -> Result<Vec<RoleRow>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let roles = ssr::services()?.list_roles(&scope).await?;
    Ok(roles.into_iter().map(RoleRow::from).collect())
}

/// Creates a role. Names are unique in the tenant; every scope must be one
/// its application defines.
#[server(endpoint = "create_role")]
pub async fn create_role(
    tenant_id: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] access: Vec<RoleGrant>,
) -> Result<RoleRow, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.create_role(&scope, role_input(name, description, access), services.now()).await?.into())
}

/// Replaces a role's name, description and grants.
#[server(endpoint = "update_role")]
pub async fn update_role(
    tenant_id: String,
    role_id: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] access: Vec<RoleGrant>,
) -> Result<RoleRow, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let input = role_input(name, description, access);
    Ok(services.update_role(&scope, &role_id, input, services.now()).await?.into())
}

/// Deletes a role; the applications that held it lose what it granted.
#[server(endpoint = "delete_role")]
pub async fn delete_role(tenant_id: String, role_id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.delete_role(&scope, &role_id, services.now()).await?)
}

/// The client IDs of the applications holding a role, for the deletion's
/// confirmation.
#[server(endpoint = "role_holders")]
pub async fn role_holders(tenant_id: String, role_id: String) -> Result<Vec<String>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    Ok(ssr::services()?.role_holders(&scope, &role_id).await?)
}

/// The roles a calling application holds, by name.
#[server(endpoint = "application_roles")]
pub async fn application_roles(tenant_id: String, client_id: String) -> Result<Vec<HeldRole>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let roles = ssr::services()?.application_roles(&scope, &client_id).await?;
    Ok(roles.into_iter().map(HeldRole::from).collect())
}

/// Replaces the roles a calling application holds; the answer is what it
/// holds now.
#[server(endpoint = "set_application_roles")]
pub async fn set_application_roles(
    tenant_id: String,
    client_id: String,
    #[server(default)] role_ids: Vec<String>,
) -> Result<Vec<HeldRole>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let roles = services.set_application_roles(&scope, &client_id, &role_ids, services.now()).await?;
    Ok(roles.into_iter().map(HeldRole::from).collect())
}
