//! The client credentials grant request (RFC 6749 §4.4.2), with the Auth0
//! `audience` and RFC 8707 `resource` extensions.

use super::OAuthError;
use super::client_auth::{ClientCredentials, authenticate_request};
use super::params::Params;
use super::scope;

pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
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

/// Validates the parameters of a token request.
///
/// RFC 6749 §4.4.2: "grant_type REQUIRED. Value MUST be set to
/// "client_credentials"."
pub fn parse(params: &Params, basic: Option<ClientCredentials>) -> Result<TokenRequest, OAuthError> {
    match params.get("grant_type") {
        None => return Err(OAuthError::invalid_request("grant_type is required")),
        Some(GRANT_CLIENT_CREDENTIALS) => {}
        Some(_) => {
            return Err(OAuthError::unsupported_grant_type("only the client_credentials grant is supported"));
        }
    }
    let credentials = authenticate_request(basic, params)?;
    let scope = match params.get("scope") {
        None => None,
        Some(text) => Some(scope::parse(text)?.into_iter().map(str::to_owned).collect()),
    };
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
    Ok(TokenRequest { credentials, scope, audiences })
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
    fn resources_and_audience_merge_without_duplicates() {
        let request = parse_form(
            "grant_type=client_credentials&client_id=a&client_secret=b&audience=https://x&resource=https://x&resource=https://y",
        )
        .unwrap();
        assert_eq!(request.audiences, vec!["https://x".to_owned(), "https://y".to_owned()]);
    }
}
