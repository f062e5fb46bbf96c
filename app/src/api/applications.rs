//! The Applications tab's server functions: one domain call each, through
//! the same services as the REST management API.

use clavis_types::ManagementAccess;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::credentials::CredentialType;
use crate::error::AppError;

/// Rows per page of the applications table.
pub const PAGE_SIZE: u64 = 50;

/// The secret that keeps working during its grace period after a rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub last_four: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

/// An application as the dashboard shows it. Times come as RFC 3339 text
/// (shown) and Unix seconds (for ages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    pub oauth_server_url: String,
    pub discovery_endpoint: String,
    pub created_at: String,
    pub created_unix: i64,
    pub management_access: ManagementAccess,
    pub last_used_unix: Option<i64>,
    pub tokens_issued: i64,
    pub secret_last_four: String,
    pub secret_created_unix: i64,
    pub previous_secret: Option<PreviousSecret>,
    /// The full secret, only right after it was created, rotated or revealed.
    pub secret: Option<String>,
    /// The URI a token request may name it by, when it is a protected
    /// application with one.
    pub identifier: Option<String>,
    /// A secret, public keys or federated credentials.
    pub credential: CredentialType,
    /// Its Bearer token requests are refused: tokens must be DPoP-bound.
    pub dpop_required: bool,
}

#[cfg(feature = "ssr")]
impl From<domain::services::ApplicationView> for Application {
    fn from(view: domain::services::ApplicationView) -> Self {
        use crate::ssr::rfc3339;
        Self {
            created_unix: view.created_at.timestamp(),
            last_used_unix: view.last_used_at.map(|at| at.timestamp()),
            secret_created_unix: view.secret_created_at.map(|at| at.timestamp()).unwrap_or(view.created_at.timestamp()),
            client_id: view.client_id,
            tenant_id: view.tenant_id,
            name: view.name,
            oauth_server_url: view.oauth_server_url,
            discovery_endpoint: view.discovery_endpoint,
            created_at: rfc3339(view.created_at),
            management_access: view.management_access,
            tokens_issued: view.tokens_issued,
            secret_last_four: view.secret_last_four,
            previous_secret: view.previous_secret.map(|previous| PreviousSecret {
                last_four: previous.last_four,
                expires_at: rfc3339(previous.expires_at),
                last_used_at: previous.last_used_at.map(rfc3339),
            }),
            secret: view.secret,
            identifier: view.identifier,
            credential: view.credential.into(),
            dpop_required: view.dpop_required,
        }
    }
}

/// One page of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationList {
    pub applications: Vec<Application>,
    /// Pass back as `after` for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
    /// How many applications match the filter.
    pub total: u64,
    /// The server's clock, so ages read the same in the server render and
    /// after hydration.
    pub now_unix: i64,
}

/// A new secret and how long the old one keeps working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    pub secret: String,
    pub previous_expires_at: Option<String>,
}

/// A page of the tenant's applications, newest first, filtered by name or
/// client ID. Keyset pagination keeps every page as fast as the first.
#[server(endpoint = "list_applications")]
pub async fn list_applications(
    tenant_id: String,
    filter: String,
    after: Option<String>,
) -> Result<ApplicationList, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let services = ssr::services()?;
    let now = services.now();
    let query = domain::services::ListQuery { limit: Some(PAGE_SIZE), after, filter: Some(filter) };
    let page = services.list_applications(&scope, query, now).await?;
    Ok(ApplicationList {
        applications: page.applications.into_iter().map(Application::from).collect(),
        next_cursor: page.next_cursor,
        total: page.total,
        now_unix: now.timestamp(),
    })
}

#[server(endpoint = "get_application")]
pub async fn get_application(tenant_id: String, client_id: String) -> Result<Application, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.get_application(&scope, &client_id, services.now()).await?.into())
}

/// Registers an application; the answer carries its first secret.
#[server(endpoint = "create_application")]
pub async fn create_application(tenant_id: String, name: String) -> Result<Application, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let access = ManagementAccess::None;
    Ok(services.create_application(&scope, &name, access, services.now()).await?.into())
}

/// The current secret in full. Admins only; every call is audited.
#[server(endpoint = "reveal_secret")]
pub async fn reveal_secret(tenant_id: String, client_id: String) -> Result<String, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.reveal_secret(&scope, &client_id, services.now()).await?)
}

/// Issues a new secret; the old one keeps working for `grace_secs`.
#[server(endpoint = "rotate_secret")]
pub async fn rotate_secret(tenant_id: String, client_id: String, grace_secs: i64) -> Result<Rotated, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let rotated = services.rotate_secret(&scope, &client_id, grace_secs, services.now()).await?;
    Ok(Rotated { secret: rotated.secret, previous_expires_at: rotated.previous_secret_expires_at.map(ssr::rfc3339) })
}

/// Ends the previous secret's grace period now.
#[server(endpoint = "revoke_previous_secret")]
pub async fn revoke_previous_secret(tenant_id: String, client_id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.revoke_previous_secret(&scope, &client_id, services.now()).await?)
}

#[server(endpoint = "rename_application")]
pub async fn rename_application(tenant_id: String, client_id: String, name: String) -> Result<Application, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.rename_application(&scope, &client_id, &name, services.now()).await?.into())
}

/// Sets what the application may do with the management API.
#[server(endpoint = "set_management_access")]
pub async fn set_management_access(
    tenant_id: String,
    client_id: String,
    access: String,
) -> Result<Application, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let access = ManagementAccess::parse(&access).map_err(AppError::from_parse)?;
    Ok(services.set_management_access(&scope, &client_id, access, services.now()).await?.into())
}

/// Sets (`Some`) or removes (`None`) the identifier a token request may
/// name the application by. `name` is its current name: the domain's update
/// takes both, so a rename and an identifier change are one audited act.
#[server(endpoint = "set_application_identifier")]
pub async fn set_application_identifier(
    tenant_id: String,
    client_id: String,
    name: String,
    identifier: Option<String>,
) -> Result<Application, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let update = domain::services::ApplicationUpdate { name, identifier: Some(identifier) };
    Ok(services.update_application(&scope, &client_id, update, services.now()).await?.into())
}

/// The scopes the application defines for its callers, in order.
#[server(endpoint = "application_scopes")]
pub async fn application_scopes(tenant_id: String, client_id: String) -> Result<Vec<String>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    Ok(ssr::services()?.application_scopes(&scope, &client_id).await?)
}

/// Replaces the scopes the application defines; a scope left out is also
/// taken out of every role that granted it. The rules are
/// `clavis_types::validate_scope_list`, checked again here.
#[server(endpoint = "set_application_scopes")]
pub async fn set_application_scopes(
    tenant_id: String,
    client_id: String,
    #[server(default)] scopes: Vec<String>,
) -> Result<Vec<String>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.set_application_scopes(&scope, &client_id, scopes, services.now()).await?)
}

/// Deletes the application; its secrets stop working at once.
#[server(endpoint = "delete_application")]
pub async fn delete_application(tenant_id: String, client_id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.delete_application(&scope, &client_id, services.now()).await?)
}

/// Tokens issued per minute over the last hour, the current minute last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub per_minute: Vec<i64>,
    /// Unix seconds of the first minute.
    pub from_unix: i64,
}

/// The application's token usage over the last hour (viewers may read it).
#[server(endpoint = "application_usage")]
pub async fn application_usage(tenant_id: String, client_id: String) -> Result<Usage, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let services = ssr::services()?;
    let minutes = clavis_types::DEFAULT_USAGE_MINUTES;
    let usage = services.token_usage(&scope, &client_id, minutes, services.now()).await?;
    Ok(Usage { per_minute: usage.per_minute, from_unix: usage.from.timestamp() })
}

/// The kill switch of an application's tokens: every token issued to it
/// before now stops being accepted by introspection and the management
/// API. Returns that moment (RFC 3339).
#[server(endpoint = "revoke_application_tokens")]
pub async fn revoke_application_tokens(tenant_id: String, client_id: String) -> Result<String, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let before = services.revoke_application_tokens(&scope, &client_id, services.now()).await?;
    Ok(ssr::rfc3339(before))
}
