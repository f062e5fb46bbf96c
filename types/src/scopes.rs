//! The names of a protected application's scopes and the limits of roles,
//! as App ID sets them: the dashboard checks a form with the same rules the
//! management API enforces.

/// The most scopes one protected application may define.
pub const MAX_SCOPES_PER_APPLICATION: usize = 50;
/// The longest scope name, in characters.
pub const MAX_SCOPE_CHARS: usize = 49;
/// The most roles one tenant may define (App ID's limit).
pub const MAX_ROLES_PER_TENANT: usize = 50;
/// The longest role description, in characters.
pub const MAX_ROLE_DESCRIPTION_CHARS: usize = 1000;

/// Prefixes reserved for the scopes the server itself grants.
const RESERVED_PREFIXES: [&str; 2] = ["appid", "openid"];

/// Why a scope name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeNameError {
    /// Empty, or longer than [`MAX_SCOPE_CHARS`].
    Length,
    /// A character other than a lowercase letter, a digit, `.` or `_`.
    Character,
    /// Starts with `appid` or `openid`.
    Reserved,
}

impl std::fmt::Display for ScopeNameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeNameError::Length => write!(f, "must be 1 to {MAX_SCOPE_CHARS} characters"),
            ScopeNameError::Character => f.write_str("may contain only lowercase letters, digits, '.' and '_'"),
            ScopeNameError::Reserved => f.write_str("must not start with appid or openid"),
        }
    }
}

/// Checks one scope name.
///
/// ```
/// use clavis_types::{ScopeNameError, validate_scope_name};
///
/// assert_eq!(validate_scope_name("inventory.read"), Ok(()));
/// assert_eq!(validate_scope_name("Read"), Err(ScopeNameError::Character));
/// assert_eq!(validate_scope_name("appid_x"), Err(ScopeNameError::Reserved));
/// ```
pub fn validate_scope_name(name: &str) -> Result<(), ScopeNameError> {
    if name.is_empty() || name.chars().count() > MAX_SCOPE_CHARS {
        return Err(ScopeNameError::Length);
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_') {
        return Err(ScopeNameError::Character);
    }
    if RESERVED_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) {
        return Err(ScopeNameError::Reserved);
    }
    Ok(())
}

/// Why a list of scopes was refused, naming the scope at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeListError {
    /// More than [`MAX_SCOPES_PER_APPLICATION`] scopes.
    TooMany(usize),
    /// One scope's name is not allowed.
    Name { scope: String, why: ScopeNameError },
    /// The same scope twice.
    Duplicate(String),
}

impl std::fmt::Display for ScopeListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeListError::TooMany(count) => {
                write!(f, "an application may have at most {MAX_SCOPES_PER_APPLICATION} scopes, not {count}")
            }
            ScopeListError::Name { scope, why } => write!(f, "scope {scope:?} {why}"),
            ScopeListError::Duplicate(scope) => write!(f, "scope {scope:?} is listed twice"),
        }
    }
}

/// Checks the whole list an application's scopes would become.
///
/// ```
/// use clavis_types::{ScopeListError, validate_scope_list};
///
/// assert!(validate_scope_list(&["read", "write"]).is_ok());
/// assert_eq!(validate_scope_list(&["read", "read"]), Err(ScopeListError::Duplicate("read".into())));
/// ```
pub fn validate_scope_list<S: AsRef<str>>(scopes: &[S]) -> Result<(), ScopeListError> {
    if scopes.len() > MAX_SCOPES_PER_APPLICATION {
        return Err(ScopeListError::TooMany(scopes.len()));
    }
    for (index, scope) in scopes.iter().enumerate() {
        let scope = scope.as_ref();
        validate_scope_name(scope).map_err(|why| ScopeListError::Name { scope: scope.to_owned(), why })?;
        // At most 50 entries: the quadratic check is 1,225 comparisons.
        if scopes[..index].iter().any(|earlier| earlier.as_ref() == scope) {
            return Err(ScopeListError::Duplicate(scope.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_of_a_scope_name() {
        for good in ["read", "write", "a", "inventory.items_v2", &"x".repeat(MAX_SCOPE_CHARS), "app", "open_id"] {
            assert_eq!(validate_scope_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", ScopeNameError::Length),
            (&*"x".repeat(MAX_SCOPE_CHARS + 1), ScopeNameError::Length),
            ("Read", ScopeNameError::Character),
            ("read write", ScopeNameError::Character),
            ("read-all", ScopeNameError::Character),
            ("clavis:management:read", ScopeNameError::Character),
            ("lecture_é", ScopeNameError::Character),
            ("appid_default", ScopeNameError::Reserved),
            ("openid", ScopeNameError::Reserved),
        ] {
            assert_eq!(validate_scope_name(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn lists_are_bounded_and_name_the_scope_at_fault() {
        let many: Vec<String> = (0..=MAX_SCOPES_PER_APPLICATION).map(|i| format!("s{i}")).collect();
        assert_eq!(validate_scope_list(&many), Err(ScopeListError::TooMany(51)));
        assert!(validate_scope_list(&many[..MAX_SCOPES_PER_APPLICATION]).is_ok());
        let err = validate_scope_list(&["read", "Write"]).unwrap_err();
        assert_eq!(err.to_string(), "scope \"Write\" may contain only lowercase letters, digits, '.' and '_'");
        assert!(validate_scope_list::<&str>(&[]).is_ok());
    }
}
