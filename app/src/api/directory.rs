//! The Users page's server functions: the tenant's Cloud Directory users,
//! their password policy, and the roles they hold. One domain call each, as
//! the REST API's `/cloud_directory/…` and `/users/{profileId}/roles` make
//! them; viewers may read, only admins may change anything.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::roles::HeldRole;
use crate::error::AppError;

/// Users per page of the table.
pub const USERS_PER_PAGE: u64 = 20;

/// A password on its way to the server. It travels in the request body
/// only, and its `Debug` shows nothing, so neither a log line of the call's
/// arguments nor an error message can carry it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

/// A Cloud Directory user as the dashboard shows it (never a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    /// The `sub` of the user's tokens; roles are set through it.
    pub profile_id: String,
    pub email: String,
    /// "Given Family", or whichever is set; may be empty.
    pub name: String,
    pub active: bool,
    /// Whether the user may sign in yet (`false`: created but not confirmed).
    pub confirmed: bool,
    pub created_at: String,
}

/// One page of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    /// How many users match the query, on every page together.
    pub total: u64,
    /// The 1-based position of the first user of this page.
    pub start_index: u64,
    pub users: Vec<UserRow>,
}

/// The tenant's rules for its users' passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub min_chars: u32,
    pub max_chars: u32,
    /// Whether the most common passwords are refused.
    pub reject_common: bool,
}

#[cfg(feature = "ssr")]
impl From<domain::services::DirectoryUser> for UserRow {
    fn from(user: domain::services::DirectoryUser) -> Self {
        Self {
            name: user.display_name(),
            confirmed: user.status == domain::services::UserStatus::Confirmed,
            created_at: crate::ssr::rfc3339(user.created_at),
            id: user.id,
            profile_id: user.profile_id,
            email: user.email,
            active: user.active,
        }
    }
}

/// One page of the tenant's users, oldest first; `query` matches the email
/// or a name, ignoring case. `start_index` is 1-based (0 is read as 1).
#[server(endpoint = "list_directory_users")]
pub async fn list_directory_users(
    tenant_id: String,
    #[server(default)] query: String,
    #[server(default)] start_index: u64,
) -> Result<UserPage, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let query = domain::services::DirectoryQuery {
        query: Some(query).filter(|text| !text.trim().is_empty()),
        start_index: start_index.max(1),
        count: USERS_PER_PAGE,
    };
    let page = ssr::services()?.list_directory_users(&scope, &query).await?;
    Ok(UserPage {
        total: page.total_results,
        start_index: page.start_index,
        users: page.users.into_iter().map(UserRow::from).collect(),
    })
}

/// The tenant's password policy, shown beside every password field.
#[server(endpoint = "directory_password_policy")]
pub async fn directory_password_policy(tenant_id: String) -> Result<PolicyView, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let policy = ssr::services()?.directory_password_policy(&scope).await?;
    Ok(PolicyView {
        min_chars: policy.min_chars,
        max_chars: u32::try_from(domain::services::MAX_PASSWORD_CHARS).unwrap_or(u32::MAX),
        reject_common: policy.reject_common,
    })
}

/// Adds a user who may sign in at once; `Conflict` when the email is taken
/// in the tenant, whatever its case.
#[server(endpoint = "add_directory_user")]
pub async fn add_directory_user(
    tenant_id: String,
    email: String,
    #[server(default)] given_name: String,
    #[server(default)] family_name: String,
    password: SecretText,
) -> Result<UserRow, AppError> {
    use crate::ssr;
    use domain::services::{NewDirectoryUser, UserStatus};
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let new = NewDirectoryUser {
        email,
        user_name: None,
        password: password.0,
        given_name,
        family_name,
        active: true,
        status: UserStatus::Confirmed,
    };
    Ok(services.sign_up_directory_user(&scope, new, services.now()).await?.into())
}

/// Enables or disables a user; disabling ends their refresh tokens.
#[server(endpoint = "set_directory_user_active")]
pub async fn set_directory_user_active(tenant_id: String, user_id: String, active: bool) -> Result<UserRow, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.set_directory_user_active(&scope, &user_id, active, services.now()).await?.into())
}

/// Sets a user's password; their refresh tokens end, so every application
/// they signed in to asks them to sign in again.
#[server(endpoint = "reset_directory_password")]
pub async fn reset_directory_password(
    tenant_id: String,
    user_id: String,
    new_password: SecretText,
) -> Result<UserRow, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.change_directory_password(&scope, &user_id, new_password.0, services.now()).await?.into())
}

/// Deletes a user, their roles and their refresh tokens.
#[server(endpoint = "delete_directory_user")]
pub async fn delete_directory_user(tenant_id: String, user_id: String) -> Result<(), AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    Ok(services.delete_directory_user(&scope, &user_id, services.now()).await?)
}

/// The roles the user with `profile_id` holds, by name.
#[server(endpoint = "directory_user_roles")]
pub async fn directory_user_roles(tenant_id: String, profile_id: String) -> Result<Vec<HeldRole>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Read>(&tenant_id).await?;
    let roles = ssr::services()?.directory_user_roles(&scope, &profile_id).await?;
    Ok(roles.into_iter().map(HeldRole::from).collect())
}

/// Replaces the roles the user with `profile_id` holds; the answer is what
/// they hold now.
#[server(endpoint = "set_directory_user_roles")]
pub async fn set_directory_user_roles(
    tenant_id: String,
    profile_id: String,
    #[server(default)] role_ids: Vec<String>,
) -> Result<Vec<HeldRole>, AppError> {
    use crate::ssr;
    let scope = ssr::tenant_scope::<domain::Write>(&tenant_id).await?;
    let services = ssr::services()?;
    let roles = services.set_directory_user_roles(&scope, &profile_id, &role_ids, services.now()).await?;
    Ok(roles.into_iter().map(HeldRole::from).collect())
}

#[cfg(test)]
mod tests {
    use super::SecretText;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let secret = SecretText("correct-horse-battery".to_owned());
        assert!(!format!("{secret:?}").contains("horse"));
    }
}
