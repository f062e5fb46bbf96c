//! Invitations: the Members page invites, lists and revokes; the invite
//! page shows and accepts one. Tokens travel in request bodies only.

use clavis_types::MemberRole;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::account::LinkView;
use crate::error::AppError;

/// A pending invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: MemberRole,
    pub invited_by: String,
    pub expires_at: String,
}

/// A new invitation and its link, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvitation {
    pub invitation: InvitationRow,
    pub link: LinkView,
}

/// What the invite page shows the link's holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub tenant_name: String,
    pub email: String,
    pub role: MemberRole,
    pub expires_at: String,
}

#[cfg(feature = "ssr")]
impl From<domain::services::Invitation> for InvitationRow {
    fn from(invitation: domain::services::Invitation) -> Self {
        Self {
            id: invitation.id,
            email: invitation.email,
            role: invitation.role,
            invited_by: invitation.invited_by,
            expires_at: crate::ssr::rfc3339(invitation.expires_at),
        }
    }
}

/// Invites `email` with `role`; the answer is the same whether or not the
/// email has an account.
#[server(endpoint = "invite_member")]
pub async fn invite_member(tenant_id: String, email: String, role: String) -> Result<CreatedInvitation, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let role = MemberRole::parse(&role).map_err(AppError::from_parse)?;
    let created = services.invite_member(&scope, &email, role, services.now()).await?;
    Ok(CreatedInvitation { invitation: created.invitation.into(), link: created.link.into() })
}

#[server(endpoint = "list_invitations")]
pub async fn list_invitations(tenant_id: String) -> Result<Vec<InvitationRow>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.list_invitations(&scope, services.now()).await?.into_iter().map(InvitationRow::from).collect())
}

#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(tenant_id: String, invitation_id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.revoke_invitation(&scope, &invitation_id, services.now()).await?)
}

#[server(endpoint = "invitation_details")]
pub async fn invitation_details(token: String) -> Result<InvitationView, AppError> {
    use crate::ssr;
    let services = ssr::services()?;
    let details = services.invitation_details(&token, services.now()).await?;
    Ok(InvitationView {
        tenant_name: details.tenant_name,
        email: details.email,
        role: details.role,
        expires_at: ssr::rfc3339(details.expires_at),
    })
}

/// Accepts an invitation: `password` is the new account's (by the policy),
/// or the existing account's own.
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, password: String) -> Result<(), AppError> {
    use crate::error::ErrorKind;
    use crate::ssr;
    let services = ssr::services()?;
    let source = ssr::source_addr().await;
    services.accept_invitation(&token, &password, source.as_deref(), services.now()).await.map_err(|err| match err {
        domain::Error::Unauthenticated => {
            AppError::new(ErrorKind::Unauthenticated, "Incorrect password for this account.")
        }
        other => AppError::from(other),
    })
}
