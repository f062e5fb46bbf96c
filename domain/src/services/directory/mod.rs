//! The Cloud Directory: each tenant's end users, who sign in with the
//! password grant and get access, ID and refresh tokens. They are a world
//! apart from the dashboard's admins (`services::users`): another table,
//! another password policy, nothing shared but the roles they may hold.

mod password_grant;
mod password_work;
mod policy;
mod refresh_grant;
mod refresh_tokens;
mod roles;
mod user_tokens;
mod userinfo;
mod users;

use chrono::{DateTime, Utc};
use clavis_types::MAX_APPLICATION_NAME_CHARS;

use crate::entities::directory_user;
use crate::{Error, Result};

pub use password_work::PasswordWork;
pub use policy::{
    DirectoryPasswordPolicy, MAX_DIRECTORY_MIN_PASSWORD_CHARS, MIN_DIRECTORY_MIN_PASSWORD_CHARS, RefreshConfig,
};
pub use userinfo::UserInfo;

pub(crate) use password_work::password_work_for_this_machine;

/// A new tenant's minimum password length for its Cloud Directory users.
pub const DEFAULT_DIRECTORY_MIN_PASSWORD_CHARS: i32 = 8;
/// A new tenant's refresh-token lifetime: 30 days.
pub const DEFAULT_REFRESH_LIFETIME_SECS: i64 = 30 * 24 * 3600;
/// The longest refresh-token lifetime a tenant may choose: 90 days.
pub const MAX_REFRESH_LIFETIME_SECS: i64 = 90 * 24 * 3600;
/// Users per page when the caller names no count, and the most per page.
pub const DEFAULT_DIRECTORY_PAGE: u64 = 20;
pub const MAX_DIRECTORY_PAGE: u64 = 100;
/// The longest search text a listing accepts.
pub const MAX_DIRECTORY_QUERY_CHARS: usize = 320;

/// Whether a user may sign in yet (App ID's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Ready to sign in.
    Confirmed,
    /// Created but not confirmed: cannot sign in.
    Pending,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::Pending => "PENDING",
        }
    }

    /// Parses App ID's values, ignoring case.
    pub fn parse(text: &str) -> Result<Self> {
        if text.eq_ignore_ascii_case("CONFIRMED") {
            Ok(UserStatus::Confirmed)
        } else if text.eq_ignore_ascii_case("PENDING") {
            Ok(UserStatus::Pending)
        } else {
            Err(Error::validation("status must be CONFIRMED or PENDING"))
        }
    }
}

/// A Cloud Directory user as the services show it: never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The Cloud Directory user ID (App ID's `id`).
    pub id: String,
    /// The user's profile ID (App ID's `profileId`): the `sub` of their tokens.
    pub profile_id: String,
    pub email: String,
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub active: bool,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DirectoryUser {
    /// "Given Family", or whichever of the two is set.
    pub fn display_name(&self) -> String {
        full_name(&self.given_name, &self.family_name)
    }
}

pub(crate) fn full_name(given: &str, family: &str) -> String {
    match (given.is_empty(), family.is_empty()) {
        (false, false) => format!("{given} {family}"),
        (false, true) => given.to_owned(),
        (true, false) => family.to_owned(),
        (true, true) => String::new(),
    }
}

fn timestamp(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

impl From<directory_user::Model> for DirectoryUser {
    fn from(row: directory_user::Model) -> Self {
        Self {
            status: UserStatus::parse(&row.status).unwrap_or(UserStatus::Pending),
            id: row.id,
            profile_id: row.profile_id,
            email: row.email,
            user_name: row.user_name,
            given_name: row.given_name,
            family_name: row.family_name,
            active: row.active,
            created_at: timestamp(row.created_at),
            updated_at: timestamp(row.updated_at),
        }
    }
}

/// A user to create (App ID's `sign_up`).
#[derive(Clone, PartialEq, Eq)]
pub struct NewDirectoryUser {
    pub email: String,
    /// Defaults to the email.
    pub user_name: Option<String>,
    pub password: String,
    pub given_name: String,
    pub family_name: String,
    pub active: bool,
    pub status: UserStatus,
}

impl std::fmt::Debug for NewDirectoryUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDirectoryUser").field("email", &self.email).finish_non_exhaustive()
    }
}

/// What a user should become (App ID's `PUT …/Users/{id}` replaces the
/// profile; a password, when given, is set too).
#[derive(Clone, PartialEq, Eq)]
pub struct DirectoryUserUpdate {
    pub email: String,
    pub user_name: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub active: bool,
    pub status: UserStatus,
    pub password: Option<String>,
}

impl std::fmt::Debug for DirectoryUserUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryUserUpdate")
            .field("email", &self.email)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A listing: App ID's `query`, `startIndex` (1-based) and `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryQuery {
    pub query: Option<String>,
    pub start_index: u64,
    pub count: u64,
}

impl Default for DirectoryQuery {
    fn default() -> Self {
        Self { query: None, start_index: 1, count: DEFAULT_DIRECTORY_PAGE }
    }
}

/// One page of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPage {
    pub total_results: u64,
    pub start_index: u64,
    pub users: Vec<DirectoryUser>,
}

/// A person's given or family name: trimmed, at most 50 characters, no
/// control characters; may be empty.
fn validate_person_name(name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > MAX_APPLICATION_NAME_CHARS {
        return Err(Error::validation(format!("{what} must be at most {MAX_APPLICATION_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::validation(format!("{what} must not contain control characters")));
    }
    Ok(name.to_owned())
}

/// A user name: defaults to the email; at most 320 characters, printable.
fn validate_user_name(user_name: Option<&str>, email: &str) -> Result<String> {
    let Some(name) = user_name.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(email.to_owned());
    };
    if name.chars().count() > 320 || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::validation("userName must be at most 320 characters without spaces"));
    }
    Ok(name.to_owned())
}

/// The email as shown (trimmed, case kept) and its key (lower case), or a
/// validation error.
fn validate_directory_email(email: &str) -> Result<(String, String)> {
    let key = super::users::validate_email(email)?;
    Ok((email.trim().to_owned(), key))
}
