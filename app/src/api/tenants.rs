//! The tenant a page shows, and the operators' tenant list.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The tenant a page is about, and what the signed-in user may do there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantContext {
    pub tenant_id: String,
    pub name: String,
    /// Admins (and operators) may change things; viewers only look.
    pub can_write: bool,
}

/// A tenant in the operators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub tenant_id: String,
    pub name: String,
    pub oauth_server_url: String,
    pub created_at: String,
}

#[cfg(feature = "ssr")]
impl From<domain::services::TenantInfo> for TenantRow {
    fn from(info: domain::services::TenantInfo) -> Self {
        Self {
            tenant_id: info.tenant_id,
            name: info.name,
            oauth_server_url: info.oauth_server_url,
            created_at: crate::ssr::rfc3339(info.created_at),
        }
    }
}

/// The tenant behind `/t/{tenant}/…`. A tenant the user cannot see is
/// `NotFound`, exactly like one that does not exist.
#[server(endpoint = "tenant")]
pub async fn open_tenant(tenant_id: String) -> Result<TenantContext, AppError> {
    use crate::ssr;
    let scope = ssr::granted_scope(&tenant_id).await?;
    let can_write = scope.can_write();
    let info = ssr::services()?.get_tenant(&scope.into_read()).await?;
    Ok(TenantContext { tenant_id: info.tenant_id, name: info.name, can_write })
}

/// Every tenant, for operators.
#[server(endpoint = "list_tenants")]
pub async fn list_tenants() -> Result<Vec<TenantRow>, AppError> {
    use crate::ssr;
    let operator = ssr::operator_scope().await?;
    let tenants = ssr::services()?.list_tenants(&operator).await?;
    Ok(tenants.into_iter().map(TenantRow::from).collect())
}

/// Creates a tenant (operators only) with the default signing settings.
#[server(endpoint = "create_tenant")]
pub async fn create_tenant(name: String) -> Result<TenantRow, AppError> {
    use crate::ssr;
    let operator = ssr::operator_scope().await?;
    let services = ssr::services()?;
    let tenant = services.create_tenant(&operator, domain::services::NewTenant::named(name), services.now()).await?;
    Ok(TenantRow::from(tenant))
}
