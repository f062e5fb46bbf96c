//! Request parameters from a form, multipart or JSON body, with RFC 6749 §3.2's rule
//! that "Request and response parameters MUST NOT be included more than once".

use serde::de::{Deserializer, MapAccess, Visitor};

use super::OAuthError;

/// Parameters that a client may legitimately repeat (RFC 8707 §2: "Multiple
/// "resource" parameters MAY be used to indicate that the requested token is
/// intended to be used at multiple resources").
const REPEATABLE: &[&str] = &["resource"];

/// Parameters whose values are credentials or tokens: `Debug` never shows them.
const SECRET: &[&str] = &["client_secret", "client_assertion", "password", "refresh_token", "token"];

/// The decoded parameters of one request, in order, unknown ones included.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in &self.0 {
            let shown = if SECRET.contains(&name.as_str()) { "<redacted>" } else { value.as_str() };
            list.entry(&(name, shown));
        }
        list.finish()
    }
}

/// Up to this many parameters, duplicates are found by comparing names
/// pairwise.
const FEW_PARAMETERS: usize = 8;

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn from_form(body: &[u8]) -> Result<Self, OAuthError> {
        let Ok(text) = std::str::from_utf8(body) else {
            return Err(OAuthError::invalid_request("request body is not valid UTF-8"));
        };
        // A body of ASCII without `%` or `+` is its own decoding (the usual
        // `grant_type=client_credentials`): split, no decoder. It cannot
        // hold a replacement character either, which the decoder writes
        // for escapes that are not UTF-8.
        let plain = body.iter().fold(true, |plain, &byte| plain & byte.is_ascii() & (byte != b'%') & (byte != b'+'));
        let mut pairs = Vec::new();
        if plain {
            for piece in text.split('&').filter(|piece| !piece.is_empty()) {
                let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
                pairs.push((name.to_owned(), value.to_owned()));
            }
        } else {
            for (name, value) in form_urlencoded::parse(body) {
                if name.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
                    return Err(OAuthError::invalid_request("request parameters are not valid UTF-8"));
                }
                pairs.push((name.into_owned(), value.into_owned()));
            }
        }
        Self::checked(pairs)
    }

    /// Parses a JSON object body whose values are strings (or arrays of
    /// strings for repeatable parameters).
    pub fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let pairs = deserializer
            .deserialize_map(PairsVisitor)
            .map_err(|_| OAuthError::invalid_request("request body is not a JSON object of string parameters"))?;
        deserializer.end().map_err(|_| OAuthError::invalid_request("unexpected data after the JSON object"))?;
        Self::checked(pairs)
    }

    /// The rules every body format shares, applied to its decoded pairs.
    pub(crate) fn checked(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as
        // if they were omitted from the request."
        let pairs: Vec<_> = pairs.into_iter().filter(|(_, value)| !value.is_empty()).collect();
        let single = |name: &str| !REPEATABLE.contains(&name);
        let repeated = if pairs.len() <= FEW_PARAMETERS {
            // A typical request: comparing the few names pairwise costs less
            // than building a hash set.
            pairs.iter().enumerate().find_map(|(at, (name, _))| {
                (single(name) && pairs[..at].iter().any(|(earlier, _)| earlier == name)).then_some(name)
            })
        } else {
            // One pass with a set: a body of many parameters costs linear time.
            let mut seen = std::collections::HashSet::with_capacity(pairs.len());
            pairs.iter().map(|(name, _)| name).find(|name| single(name) && !seen.insert(name.as_str()))
        };
        match repeated {
            Some(name) => {
                Err(OAuthError::invalid_request(format!("parameter {} is included more than once", printable(name))))
            }
            None => Ok(Self(pairs)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// A parameter name made safe for an `error_description`.
fn printable(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').take(40).collect()
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            match map.next_value::<JsonParam>()? {
                JsonParam::One(value) => pairs.push((name, value)),
                JsonParam::Many(values) => {
                    // Arrays are only meaningful for repeatable parameters; a
                    // one-element array of another parameter is the same value.
                    if !REPEATABLE.contains(&name.as_str()) && values.len() > 1 {
                        return Err(serde::de::Error::custom("only resource may have several values"));
                    }
                    pairs.extend(values.into_iter().map(|value| (name.clone(), value)));
                }
                JsonParam::Null => {}
            }
        }
        Ok(pairs)
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum JsonParam {
    One(String),
    Many(Vec<String>),
    Null,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_forms_split_as_the_decoder_splits_them() {
        let bodies = [
            "",
            "grant_type=client_credentials",
            "a=1&b=2",
            "&&a=1&&b=&",
            "a=b=c",
            "=x",
            "name",
            "a=&c",
            "audience=https://api.example.com/v1?x",
            // Not plain: these take the decoder.
            "a=x+y&b=%41",
            "a=%E2%82%AC&b=\u{e9}",
        ];
        for body in bodies {
            let decoded: Vec<(String, String)> =
                form_urlencoded::parse(body.as_bytes()).map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
            assert_eq!(Params::from_form(body.as_bytes()).unwrap(), Params::checked(decoded).unwrap(), "{body:?}");
        }
    }

    #[test]
    fn debug_redacts_credentials_and_tokens() {
        let params =
            Params::from_form(b"grant_type=client_credentials&client_id=abc&client_secret=s3cr3t&token=t0k3n").unwrap();
        let shown = format!("{params:?}");
        assert!(shown.contains("client_credentials") && shown.contains("abc"), "{shown}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("t0k3n"), "{shown}");
    }

    #[test]
    fn many_distinct_parameters_are_accepted_and_a_late_duplicate_is_found() {
        let mut body: Vec<String> = (0..5000).map(|i| format!("p{i}=v")).collect();
        assert!(Params::from_form(body.join("&").as_bytes()).is_ok());
        body.push("p0=again".into());
        assert!(Params::from_form(body.join("&").as_bytes()).is_err());
    }

    #[test]
    fn form_values_are_decoded_and_empty_ones_dropped() {
        let params = Params::from_form(b"grant_type=client_credentials&scope=a+b&audience=").unwrap();
        assert_eq!(params.get("grant_type"), Some("client_credentials"));
        assert_eq!(params.get("scope"), Some("a b"));
        assert_eq!(params.get("audience"), None);
    }

    #[test]
    fn repeated_parameters_are_refused_except_resource() {
        assert!(Params::from_form(b"grant_type=a&grant_type=b").is_err());
        let params = Params::from_form(b"resource=https://a&resource=https://b").unwrap();
        assert_eq!(params.all("resource").count(), 2);
        assert!(Params::from_json(br#"{"scope":"a","scope":"b"}"#).is_err());
    }

    #[test]
    fn bad_encodings_are_refused() {
        assert!(Params::from_form(b"grant_type=\xff").is_err());
        assert!(Params::from_form(b"grant_type=%ff").is_err());
        assert!(Params::from_json(b"[1,2]").is_err());
        assert!(Params::from_json(br#"{"grant_type": 5}"#).is_err());
        assert!(Params::from_json(br#"{"grant_type": "a"} x"#).is_err());
        assert!(Params::from_json(br#"{"scope": ["a", "b"]}"#).is_err());
    }

    #[test]
    fn json_null_counts_as_omitted() {
        let params = Params::from_json(br#"{"grant_type":"client_credentials","scope":null}"#).unwrap();
        assert_eq!(params.get("scope"), None);
    }
}
