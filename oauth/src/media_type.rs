//! Request body media types (RFC 9110 §8.3.1): the type and subtype are
//! case-insensitive, and parameters after `;` do not change the essence.

/// The body formats Clavis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/x-www-form-urlencoded` (RFC 6749 §4.4.2's format).
    Form,
    /// `application/json` (Auth0-style token requests, the management API).
    Json,
}

/// The kind named by a `Content-Type` value; `None` for any other type.
///
/// ```
/// use clavis_oauth::media_type::{BodyKind, body_kind};
///
/// assert_eq!(body_kind(b"Application/JSON; charset=utf-8"), Some(BodyKind::Json));
/// assert_eq!(body_kind(b"application/x-www-form-urlencoded"), Some(BodyKind::Form));
/// assert_eq!(body_kind(b"application/jsonx"), None);
/// ```
pub fn body_kind(content_type: &[u8]) -> Option<BodyKind> {
    let text = std::str::from_utf8(content_type).ok()?;
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Some(BodyKind::Json)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essence_is_case_insensitive_and_ignores_parameters() {
        assert_eq!(body_kind(b"application/json"), Some(BodyKind::Json));
        assert_eq!(body_kind(b" application/x-www-form-urlencoded ; charset=UTF-8"), Some(BodyKind::Form));
        assert_eq!(body_kind(b"text/plain"), None);
        assert_eq!(body_kind(b"multipart/form-data; boundary=x"), None);
        assert_eq!(body_kind(&[0xff, 0xfe]), None);
    }
}
