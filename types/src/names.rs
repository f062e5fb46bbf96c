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
    /// A bidirectional override or isolate, or a zero-width character: they
    /// make a name display as something it is not ("Trojan Source").
    InvisibleCharacter,
}

/// Characters that change how text around them displays without showing
/// themselves: bidi marks, embeddings, overrides and isolates, and the
/// zero-width characters.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
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
    if trimmed.chars().any(is_invisible) {
        return Err(NameError::InvisibleCharacter);
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

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_refused() {
        for sneaky in
            ["pay\u{202E}lortnoc", "admin\u{200B}", "a\u{2066}b\u{2069}", "x\u{FEFF}", "a\u{200D}b", "\u{061C}a"]
        {
            assert_eq!(validate_display_name(sneaky, 50), Err(NameError::InvisibleCharacter), "{sneaky:?}");
        }
        assert!(validate_display_name("Zürich Ödön 東京 billing-v2", 50).is_ok());
    }
}
