//! The one password policy, applied wherever a password is set: accepting
//! an invitation, changing or resetting a password, and the operator's
//! `member add --password`.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::{Error, Result};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The 30,000 most common passwords of the zxcvbn project's frequency list
/// (MIT licence; see `domain/data/README.md` for where it came from).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

/// Built on first use, once per process; the entries are lower case.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| COMMON_PASSWORDS.lines().map(str::trim).filter(|line| !line.is_empty()).collect());

/// Whether `password` is on the common-password list, ignoring case.
pub fn is_common_password(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// Checks a new password for the account `email`: 12 to 256 characters, not
/// a common password, and not containing the email's local part.
pub fn check_new_password(password: &str, email: &str) -> Result<()> {
    let count = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&count) {
        return Err(Error::validation(format!(
            "passwords must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        )));
    }
    if is_common_password(password) {
        return Err(Error::validation("that password is one of the most common ones; choose another"));
    }
    let lowered = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().trim().to_lowercase();
    // A local part of one or two letters is inside too many good passwords
    // to refuse them all.
    if local.chars().count() >= 3 && lowered.contains(&local) {
        return Err(Error::validation("the password must not contain your email address's name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_loaded_and_case_insensitive() {
        assert!(COMMON.len() > 20_000, "{}", COMMON.len());
        assert!(is_common_password("qwerty123456"));
        assert!(is_common_password("QWERTY123456"));
        assert!(!is_common_password("correct horse battery staple"));
    }

    #[test]
    fn short_long_common_and_name_passwords_are_refused() {
        assert!(check_new_password("short-pass", "bob@example.com").is_err());
        assert!(check_new_password(&"x".repeat(257), "bob@example.com").is_err());
        assert!(check_new_password("1qaz2wsx3edc", "bob@example.com").is_err());
        assert!(check_new_password("I-am-Roberta-2026", "roberta@example.com").is_err());
        assert!(check_new_password("correct horse battery staple", "bob@example.com").is_ok());
        assert!(check_new_password(&"é".repeat(12), "bob@example.com").is_ok());
    }
}
