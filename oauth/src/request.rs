//! An OAuth request as it arrives: the `Authorization` header, the media
//! type and the body, turned into parameters and any HTTP Basic
//! credentials. The HTTP adapter only reads the bytes (with its size limit);
//! every rule about them is here.

use crate::OAuthError;
use crate::client_auth::{ClientCredentials, parse_basic};
use crate::media_type::{BodyKind, body_kind};
use crate::multipart;
use crate::params::Params;

/// The parts of an HTTP request the OAuth endpoints look at.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// The `Authorization` header value, if any.
    pub authorization: Option<&'a [u8]>,
    /// Whether the request carried more than one `Authorization` header.
    pub several_authorizations: bool,
    /// The `Content-Type` header value, if any.
    pub content_type: Option<&'a [u8]>,
    /// The body, or `None` when it was larger than the endpoint accepts.
    pub body: Option<&'a [u8]>,
    /// The `DPoP` header value (RFC 9449 §4.1), if any.
    pub dpop: Option<&'a [u8]>,
    /// Whether the request carried more than one `DPoP` header.
    pub several_dpops: bool,
}

/// The parameters and any HTTP Basic credentials of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthRequest {
    pub params: Params,
    pub basic: Option<ClientCredentials>,
}

impl OAuthRequest {
    /// Reads `raw`: at most one `Authorization` header, a body within the
    /// limit, form-encoded, multipart or JSON (an empty body needs no media
    /// type).
    pub fn parse(raw: &RawRequest<'_>) -> Result<Self, OAuthError> {
        if raw.several_authorizations {
            return Err(OAuthError::invalid_request("more than one Authorization header"));
        }
        let basic = raw.authorization.map(parse_basic).transpose()?;
        let body = raw.body.ok_or_else(OAuthError::payload_too_large)?;
        let kind = match raw.content_type {
            None if body.is_empty() => BodyKind::Form,
            None => return Err(OAuthError::unsupported_media_type()),
            Some(value) => body_kind(value).ok_or_else(OAuthError::unsupported_media_type)?,
        };
        let params = match kind {
            BodyKind::Form => Params::from_form(body)?,
            BodyKind::Json if body.is_empty() => Params::default(),
            BodyKind::Json => Params::from_json(body)?,
            BodyKind::Multipart(Some(boundary)) => multipart::parse(body, boundary)?,
            BodyKind::Multipart(None) => {
                return Err(OAuthError::invalid_request(
                    "multipart/form-data needs a boundary parameter of 1 to 70 allowed characters",
                ));
            }
        };
        Ok(Self { params, basic })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn parse(
        authorization: &[&[u8]],
        content_type: Option<&[u8]>,
        body: Option<&[u8]>,
    ) -> Result<OAuthRequest, OAuthError> {
        let several_authorizations = authorization.len() > 1;
        let authorization = authorization.first().copied();
        OAuthRequest::parse(&RawRequest {
            authorization,
            several_authorizations,
            content_type,
            body,
            dpop: None,
            several_dpops: false,
        })
    }

    #[test]
    fn form_and_json_bodies_give_the_same_parameters() {
        let form =
            parse(&[], Some(b"application/x-www-form-urlencoded"), Some(b"grant_type=client_credentials")).unwrap();
        let json = parse(&[], Some(b"application/json"), Some(br#"{"grant_type":"client_credentials"}"#)).unwrap();
        assert_eq!(form, json);
        assert_eq!(form.params.get("grant_type"), Some("client_credentials"));
    }

    #[test]
    fn refusals_carry_their_status() {
        assert_eq!(parse(&[], Some(b"text/plain"), Some(b"x")).unwrap_err().status, 415);
        assert_eq!(parse(&[], None, Some(b"x")).unwrap_err().status, 415);
        assert_eq!(parse(&[], None, None).unwrap_err().status, 413);
        let twice = parse(&[b"Basic YTpi", b"Basic YTpi"], None, Some(b"")).unwrap_err();
        assert_eq!((twice.status, twice.code), (400, ErrorCode::InvalidRequest));
    }

    #[test]
    fn multipart_bodies_give_the_same_parameters_as_forms() {
        let form =
            parse(&[b"Basic YTpi"], Some(b"application/x-www-form-urlencoded"), Some(b"grant_type=password&scope=a+b"))
                .unwrap();
        let body = b"--b\r\nContent-Disposition: form-data; name=grant_type\r\n\r\npassword\r\n\
--b\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\na b\r\n--b--\r\n";
        let multipart = parse(&[b"Basic YTpi"], Some(b"multipart/form-data; boundary=b"), Some(body)).unwrap();
        assert_eq!(form, multipart);
    }

    #[test]
    fn multipart_refusals_are_400_and_oversized_is_413() {
        for content_type in [&b"multipart/form-data"[..], b"multipart/form-data; boundary=\"\""] {
            let err = parse(&[], Some(content_type), Some(b"--b--")).unwrap_err();
            assert_eq!((err.status, err.code), (400, ErrorCode::InvalidRequest));
        }
        let form_in_multipart =
            parse(&[], Some(b"multipart/form-data; boundary=b"), Some(b"grant_type=x")).unwrap_err();
        assert_eq!(form_in_multipart.status, 400);
        assert_eq!(parse(&[], Some(b"multipart/form-data; boundary=b"), None).unwrap_err().status, 413);
    }

    #[test]
    fn basic_credentials_are_read_and_remembered() {
        let request = parse(&[b"Basic YTpi"], None, Some(b"")).unwrap();
        assert_eq!(request.basic.map(|basic| basic.client_id), Some("a".to_owned()));
    }
}
