//! Fuzzes the whole token-request parser: `Authorization` header, media
//! type and body (form, JSON or multipart), then every grant's parameter
//! rules.
#![no_main]

use arbitrary::Arbitrary;
use clavis_oauth::OAuthError;
use clavis_oauth::request::{OAuthRequest, RawRequest};
use clavis_oauth::token_request::{self, GrantRequest};
use libfuzzer_sys::fuzz_target;

/// The accepted media types most of the time, so the body parsers get the
/// fuzzer's attention; any bytes otherwise.
#[derive(Debug, Arbitrary)]
enum ContentType {
    Form,
    Json,
    /// `multipart/form-data` with the boundary `x`, so that bodies built
    /// from the dictionary's `--x` pieces reach the part rules.
    Multipart,
    Missing,
    Other(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    authorization: Option<Vec<u8>>,
    several_authorizations: bool,
    content_type: ContentType,
    oversized: bool,
    body: Vec<u8>,
}

fn assert_client_error(err: &OAuthError) {
    assert!((400..500).contains(&err.status), "{err:?}");
    assert!(err.description.bytes().all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)), "{err:?}");
}

fuzz_target!(|input: Input| {
    let content_type: Option<&[u8]> = match &input.content_type {
        ContentType::Form => Some(b"application/x-www-form-urlencoded"),
        ContentType::Json => Some(b"application/json"),
        ContentType::Multipart => Some(b"multipart/form-data; boundary=x"),
        ContentType::Missing => None,
        ContentType::Other(bytes) => Some(bytes),
    };
    let raw = RawRequest {
        authorization: input.authorization.as_deref(),
        several_authorizations: input.several_authorizations && input.authorization.is_some(),
        content_type,
        body: (!input.oversized).then_some(input.body.as_slice()),
        dpop: None,
        several_dpops: false,
    };
    match OAuthRequest::parse(&raw) {
        Err(err) => assert_client_error(&err),
        Ok(request) => {
            match token_request::parse_grant(&request.params, request.basic.clone()) {
                Err(err) => assert_client_error(&err),
                Ok(GrantRequest::Password(password)) => {
                    assert!(!password.username.is_empty() && !password.password.is_empty());
                }
                Ok(GrantRequest::RefreshToken(refresh)) => {
                    assert!(refresh.refresh_token.bytes().all(|b| (0x20..=0x7e).contains(&b)));
                }
                Ok(GrantRequest::ClientCredentials(_)) => {}
            }
            if let Err(err) = token_request::parse(&request.params, request.basic) {
                assert_client_error(&err);
            }
        }
    }
});
