//! Token requests: the client credentials grant (RFC 6749 §4.4.2), with the
//! Auth0 `audience` and RFC 8707 `resource` extensions, and, through
//! [`parse_grant`], the resource owner password (§4.3.2) and refresh token
//! (§6) grants. Every grant authenticates the client the same way.

mod password;
mod refresh_token;

pub use password::{MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, PasswordRequest};
pub use refresh_token::{MAX_REFRESH_TOKEN_LEN, RefreshRequest};

use super::OAuthError;
use super::client_auth::{ClientCredentials, authenticate_request};
use super::params::Params;
use super::scope;

pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
pub const GRANT_PASSWORD: &str = "password";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
const MAX_AUDIENCES: usize = 10;
const MAX_AUDIENCE_LEN: usize = 512;

/// A syntactically valid token request, not yet checked against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub credentials: ClientCredentials,
    /// `None` when the client did not send `scope`.
    pub scope: Option<Vec<String>>,
    /// Requested audiences beyond the client itself, in request order.
    pub audiences: Vec<String>,
}

/// A syntactically valid request of one of the grants Clavis serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRequest {
    ClientCredentials(TokenRequest),
    Password(PasswordRequest),
    RefreshToken(RefreshRequest),
}

impl GrantRequest {
    /// The client's credentials, as presented.
    pub fn credentials(&self) -> &ClientCredentials {
        match self {
            GrantRequest::ClientCredentials(request) => &request.credentials,
            GrantRequest::Password(request) => &request.credentials,
            GrantRequest::RefreshToken(request) => &request.credentials,
        }
    }

    /// The `grant_type` value that named this grant.
    pub fn grant_type(&self) -> &'static str {
        match self {
            GrantRequest::ClientCredentials(_) => GRANT_CLIENT_CREDENTIALS,
            GrantRequest::Password(_) => GRANT_PASSWORD,
            GrantRequest::RefreshToken(_) => GRANT_REFRESH_TOKEN,
        }
    }
}

/// Validates the parameters of a token request of any grant Clavis serves.
///
/// RFC 6749 §5.2: "unsupported_grant_type: The authorization grant type is
/// not supported by the authorization server."
pub fn parse_grant(params: &Params, basic: Option<ClientCredentials>) -> Result<GrantRequest, OAuthError> {
    match params.get("grant_type") {
        None => Err(OAuthError::invalid_request("grant_type is required")),
        Some(GRANT_CLIENT_CREDENTIALS) => client_credentials(params, basic).map(GrantRequest::ClientCredentials),
        Some(GRANT_PASSWORD) => password::parse(params, basic).map(GrantRequest::Password),
        Some(GRANT_REFRESH_TOKEN) => refresh_token::parse(params, basic).map(GrantRequest::RefreshToken),
        Some(_) => {
            Err(OAuthError::unsupported_grant_type("grant_type must be client_credentials, password or refresh_token"))
        }
    }
}

/// Validates the parameters of a client credentials token request.
///
/// RFC 6749 §4.4.2: "grant_type REQUIRED. Value MUST be set to
/// "client_credentials"."
pub fn parse(params: &Params, basic: Option<ClientCredentials>) -> Result<TokenRequest, OAuthError> {
    match params.get("grant_type") {
        None => Err(OAuthError::invalid_request("grant_type is required")),
        Some(GRANT_CLIENT_CREDENTIALS) => client_credentials(params, basic),
        Some(_) => Err(OAuthError::unsupported_grant_type("only the client_credentials grant is supported")),
    }
}

fn client_credentials(params: &Params, basic: Option<ClientCredentials>) -> Result<TokenRequest, OAuthError> {
    let credentials = authenticate_request(basic, params)?;
    let scope = requested_scope(params)?;
    let audiences = requested_audiences(params)?;
    Ok(TokenRequest { credentials, scope, audiences })
}

/// RFC 6749 §3.3: the optional `scope`, split into its tokens; `None` when
/// the client did not send it.
fn requested_scope(params: &Params) -> Result<Option<Vec<String>>, OAuthError> {
    match params.get("scope") {
        None => Ok(None),
        Some(text) => Ok(Some(scope::parse(text)?.into_iter().map(str::to_owned).collect())),
    }
}

/// The `audience` and every `resource`, in request order, without repeats.
fn requested_audiences(params: &Params) -> Result<Vec<String>, OAuthError> {
    let mut audiences: Vec<String> = Vec::new();
    if let Some(audience) = params.get("audience") {
        check_audience(audience)?;
        audiences.push(audience.to_owned());
    }
    for resource in params.all("resource") {
        check_resource(resource)?;
        if !audiences.iter().any(|known| known == resource) {
            audiences.push(resource.to_owned());
        }
    }
    if audiences.len() > MAX_AUDIENCES {
        return Err(OAuthError::invalid_target("too many audiences requested"));
    }
    Ok(audiences)
}

fn check_audience(audience: &str) -> Result<(), OAuthError> {
    if audience.chars().count() > MAX_AUDIENCE_LEN || audience.chars().any(char::is_control) {
        return Err(OAuthError::invalid_target("audience is not a valid identifier"));
    }
    Ok(())
}

/// RFC 8707 §2: "The value of the "resource" parameter MUST be an absolute
/// URI ... and it MUST NOT include a fragment component."
fn check_resource(resource: &str) -> Result<(), OAuthError> {
    check_audience(resource)?;
    match url::Url::parse(resource) {
        Ok(url) if url.fragment().is_none() && !url.cannot_be_a_base() => Ok(()),
        _ => Err(OAuthError::invalid_target("resource must be an absolute URI without a fragment")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn parse_form(body: &str) -> Result<TokenRequest, OAuthError> {
        parse(&Params::from_form(body.as_bytes()).unwrap(), None)
    }

    #[test]
    fn accepts_a_complete_post_request() {
        let request = parse_form(
            "grant_type=client_credentials&client_id=a&client_secret=b&scope=x+y&audience=https%3A%2F%2Fapi",
        )
        .unwrap();
        assert_eq!(request.credentials.client_id, "a");
        assert_eq!(request.scope, Some(vec!["x".to_owned(), "y".to_owned()]));
        assert_eq!(request.audiences, vec!["https://api".to_owned()]);
    }

    #[test]
    fn each_error_has_its_code() {
        let cases = [
            ("client_id=a&client_secret=b", ErrorCode::InvalidRequest),
            ("grant_type=password&client_id=a&client_secret=b", ErrorCode::UnsupportedGrantType),
            ("grant_type=client_credentials", ErrorCode::InvalidClient),
            ("grant_type=client_credentials&client_id=a&client_secret=b&scope=%22", ErrorCode::InvalidScope),
            ("grant_type=client_credentials&client_id=a&client_secret=b&resource=relative", ErrorCode::InvalidTarget),
            (
                "grant_type=client_credentials&client_id=a&client_secret=b&resource=https://a/%23x#f",
                ErrorCode::InvalidTarget,
            ),
        ];
        for (body, code) in cases {
            assert_eq!(parse_form(body).unwrap_err().code, code, "{body}");
        }
    }

    #[test]
    fn parse_grant_names_each_grant_and_refuses_others() {
        let grant = |body: &str| parse_grant(&Params::from_form(body.as_bytes()).unwrap(), None);
        let client = grant("grant_type=client_credentials&client_id=a&client_secret=b&scope=x").unwrap();
        assert_eq!(
            client,
            GrantRequest::ClientCredentials(
                parse_form("grant_type=client_credentials&client_id=a&client_secret=b&scope=x").unwrap()
            )
        );
        assert_eq!(client.grant_type(), "client_credentials");
        let password = grant("grant_type=password&client_id=a&client_secret=b&username=u&password=p").unwrap();
        assert!(matches!(&password, GrantRequest::Password(request) if request.username == "u"));
        assert_eq!((password.grant_type(), password.credentials().client_id.as_str()), ("password", "a"));
        let refresh = grant("grant_type=refresh_token&client_id=a&client_secret=b&refresh_token=r").unwrap();
        assert!(matches!(&refresh, GrantRequest::RefreshToken(request) if request.refresh_token == "r"));
        assert_eq!(refresh.grant_type(), "refresh_token");
        for (body, code) in [
            ("client_id=a&client_secret=b", ErrorCode::InvalidRequest),
            ("grant_type=&client_id=a&client_secret=b", ErrorCode::InvalidRequest),
            ("grant_type=authorization_code&code=c&client_id=a&client_secret=b", ErrorCode::UnsupportedGrantType),
            ("grant_type=PASSWORD&username=u&password=p&client_id=a&client_secret=b", ErrorCode::UnsupportedGrantType),
            ("grant_type=password&username=u&password=p", ErrorCode::InvalidClient),
            ("grant_type=refresh_token&refresh_token=r", ErrorCode::InvalidClient),
        ] {
            assert_eq!(grant(body).unwrap_err().code, code, "{body}");
        }
    }

    #[test]
    fn the_client_credentials_parser_still_refuses_other_grants() {
        let err = parse_form("grant_type=password&client_id=a&client_secret=b&username=u&password=p").unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedGrantType);
    }

    #[test]
    fn resources_and_audience_merge_without_duplicates() {
        let request = parse_form(
            "grant_type=client_credentials&client_id=a&client_secret=b&audience=https://x&resource=https://x&resource=https://y",
        )
        .unwrap();
        assert_eq!(request.audiences, vec!["https://x".to_owned(), "https://y".to_owned()]);
    }
}
