//! Hostile inputs worth naming, kept as examples next to the generated ones
//! (and the place for any input the fuzzer, `make fuzz`, finds a crash with).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clavis_oauth::client_auth::parse_basic;
use clavis_oauth::params::Params;
use clavis_oauth::request::{OAuthRequest, RawRequest};

fn json(body: &[u8]) -> Result<OAuthRequest, clavis_oauth::OAuthError> {
    OAuthRequest::parse(&RawRequest {
        authorization: None,
        several_authorizations: false,
        content_type: Some(b"application/json"),
        body: Some(body),
        dpop: None,
        several_dpops: false,
    })
}

#[test]
fn json_that_is_deep_odd_or_not_utf8_is_a_400() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{{\"scope\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: &[&[u8]] = &[
        deep.as_bytes(),
        deep_object.as_bytes(),
        br#"{"scope":"\ud800"}"#,
        br#"{"scope":"\udc00\ud800"}"#,
        br#"{"grant_type":1e999999}"#,
        br#"{"grant_type":"client_credentials""#,
        b"{\"grant_type\":\"\xff\"}",
        b"\xef\xbb\xbf{}",
        br#"{"resource":[null]}"#,
        br#"{"resource":[["https://a"]]}"#,
        br#"{"scope":{"a":"b"}}"#,
    ];
    for body in cases {
        let err = json(body).unwrap_err();
        assert_eq!(err.status, 400, "{}", String::from_utf8_lossy(&body[..body.len().min(60)]));
    }
}

#[test]
fn json_null_and_empty_values_count_as_omitted() {
    let request = json(br#"{"grant_type":"client_credentials","scope":null,"audience":""}"#).unwrap();
    assert_eq!(request.params.get("scope"), None);
    assert_eq!(request.params.get("audience"), None);
    assert_eq!(request.params.get("grant_type"), Some("client_credentials"));
}

#[test]
fn cut_off_and_lossy_escapes_in_forms_are_refused_or_kept_literally() {
    // A `%` that starts no escape is kept as it is (WHATWG URL's rule).
    assert_eq!(Params::from_form(b"scope=%").unwrap().get("scope"), Some("%"));
    assert_eq!(Params::from_form(b"scope=%4").unwrap().get("scope"), Some("%4"));
    // An escape of half a UTF-8 character is not text.
    for body in [&b"scope=%e2%80"[..], b"scope=%c3", b"%ff=x", b"scope=a%80b"] {
        assert_eq!(Params::from_form(body).unwrap_err().status, 400, "{body:?}");
    }
}

#[test]
fn basic_ids_and_secrets_with_separators_need_their_escapes() {
    let header = |user_pass: &str| format!("Basic {}", STANDARD.encode(user_pass)).into_bytes();
    // RFC 6749 §2.3.1: a `:` inside the id must be escaped, or it is the
    // separator; the secret may then hold raw colons.
    let creds = parse_basic(&header("a%3Ab:c:d")).unwrap();
    assert_eq!((creds.client_id.as_str(), creds.secret().unwrap_or_default()), ("a:b", "c:d"));
    assert_eq!(parse_basic(&header("a:%e2%80")).unwrap_err().status, 400);
    assert_eq!(parse_basic(&header("%ff:x")).unwrap_err().status, 400);
    assert_eq!(parse_basic(&header("id:")).unwrap_err().status, 401);
    assert_eq!(parse_basic(b"Basic ").unwrap_err().status, 400);
    assert_eq!(parse_basic(b"Basic    YTpi   ").unwrap().client_id, "a");
    assert_eq!(parse_basic(b"\xffBasic YTpi").unwrap_err().status, 400);
}
