//! `clavis user …`: the operator's commands for a tenant's Cloud Directory
//! users, printed in the management API's JSON (SCIM users) so a script can
//! switch between the two. A password never comes from the command line,
//! where shell history and `ps` would keep it: it is read from stdin, or
//! generated and printed once.

use std::io::BufRead;

use clap::Subcommand;
use domain::Services;
use domain::services::{
    CliAuthority, DEFAULT_DIRECTORY_PAGE, DirectoryQuery, DirectoryUser, NewDirectoryUser, UserStatus,
};
use domain::{TenantScope, Write};
use serde::Serialize;

use super::{CliError, print_json};
use crate::http::management::model::{User, UserList};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a Cloud Directory user. Without --password-stdin, a strong
    /// password is generated and printed once.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        given_name: String,
        #[arg(long, default_value = "")]
        family_name: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, oldest first; --query matches email, user name and names.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        query: Option<String>,
        /// The 1-based index of the first user to print.
        #[arg(long, default_value_t = 1)]
        start_index: u64,
        /// Users to print (at most 100).
        #[arg(long, default_value_t = DEFAULT_DIRECTORY_PAGE)]
        count: u64,
    },
    /// Disable a user: they cannot sign in, and their refresh tokens end.
    Disable {
        #[arg(long)]
        tenant: String,
        /// The user's email or ID.
        user: String,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(long)]
        tenant: String,
        /// The user's email or ID.
        user: String,
    },
    /// Delete a user with their roles and refresh tokens.
    Delete {
        #[arg(long)]
        tenant: String,
        /// The user's email or ID.
        user: String,
    },
}

/// `user add`'s answer: the user, and the password when it was generated.
#[derive(Serialize)]
struct AddedUser {
    #[serde(flatten)]
    user: User,
    /// Only when generated: shown this once, stored nowhere in clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// The first line of stdin, without its line ending.
fn password_from_stdin() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| CliError::Usage(format!("could not read the password from stdin: {err}")))?;
    let password = line.strip_suffix('\n').map(|rest| rest.strip_suffix('\r').unwrap_or(rest)).unwrap_or(&line);
    if password.is_empty() {
        return Err(CliError::Usage("--password-stdin: stdin held no password".to_owned()));
    }
    Ok(password.to_owned())
}

/// A random password at least as long as the tenant's policy asks.
async fn generated_password(services: &Services, scope: &TenantScope<Write>) -> Result<String, CliError> {
    let min = usize::try_from(services.directory_password_policy(scope).await?.min_chars).unwrap_or(usize::MAX);
    let mut password = domain::crypto::generate_password();
    while password.chars().count() < min {
        password.push_str(&domain::crypto::generate_password());
    }
    Ok(password)
}

/// The user named by email (with an `@`) or by ID.
async fn find(services: &Services, scope: &TenantScope<Write>, user: &str) -> Result<DirectoryUser, CliError> {
    Ok(if user.contains('@') {
        services.directory_user_by_email(scope, user).await?
    } else {
        services.directory_user(scope, user).await?
    })
}

pub async fn run_user(services: &Services, authority: &CliAuthority, command: UserCommand) -> Result<(), CliError> {
    let now = services.now();
    match command {
        UserCommand::Add { tenant, email, given_name, family_name, password_stdin } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let (password, generated) = if password_stdin {
                (password_from_stdin()?, false)
            } else {
                (generated_password(services, &scope).await?, true)
            };
            let new = NewDirectoryUser {
                email,
                user_name: None,
                password: password.clone(),
                given_name,
                family_name,
                active: true,
                status: UserStatus::Confirmed,
            };
            let user = services.sign_up_directory_user(&scope, new, now).await?;
            let user = User::new(user, &services.management_url(&tenant));
            print_json(&AddedUser { user, password: generated.then_some(password) })
        }
        UserCommand::List { tenant, query, start_index, count } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let page = services.list_directory_users(&scope, &DirectoryQuery { query, start_index, count }).await?;
            let url = services.management_url(&tenant);
            let resources: Vec<User> = page.users.into_iter().map(|user| User::new(user, &url)).collect();
            print_json(&UserList {
                total_results: page.total_results,
                items_per_page: resources.len() as u64,
                start_index: page.start_index,
                resources,
            })
        }
        UserCommand::Disable { tenant, user } => set_active(services, authority, &tenant, &user, false).await,
        UserCommand::Enable { tenant, user } => set_active(services, authority, &tenant, &user, true).await,
        UserCommand::Delete { tenant, user } => {
            let scope = authority.tenant_scope(services, &tenant).await?;
            let found = find(services, &scope, &user).await?;
            services.delete_directory_user(&scope, &found.id, now).await?;
            print_json(&serde_json::json!({ "id": found.id, "email": found.email, "deleted": true }))
        }
    }
}

async fn set_active(
    services: &Services,
    authority: &CliAuthority,
    tenant: &str,
    user: &str,
    active: bool,
) -> Result<(), CliError> {
    let scope = authority.tenant_scope(services, tenant).await?;
    let found = find(services, &scope, user).await?;
    let changed = services.set_directory_user_active(&scope, &found.id, active, services.now()).await?;
    print_json(&User::new(changed, &services.management_url(tenant)))
}
