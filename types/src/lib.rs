//! The rules the dashboard and the service layer must agree on: name limits,
//! grace periods, token lifetimes, usage windows and the small enums of the
//! model. It builds for `wasm32-unknown-unknown`, so the dashboard checks a
//! form with the very constants the server enforces.

mod access;
mod names;
mod scopes;

pub use access::{ManagementAccess, MemberRole, ParseEnumError};
pub use names::{NameError, validate_display_name};
pub use scopes::{
    MAX_ROLE_DESCRIPTION_CHARS, MAX_ROLES_PER_TENANT, MAX_SCOPE_CHARS, MAX_SCOPES_PER_APPLICATION, ScopeListError,
    ScopeNameError, validate_scope_list, validate_scope_name,
};

/// The longest application (and role) name, in characters after trimming.
pub const MAX_APPLICATION_NAME_CHARS: usize = 50;
/// The longest tenant name, in characters after trimming.
pub const MAX_TENANT_NAME_CHARS: usize = 100;

/// How long a rotated-out secret keeps working when the caller names no
/// grace period: long enough to roll the new secret out without an outage.
pub const DEFAULT_GRACE_SECS: i64 = 24 * 3600;
/// The longest grace period a rotation may give the previous secret.
pub const MAX_GRACE_SECS: i64 = 30 * 24 * 3600;

/// Access-token lifetime of a new tenant.
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 3600;
/// Shortest access-token lifetime a tenant may set.
pub const MIN_TOKEN_LIFETIME_SECS: i64 = 300;
/// Longest access-token lifetime a tenant may set.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 86_400;

/// The longest window one usage read covers: a day of minutes.
pub const MAX_USAGE_MINUTES: u32 = 24 * 60;
/// The usage window when the caller names none: the last hour.
pub const DEFAULT_USAGE_MINUTES: u32 = 60;

/// The last four characters of a secret, the only part ever shown again.
///
/// ```
/// assert_eq!(clavis_types::last_four("abcdef"), "cdef");
/// assert_eq!(clavis_types::last_four("ab"), "ab");
/// ```
pub fn last_four(secret: &str) -> String {
    let count = secret.chars().count();
    secret.chars().skip(count.saturating_sub(4)).collect()
}
