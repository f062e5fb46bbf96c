//! JSON written straight into a byte buffer, for the two documents every
//! token request produces: the access token's claims and the token answer.
//!
//! serde_json looks up every byte of every string in its escape table. The
//! strings here are identifiers, URLs, scope names and base64url tokens,
//! which never need escaping, so each is checked in one pass the compiler
//! vectorises and then copied whole. A string that does need escaping is
//! handed to serde_json, so escaping itself has one implementation and the
//! output is byte for byte what serde_json writes.

/// One JSON object being written; members go in the order they are added.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    /// Opens an object at the end of `out`; [`JsonObject::end`] closes it.
    pub fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// Member names are literals of this crate's callers with nothing to
    /// escape (checked in debug builds and by the tests of each document),
    /// so they are copied without the check.
    fn key(&mut self, key: &'static str) {
        debug_assert!(!needs_escape(key.as_bytes()), "member name {key:?} needs escaping");
        self.out.reserve(key.len() + 4);
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn string(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.key(key);
        push_string(self.out, value);
        self
    }

    /// The member only when there is a value, as serde's
    /// `skip_serializing_if = "Option::is_none"` does.
    pub fn optional_string(&mut self, key: &'static str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.string(key, value);
        }
        self
    }

    pub fn integer(&mut self, key: &'static str, value: i64) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    pub fn strings(&mut self, key: &'static str, values: &[&str]) -> &mut Self {
        self.key(key);
        self.out.push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            push_string(self.out, value);
        }
        self.out.push(b']');
        self
    }

    /// A nested object, written by `members`.
    pub fn object(&mut self, key: &'static str, members: impl FnOnce(&mut JsonObject<'_>)) -> &mut Self {
        self.key(key);
        let mut nested = JsonObject::begin(self.out);
        members(&mut nested);
        nested.end();
        self
    }

    pub fn end(self) {
        self.out.push(b'}');
    }
}

/// Appends `value` as a JSON string.
pub fn push_string(out: &mut Vec<u8>, value: &str) {
    if needs_escape(value.as_bytes()) {
        // Writing into a Vec cannot fail, and a &str is always valid JSON
        // text once escaped, so there is no error to pass on.
        serde_json::to_writer(&mut *out, value).ok();
    } else {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
}

/// RFC 8259 §7: "All Unicode characters may be placed within the quotation
/// marks, except for the characters that MUST be escaped: quotation mark,
/// reverse solidus, and the control characters (U+0000 through U+001F)."
/// Those are exactly what serde_json escapes. No early exit, so the loop
/// vectorises.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &byte| found | (byte < 0x20) | (byte == b'"') | (byte == b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(value: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_string(&mut out, value);
        out
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let samples = [
            "",
            "plain",
            "https://auth.example.com/oauth/v4/0b7c",
            "quote \" inside",
            "back\\slash",
            "new\nline and tab\t",
            "\u{0}\u{1f}\u{7f}",
            "unicode é 漢字 🙂",
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_",
        ];
        for sample in samples {
            assert_eq!(written(sample), serde_json::to_vec(sample).unwrap(), "{sample:?}");
        }
        // Every single byte below 0x80, at every position of a longer string.
        for byte in 0u8..0x80 {
            let text = format!("{}{}{}", "a".repeat(17), char::from(byte), "b".repeat(40));
            assert_eq!(written(&text), serde_json::to_vec(&text).unwrap(), "byte {byte:#x}");
        }
    }

    #[test]
    fn objects_match_serde_json_member_for_member() {
        let mut out = Vec::new();
        let mut object = JsonObject::begin(&mut out);
        object
            .string("ab", "x\\y")
            .integer("n", -42)
            .integer("max", i64::MAX)
            .strings("list", &["one", "t\"wo"])
            .strings("none", &[])
            .optional_string("absent", None)
            .optional_string("present", Some("yes"))
            .object("cnf", |cnf| {
                cnf.string("jkt", "thumb");
            })
            .object("empty", |_| {});
        object.end();
        let expected = serde_json::json!({
            "ab": "x\\y", "n": -42, "max": i64::MAX, "list": ["one", "t\"wo"], "none": [],
            "present": "yes", "cnf": {"jkt": "thumb"}, "empty": {}
        });
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&out).unwrap(), expected);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"ab":"x\\y","n":-42,"max":9223372036854775807,"list":["one","t\"wo"],"none":[],"present":"yes","cnf":{"jkt":"thumb"},"empty":{}}"#
        );
    }
}
