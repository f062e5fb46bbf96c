//! Scriptable subcommands: JSON on stdout, one-line errors on stderr. The
//! command line acts with the [`CliAuthority`] of whoever runs it on the
//! host; nothing else in the server holds one.

mod json;
mod master_key;
mod roles;
mod users;

pub use master_key::{MasterKeyCommand, run_master_key};
pub use roles::{AppAccessCommand, RoleCommand, run_role};
pub use users::{UserCommand, run_user};

use clap::Subcommand;
use clavis_oauth::jose::Algorithm;
use clavis_types::ManagementAccess;
use domain::Services;
use domain::services::{CliAuthority, ListQuery, NewApplication, NewTenant};

use crate::http::management::model::{Application, RotatedSecret};

/// A CLI failure, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Domain(#[from] domain::Error),
    #[error("{0}")]
    Usage(String),
}

impl From<clavis_types::ParseEnumError> for CliError {
    fn from(err: clavis_types::ParseEnumError) -> Self {
        Self::Usage(err.to_string())
    }
}

fn signing_alg(name: &str) -> Result<Algorithm, CliError> {
    Algorithm::from_name(name)
        .ok_or_else(|| CliError::Usage("signing algorithm must be RS256, ES256 or EdDSA".to_owned()))
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with a fresh signing key.
    Create {
        #[arg(long)]
        name: String,
        /// RS256 (default), ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        signing_alg: String,
        /// Access-token lifetime in seconds (300 to 86400).
        #[arg(long, default_value_t = 3600)]
        token_lifetime: i64,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Replace the tenant's signing key; the old one stays published until its tokens expire.
    Rotate {
        #[arg(long)]
        tenant: String,
        /// Switch to another algorithm (RS256, ES256, EdDSA).
        #[arg(long)]
        signing_alg: Option<String>,
    },
    /// Revoke a (compromised) key: it leaves the JWKS now and its tokens fail; a new key takes over.
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        kid: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an application; prints it with its secret.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Management API access: none (default), read or write.
        #[arg(long, default_value = "none")]
        management: String,
        /// Makes it a protected application callers name by this https:// URI.
        #[arg(long)]
        identifier: Option<String>,
    },
    /// List applications, newest first.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        limit: Option<u64>,
        /// The nextCursor of the previous page.
        #[arg(long)]
        after: Option<String>,
    },
    /// Issue a new secret; the old one keeps working for the grace period.
    RotateSecret {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        /// Seconds the previous secret stays valid (0 to 2592000; default 86400).
        #[arg(long, default_value_t = clavis_types::DEFAULT_GRACE_SECS)]
        grace_seconds: i64,
        /// Also revoke every token issued to the application so far.
        #[arg(long)]
        revoke_tokens: bool,
    },
    /// Revoke every token issued to the application so far (the kill switch).
    RevokeTokens {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
    },
    /// End the previous secret's grace period now.
    RevokePreviousSecret {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
    },
    /// Change an application's management API access.
    SetManagement {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        /// none, read or write.
        #[arg(long)]
        management: String,
    },
    /// Delete an application; its secrets stop working at once.
    Delete {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
    },
    #[command(flatten)]
    Access(AppAccessCommand),
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add an account to a tenant (operators, for automation). A new email
    /// creates the account with the given password (by the password
    /// policy); an existing account only gains the membership and keeps its
    /// own password, whatever is given here.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// admin or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Initial password of a new user (12 to 256 characters); the
        /// environment variable keeps it out of the process list.
        #[arg(long, env = "CLAVIS_MEMBER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List a tenant's members.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Print a one-time link (valid 1 h) through which the account sets a
    /// new password; using it ends all the account's sessions.
    ResetLink {
        #[arg(long)]
        email: String,
    },
}

impl std::fmt::Debug for MemberCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberCommand::Add { tenant, email, role, password } => f
                .debug_struct("Add")
                .field("tenant", tenant)
                .field("email", email)
                .field("role", role)
                .field("password", &password.as_ref().map(|_| "<redacted>"))
                .finish(),
            MemberCommand::List { tenant } => f.debug_struct("List").field("tenant", tenant).finish(),
            MemberCommand::ResetLink { email } => f.debug_struct("ResetLink").field("email", email).finish(),
        }
    }
}

pub(super) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|err| CliError::Usage(err.to_string()))?;
    println!("{text}");
    Ok(())
}

pub async fn run_tenant(services: &Services, authority: &CliAuthority, command: TenantCommand) -> Result<(), CliError> {
    let operator = authority.operator_scope();
    match command {
        TenantCommand::Create { name, signing_alg: alg, token_lifetime } => {
            let new = NewTenant { name, signing_alg: signing_alg(&alg)?, token_lifetime_secs: token_lifetime };
            let tenant = services.create_tenant(&operator, new, services.now()).await?;
            print_json(&json::Tenant::from(tenant))
        }
        TenantCommand::List => {
            let tenants: Vec<json::Tenant> =
                services.list_tenants(&operator).await?.into_iter().map(json::Tenant::from).collect();
            print_json(&serde_json::json!({ "tenants": tenants }))
        }
    }
}

pub async fn run_member(services: &Services, authority: &CliAuthority, command: MemberCommand) -> Result<(), CliError> {
    match command {
        MemberCommand::Add { tenant, email, role, password } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let role = domain::Role::parse(&role)?;
            let member = services
                .add_member_by_operator(authority, &scope, &email, role, password.as_deref(), services.now())
                .await?;
            print_json(&json::Member::from(member))
        }
        MemberCommand::List { tenant } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let members: Vec<json::Member> =
                services.list_members(&scope).await?.into_iter().map(json::Member::from).collect();
            print_json(&serde_json::json!({ "members": members }))
        }
        MemberCommand::ResetLink { email } => {
            let link = services.create_password_reset(&authority.operator_scope(), &email, services.now()).await?;
            print_json(
                &serde_json::json!({ "resetLink": link.url, "expiresAt": crate::wire::rfc3339(link.expires_at) }),
            )
        }
    }
}

pub async fn run_keys(services: &Services, authority: &CliAuthority, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Rotate { tenant, signing_alg: alg } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let alg = alg.as_deref().map(signing_alg).transpose()?;
            let kid = services.rotate_signing_key(&scope, alg, services.now()).await?;
            print_json(&serde_json::json!({ "tenantId": tenant, "kid": kid }))
        }
        KeysCommand::Revoke { tenant, kid } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let active = services.revoke_signing_key(&scope, &kid, services.now()).await?;
            print_json(&serde_json::json!({ "tenantId": tenant, "revokedKid": kid, "activeKid": active }))
        }
    }
}

pub async fn run_app(services: &Services, authority: &CliAuthority, command: AppCommand) -> Result<(), CliError> {
    let now = services.now();
    match command {
        AppCommand::Create { tenant, name, management, identifier } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let management = ManagementAccess::parse(&management)?;
            let new = NewApplication { name, management, identifier };
            print_json(&Application::from(services.create_application_with(&scope, new, now).await?))
        }
        AppCommand::List { tenant, limit, after } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let page = services.list_applications(&scope, ListQuery { limit, after, filter: None }, now).await?;
            let applications: Vec<Application> = page.applications.into_iter().map(Application::from).collect();
            print_json(&serde_json::json!({ "applications": applications, "nextCursor": page.next_cursor }))
        }
        AppCommand::RotateSecret { tenant, client_id, grace_seconds, revoke_tokens } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let rotated = services.rotate_secret(&scope, &client_id, grace_seconds, now).await?;
            if revoke_tokens {
                services.revoke_application_tokens(&scope, &client_id, now).await?;
            }
            print_json(&RotatedSecret::from(rotated))
        }
        AppCommand::RevokeTokens { tenant, client_id } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let before = services.revoke_application_tokens(&scope, &client_id, now).await?;
            print_json(&serde_json::json!({ "clientId": client_id, "revokedBefore": crate::wire::rfc3339(before) }))
        }
        AppCommand::RevokePreviousSecret { tenant, client_id } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            services.revoke_previous_secret(&scope, &client_id, now).await?;
            print_json(&serde_json::json!({ "clientId": client_id, "previousSecret": "revoked" }))
        }
        AppCommand::SetManagement { tenant, client_id, management } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let access = ManagementAccess::parse(&management)?;
            print_json(&Application::from(services.set_management_access(&scope, &client_id, access, now).await?))
        }
        AppCommand::Delete { tenant, client_id } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            services.delete_application(&scope, &client_id, now).await?;
            print_json(&serde_json::json!({ "clientId": client_id, "deleted": true }))
        }
        AppCommand::Access(command) => roles::run_app_access(services, authority, command).await,
    }
}
