//! The Members page's server functions.

use clavis_types::MemberRole;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A member of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub role: MemberRole,
    pub added_at: String,
}

#[cfg(feature = "ssr")]
impl From<domain::services::Member> for MemberRow {
    fn from(member: domain::services::Member) -> Self {
        Self {
            user_id: member.user_id,
            email: member.email,
            role: member.role,
            added_at: crate::ssr::rfc3339(member.added_at),
        }
    }
}

#[server(endpoint = "list_members")]
pub async fn list_members(tenant_id: String) -> Result<Vec<MemberRow>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let members = ssr::services()?.list_members(&scope).await?;
    Ok(members.into_iter().map(MemberRow::from).collect())
}

/// Changes a member's role; the last admin cannot be demoted.
#[server(endpoint = "change_member_role")]
pub async fn change_member_role(tenant_id: String, user_id: String, role: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let role = MemberRole::parse(&role).map_err(AppError::from_parse)?;
    Ok(services.change_member_role(&scope, &user_id, role, services.now()).await?)
}

/// Removes a member; the last admin cannot be removed.
#[server(endpoint = "remove_member")]
pub async fn remove_member(tenant_id: String, user_id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.remove_member(&scope, &user_id, services.now()).await?)
}
