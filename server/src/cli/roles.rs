//! `clavis role …` and the access-control commands of `clavis app …`:
//! scopes, identifiers, roles and the roles of callers, printed in the
//! management API's JSON so a script can switch between the two.

use clap::Subcommand;
use domain::Services;
use domain::services::{ApplicationUpdate, CliAuthority, RoleAccess, RoleInput};

use super::{CliError, print_json};
use crate::http::management::model::{Application, ApplicationRoles, Role, RoleList, Scopes};

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role; each --grant names a protected application and scopes.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// `CLIENT_ID:scope,scope` (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    /// List the tenant's roles with what they grant.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Replace a role's name, description and grants.
    Update {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        role_id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// `CLIENT_ID:scope,scope` (repeatable); the role grants only these.
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    /// Delete a role; the applications holding it lose what it granted.
    Delete {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        role_id: String,
    },
}

/// The access-control subcommands of `clavis app`.
#[derive(Debug, Subcommand)]
pub enum AppAccessCommand {
    /// Replace the scopes a protected application defines (comma-separated; empty for none).
    SetScopes {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        #[arg(long, default_value = "")]
        scopes: String,
    },
    /// Set the identifier (audience URI) of a protected application, or remove it.
    SetIdentifier {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        /// An absolute https:// URI; omit with --remove.
        #[arg(long, required_unless_present = "remove")]
        identifier: Option<String>,
        #[arg(long, conflicts_with = "identifier")]
        remove: bool,
    },
    /// Replace the roles a calling application holds (comma-separated role IDs).
    SetRoles {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        #[arg(long, default_value = "")]
        roles: String,
    },
}

fn list(text: &str) -> Vec<String> {
    text.split([',', ' ']).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// `CLIENT_ID:scope,scope` → what the role grants on that application.
fn parse_grants(grants: &[String]) -> Result<Vec<RoleAccess>, CliError> {
    grants
        .iter()
        .map(|grant| {
            let (application_id, scopes) = grant
                .split_once(':')
                .ok_or_else(|| CliError::Usage(format!("--grant {grant:?} must be CLIENT_ID:scope,scope")))?;
            Ok(RoleAccess { application_id: application_id.to_owned(), scopes: list(scopes) })
        })
        .collect()
}

pub async fn run_role(services: &Services, authority: &CliAuthority, command: RoleCommand) -> Result<(), CliError> {
    let now = services.now();
    match command {
        RoleCommand::Create { tenant, name, description, grants } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let input = RoleInput { name, description, access: parse_grants(&grants)? };
            print_json(&Role::from(services.create_role(&scope, input, now).await?))
        }
        RoleCommand::List { tenant } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let roles = services.list_roles(&scope).await?;
            print_json(&RoleList { roles: roles.into_iter().map(Role::from).collect() })
        }
        RoleCommand::Update { tenant, role_id, name, description, grants } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let input = RoleInput { name, description, access: parse_grants(&grants)? };
            print_json(&Role::from(services.update_role(&scope, &role_id, input, now).await?))
        }
        RoleCommand::Delete { tenant, role_id } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            services.delete_role(&scope, &role_id, now).await?;
            print_json(&serde_json::json!({ "roleId": role_id, "deleted": true }))
        }
    }
}

pub(super) async fn run_app_access(
    services: &Services,
    authority: &CliAuthority,
    command: AppAccessCommand,
) -> Result<(), CliError> {
    let now = services.now();
    match command {
        AppAccessCommand::SetScopes { tenant, client_id, scopes } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let scopes = services.set_application_scopes(&scope, &client_id, list(&scopes), now).await?;
            print_json(&Scopes { scopes })
        }
        AppAccessCommand::SetIdentifier { tenant, client_id, identifier, remove } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let name = services.get_application(&scope, &client_id, now).await?.name;
            let identifier = if remove { None } else { identifier };
            let update = ApplicationUpdate { name, identifier: Some(identifier) };
            print_json(&Application::from(services.update_application(&scope, &client_id, update, now).await?))
        }
        AppAccessCommand::SetRoles { tenant, client_id, roles } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let roles = services.set_application_roles(&scope, &client_id, &list(&roles), now).await?;
            print_json(&ApplicationRoles { roles: roles.into_iter().map(Into::into).collect() })
        }
    }
}
