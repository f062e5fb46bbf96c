//! The refresh token grant request (RFC 6749 §6).

use super::requested_scope;
use crate::OAuthError;
use crate::client_auth::{ClientCredentials, authenticate_request};
use crate::params::Params;

/// The longest refresh token accepted, in bytes: well above what Clavis
/// issues, so only a token it never issued is refused by length.
pub const MAX_REFRESH_TOKEN_LEN: usize = 512;

/// A syntactically valid refresh token grant request, not yet checked
/// against the store. `Debug` never shows the refresh token.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRequest {
    pub credentials: ClientCredentials,
    pub refresh_token: String,
    /// `None` when the client did not send `scope`: RFC 6749 §6, "If
    /// omitted is treated as equal to the scope originally granted".
    pub scope: Option<Vec<String>>,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("credentials", &self.credentials)
            .field("refresh_token", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

/// RFC 6749 §6: "refresh_token REQUIRED. The refresh token issued to the
/// client. scope OPTIONAL." and "the client MUST authenticate with the
/// authorization server". Appendix A.17: `refresh-token = 1*VSCHAR`, so a
/// value outside %x20-7E, like an over-long one, cannot be a token Clavis
/// issued: it is `invalid_grant`, as an unknown token is.
pub(super) fn parse(params: &Params, basic: Option<ClientCredentials>) -> Result<RefreshRequest, OAuthError> {
    let credentials = authenticate_request(basic, params)?;
    let refresh_token =
        params.get("refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let vschar = |b: u8| (0x20..=0x7e).contains(&b);
    if refresh_token.len() > MAX_REFRESH_TOKEN_LEN || !refresh_token.bytes().all(vschar) {
        return Err(OAuthError::invalid_grant("the refresh token is invalid, expired or revoked"));
    }
    Ok(RefreshRequest { credentials, refresh_token: refresh_token.to_owned(), scope: requested_scope(params)? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::client_auth::parse_basic;

    const CLIENT: &str = "grant_type=refresh_token&client_id=app&client_secret=s3cret";

    fn parse_form(body: &str) -> Result<RefreshRequest, OAuthError> {
        parse(&Params::from_form(body.as_bytes()).unwrap(), None)
    }

    #[test]
    fn accepts_a_token_with_or_without_scope() {
        let request = parse_form(&format!("{CLIENT}&refresh_token=abc.DEF-123_~")).unwrap();
        assert_eq!((request.refresh_token.as_str(), request.scope), ("abc.DEF-123_~", None));
        let narrowed = parse_form(&format!("{CLIENT}&refresh_token=t&scope=openid")).unwrap();
        assert_eq!(narrowed.scope, Some(vec!["openid".to_owned()]));
        let basic = parse(
            &Params::from_form(b"grant_type=refresh_token&refresh_token=t").unwrap(),
            parse_basic(b"Basic YTpi").ok(),
        );
        assert_eq!(basic.unwrap().credentials.client_id, "a");
    }

    #[test]
    fn each_error_has_its_code() {
        let long = "t".repeat(MAX_REFRESH_TOKEN_LEN + 1);
        let cases = [
            ("grant_type=refresh_token&refresh_token=t".to_owned(), ErrorCode::InvalidClient),
            (CLIENT.to_owned(), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&refresh_token="), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&refresh_token={long}"), ErrorCode::InvalidGrant),
            (format!("{CLIENT}&refresh_token=a%0Ab"), ErrorCode::InvalidGrant),
            (format!("{CLIENT}&refresh_token=caf%C3%A9"), ErrorCode::InvalidGrant),
            (format!("{CLIENT}&refresh_token=t&scope=%22"), ErrorCode::InvalidScope),
        ];
        for (body, code) in cases {
            assert_eq!(parse_form(&body).unwrap_err().code, code, "{body}");
        }
        assert!(parse_form(&format!("{CLIENT}&refresh_token={}", "t".repeat(MAX_REFRESH_TOKEN_LEN))).is_ok());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let request = parse_form(&format!("{CLIENT}&refresh_token=rt-very-secret-value")).unwrap();
        let shown = format!("{request:?}");
        assert!(!shown.contains("rt-very-secret-value") && !shown.contains("s3cret"), "{shown}");
    }
}
