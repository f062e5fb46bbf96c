//! Request body media types (RFC 9110 §8.3.1): the type and subtype are
//! case-insensitive, and parameters after `;` do not change the essence,
//! except `multipart/form-data`'s `boundary`, without which the body cannot
//! be read.

/// The body formats Clavis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind<'a> {
    /// `application/x-www-form-urlencoded` (RFC 6749 §4.4.2's format).
    Form,
    /// `application/json` (Auth0-style token requests, the management API).
    Json,
    /// `multipart/form-data` (RFC 7578), as `curl -F` and browser forms send
    /// it. `None` when the `boundary` parameter is missing or invalid: RFC
    /// 7578 §4.1 "the boundary parameter is required" and RFC 2046 §5.1.1
    /// limits it to 1–70 `bchars`.
    Multipart(Option<Boundary<'a>>),
}

/// A `multipart/form-data` boundary that satisfies RFC 2046 §5.1.1:
/// `boundary := 0*69<bchars> bcharsnospace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boundary<'a>(&'a str);

impl<'a> Boundary<'a> {
    /// The boundary of a `Content-Type` value whose type is `multipart`,
    /// quoted or not; `None` when there is none or it breaks RFC 2046's rule.
    fn of(content_type: &'a [u8]) -> Option<Self> {
        let parser = nostd_multipart::Parser::<'a, 1, 1>::from_content_type(content_type).ok()?;
        // bchars are ASCII, so a valid boundary is always UTF-8.
        std::str::from_utf8(parser.boundary()).ok().map(Self)
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// The kind named by a `Content-Type` value; `None` for any other type.
///
/// ```
/// use clavis_oauth::media_type::{BodyKind, body_kind};
///
/// assert_eq!(body_kind(b"Application/JSON; charset=utf-8"), Some(BodyKind::Json));
/// assert_eq!(body_kind(b"application/x-www-form-urlencoded"), Some(BodyKind::Form));
/// assert_eq!(body_kind(b"application/jsonx"), None);
/// let multipart = body_kind(b"multipart/form-data; boundary=\"a b\"");
/// assert!(matches!(multipart, Some(BodyKind::Multipart(Some(b))) if b.as_str() == "a b"));
/// assert_eq!(body_kind(b"multipart/form-data"), Some(BodyKind::Multipart(None)));
/// ```
pub fn body_kind(content_type: &[u8]) -> Option<BodyKind<'_>> {
    let text = std::str::from_utf8(content_type).ok()?;
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Some(BodyKind::Json)
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        Some(BodyKind::Multipart(Boundary::of(content_type)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundary(content_type: &str) -> Option<&str> {
        match body_kind(content_type.as_bytes()) {
            Some(BodyKind::Multipart(boundary)) => boundary.map(|b| b.as_str()),
            other => panic!("{content_type} is {other:?}"),
        }
    }

    #[test]
    fn essence_is_case_insensitive_and_ignores_parameters() {
        assert_eq!(body_kind(b"application/json"), Some(BodyKind::Json));
        assert_eq!(body_kind(b" application/x-www-form-urlencoded ; charset=UTF-8"), Some(BodyKind::Form));
        assert_eq!(body_kind(b"text/plain"), None);
        assert_eq!(body_kind(b"multipart/mixed; boundary=x"), None);
        assert_eq!(body_kind(&[0xff, 0xfe]), None);
    }

    #[test]
    fn multipart_carries_its_boundary_quoted_or_not() {
        // curl's and Node's form-data package's spellings.
        assert_eq!(
            boundary("multipart/form-data; boundary=------------------------d74496d66958873e"),
            Some("------------------------d74496d66958873e")
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=--------------------------515890814546601021194782"),
            Some("--------------------------515890814546601021194782")
        );
        assert_eq!(boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"x y'z\""), Some("x y'z"));
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "b".repeat(70))),
            Some("b".repeat(70).as_str())
        );
    }

    #[test]
    fn a_missing_or_invalid_boundary_is_none() {
        for value in [
            "multipart/form-data",
            "multipart/form-data; charset=utf-8",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"\"",
            "multipart/form-data; boundary=\"ends in space \"",
            "multipart/form-data; boundary=a\"b",
            "multipart/form-data; boundary=\"semi;colon\"",
            "multipart/form-data; boundary=\"unterminated",
        ] {
            assert_eq!(boundary(value), None, "{value}");
        }
        assert_eq!(boundary(&format!("multipart/form-data; boundary={}", "b".repeat(71))), None);
    }
}
