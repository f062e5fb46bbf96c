//! Display names (applications, tenants, roles): trimmed, counted in
//! characters rather than bytes, no control characters.

/// Why a display name was refused; each adapter words it for its audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Nothing left after trimming.
    Empty,
    /// More than `max` characters after trimming.
    TooLong { max: usize, count: usize },
    /// A control character (newline, escape, ...) inside the name.
    ControlCharacter,
}

/// Trims `name` and checks it against the rules; returns the trimmed name.
///
/// ```
/// use clavis_types::{NameError, validate_display_name};
///
/// assert_eq!(validate_display_name("  api  ", 50), Ok("api".to_owned()));
/// assert_eq!(validate_display_name(&"é".repeat(51), 50), Err(NameError::TooLong { max: 50, count: 51 }));
/// ```
pub fn validate_display_name(name: &str, max_chars: usize) -> Result<String, NameError> {
    let trimmed = name.trim();
    let count = trimmed.chars().count();
    if count == 0 {
        return Err(NameError::Empty);
    }
    if count > max_chars {
        return Err(NameError::TooLong { max: max_chars, count });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_counted_in_characters_after_trimming() {
        assert_eq!(validate_display_name("  é  ", 1), Ok("é".to_owned()));
        assert_eq!(validate_display_name("   ", 50), Err(NameError::Empty));
        assert_eq!(validate_display_name("a\u{7}b", 50), Err(NameError::ControlCharacter));
        assert!(validate_display_name(&"🦀".repeat(50), 50).is_ok());
        assert_eq!(validate_display_name(&"🦀".repeat(51), 50), Err(NameError::TooLong { max: 50, count: 51 }));
    }
}
