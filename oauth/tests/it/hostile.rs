//! Arbitrary headers and bodies: the parsers never panic, and every refusal
//! is a 4xx with an RFC 6749 `error_description`.

use clavis_oauth::client_auth::parse_basic;
use clavis_oauth::media_type::body_kind;
use clavis_oauth::params::Params;
use clavis_oauth::request::{OAuthRequest, RawRequest};
use clavis_oauth::token_request::{self, GrantRequest, MAX_PASSWORD_CHARS, MAX_REFRESH_TOKEN_LEN, MAX_USERNAME_CHARS};
use proptest::prelude::*;

use crate::strategies::{assert_client_error, authorization, body, config, content_type, json_body, multipart_like};

/// The whole token-request path the token endpoint runs before it looks
/// anything up: the raw request, then the grant's parameters.
fn parse_token_request(raw: &RawRequest<'_>) -> Result<(), TestCaseError> {
    let request = match OAuthRequest::parse(raw) {
        Err(err) => return assert_client_error(&err),
        Ok(request) => request,
    };
    parse_any_grant(&request)?;
    match token_request::parse(&request.params, request.basic) {
        Err(err) => assert_client_error(&err),
        Ok(parsed) => {
            // What was accepted is usable: an authenticated client and
            // scope tokens in RFC 6749 §3.3's syntax.
            prop_assert!(!parsed.credentials.client_id.is_empty());
            prop_assert!(!parsed.credentials.secret().unwrap_or_default().is_empty());
            for token in parsed.scope.iter().flatten() {
                prop_assert!(!token.is_empty() && !token.contains(' '));
            }
            Ok(())
        }
    }
}

/// Every grant's rules: a refusal is a 4xx, and what is accepted keeps
/// within the documented limits.
fn parse_any_grant(request: &OAuthRequest) -> Result<(), TestCaseError> {
    match token_request::parse_grant(&request.params, request.basic.clone()) {
        Err(err) => assert_client_error(&err),
        Ok(grant) => {
            prop_assert!(
                !grant.credentials().client_id.is_empty()
                    && !grant.credentials().secret().unwrap_or_default().is_empty()
            );
            prop_assert_eq!(Some(grant.grant_type()), request.params.get("grant_type"));
            match &grant {
                GrantRequest::ClientCredentials(_) => {}
                GrantRequest::Password(password) => {
                    prop_assert!(
                        !password.username.is_empty() && password.username.chars().count() <= MAX_USERNAME_CHARS
                    );
                    prop_assert!(
                        !password.password.is_empty() && password.password.chars().count() <= MAX_PASSWORD_CHARS
                    );
                    // Debug output does not depend on the password at all.
                    let mut other = password.clone();
                    other.password.push('x');
                    prop_assert_eq!(format!("{password:?}"), format!("{other:?}"));
                }
                GrantRequest::RefreshToken(refresh) => {
                    let token = &refresh.refresh_token;
                    prop_assert!(!token.is_empty() && token.len() <= MAX_REFRESH_TOKEN_LEN);
                    prop_assert!(token.bytes().all(|b| (0x20..=0x7e).contains(&b)));
                    let mut other = refresh.clone();
                    other.refresh_token.push('x');
                    prop_assert_eq!(format!("{refresh:?}"), format!("{other:?}"));
                }
            }
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes under a multipart media type, whatever its boundary
    /// parameter says: parameters, or a 4xx that echoes nothing.
    #[test]
    fn any_multipart_body_is_parsed_or_refused_with_a_4xx(
        body in multipart_like("x"),
        content_type in prop::sample::select(vec![
            "multipart/form-data; boundary=x",
            "multipart/form-data; boundary=\"x\"",
            "multipart/form-data; boundary=y",
            "multipart/form-data",
        ]),
    ) {
        let raw = RawRequest {
            authorization: None,
            several_authorizations: false,
            content_type: Some(content_type.as_bytes()),
            body: Some(&body), dpop: None, several_dpops: false
        };
        match OAuthRequest::parse(&raw) {
            Err(err) => {
                assert_client_error(&err)?;
                prop_assert_eq!(err.status, 400, "{}", err);
            }
            // Only a body with its closing delimiter is complete.
            Ok(_) => prop_assert!(body.windows(4).any(|w| w == b"--x-"), "{:?}", String::from_utf8_lossy(&body)),
        }
        parse_token_request(&raw)?;
    }

    #[test]
    fn any_token_request_is_parsed_or_refused_with_a_4xx(
        authorization in proptest::option::of(authorization()),
        several_authorizations in proptest::bool::weighted(0.1),
        content_type in proptest::option::weighted(0.9, content_type()),
        body in proptest::option::weighted(0.95, body()),
    ) {
        let raw = RawRequest {
            authorization: authorization.as_deref(),
            several_authorizations: several_authorizations && authorization.is_some(),
            content_type: content_type.as_deref(),
            body: body.as_deref(), dpop: None, several_dpops: false
        };
        parse_token_request(&raw)?;
    }

    #[test]
    fn any_form_body_is_parsed_or_refused_with_a_4xx(body in body()) {
        let raw = RawRequest {
            authorization: None,
            several_authorizations: false,
            content_type: Some(b"application/x-www-form-urlencoded"),
            body: Some(&body), dpop: None, several_dpops: false
        };
        parse_token_request(&raw)?;
    }

    #[test]
    fn any_json_body_is_parsed_or_refused_with_a_4xx(body in json_body()) {
        match Params::from_json(&body) {
            Err(err) => assert_client_error(&err)?,
            // Accepted JSON is an object of string parameters: no value is
            // empty (an empty one counts as omitted).
            Ok(params) => {
                let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
                prop_assert!(parsed.is_object(), "accepted a non-object: {parsed}");
                for name in ["grant_type", "client_id", "client_secret", "scope", "audience"] {
                    prop_assert_ne!(params.get(name), Some(""));
                }
            }
        }
        let raw = RawRequest {
            authorization: None,
            several_authorizations: false,
            content_type: Some(b"application/json"),
            body: Some(&body), dpop: None, several_dpops: false
        };
        parse_token_request(&raw)?;
    }

    #[test]
    fn any_authorization_header_is_parsed_or_refused_with_a_4xx(header in authorization()) {
        match parse_basic(&header) {
            Err(err) => {
                assert_client_error(&err)?;
                // A refused Basic header is a 400 (malformed) or a 401 with
                // the challenge (wrong scheme, empty credentials).
                prop_assert!(err.status == 400 || (err.status == 401 && err.basic_challenge), "{err:?}");
            }
            Ok(credentials) => {
                prop_assert!(!credentials.client_id.is_empty() && !credentials.secret().unwrap_or_default().is_empty());
                // Debug output does not depend on the secret at all.
                let mut other = credentials.clone();
                if let clavis_oauth::client_auth::ClientProof::Secret(secret) = &mut other.proof {
                    secret.push('x');
                }
                prop_assert_eq!(format!("{credentials:?}"), format!("{other:?}"));
            }
        }
    }

    #[test]
    fn any_content_type_names_at_most_one_body_kind(value in content_type()) {
        if body_kind(&value).is_some() {
            let text = std::str::from_utf8(&value).unwrap().to_ascii_lowercase();
            let essence = text.split(';').next().unwrap().trim();
            let known = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];
            prop_assert!(known.contains(&essence), "{text}");
        }
    }

    /// An empty body needs no media type; any other body without one is 415.
    #[test]
    fn a_body_without_content_type_is_415(body in body()) {
        let raw = RawRequest { authorization: None, several_authorizations: false, content_type: None, body: Some(&body), dpop: None, several_dpops: false };
        match OAuthRequest::parse(&raw) {
            Ok(request) => prop_assert!(body.is_empty() && request.params == Params::default()),
            Err(err) => prop_assert_eq!(err.status, 415),
        }
    }

    /// An oversized body (the adapter passes `None`) is 413 whatever else
    /// the request carries, once the `Authorization` header has been read.
    #[test]
    fn an_oversized_body_is_413(content_type in proptest::option::of(content_type())) {
        let raw = RawRequest { authorization: None, several_authorizations: false, content_type: content_type.as_deref(), body: None, dpop: None, several_dpops: false };
        prop_assert_eq!(OAuthRequest::parse(&raw).unwrap_err().status, 413);
    }

    #[test]
    fn two_authorization_headers_are_refused(header in authorization(), body in body()) {
        let raw = RawRequest {
            authorization: Some(&header),
            several_authorizations: true,
            content_type: Some(b"application/x-www-form-urlencoded"),
            body: Some(&body), dpop: None, several_dpops: false
        };
        let err = OAuthRequest::parse(&raw).unwrap_err();
        prop_assert_eq!(err.status, 400);
    }
}
