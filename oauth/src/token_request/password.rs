//! The resource owner password credentials grant request (RFC 6749 §4.3.2).

use super::{requested_audiences, requested_scope};
use crate::OAuthError;
use crate::client_auth::{ClientCredentials, authenticate_request};
use crate::params::Params;

/// The longest username, in characters: an email address's path is at most
/// 256 octets with its angle brackets (RFC 5321 §4.5.3.1.3), so 254 without.
pub const MAX_USERNAME_CHARS: usize = 254;
/// The longest password, in characters: far above any password policy, and
/// short enough that a request cannot make hashing it costly.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A syntactically valid password grant request, not yet checked against
/// the store. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordRequest {
    pub credentials: ClientCredentials,
    /// As sent: the directory decides how names compare.
    pub username: String,
    pub password: String,
    /// `None` when the client did not send `scope`.
    pub scope: Option<Vec<String>>,
    /// Requested audiences beyond the client itself, in request order.
    pub audiences: Vec<String>,
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest")
            .field("credentials", &self.credentials)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("scope", &self.scope)
            .field("audiences", &self.audiences)
            .finish()
    }
}

/// RFC 6749 §4.3.2: "username REQUIRED. The resource owner username.
/// password REQUIRED. The resource owner password. scope OPTIONAL." and
/// "If the client type is confidential or the client was issued client
/// credentials ..., the client MUST authenticate with the authorization
/// server".
pub(super) fn parse(params: &Params, basic: Option<ClientCredentials>) -> Result<PasswordRequest, OAuthError> {
    let credentials = authenticate_request(basic, params)?;
    let username = params.get("username").ok_or_else(|| OAuthError::invalid_request("username is required"))?;
    let password = params.get("password").ok_or_else(|| OAuthError::invalid_request("password is required"))?;
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(OAuthError::invalid_request("username is longer than 254 characters"));
    }
    if username.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request("username contains control characters"));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(OAuthError::invalid_request("password is longer than 256 characters"));
    }
    Ok(PasswordRequest {
        credentials,
        username: username.to_owned(),
        password: password.to_owned(),
        scope: requested_scope(params)?,
        audiences: requested_audiences(params)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::client_auth::{AuthMethod, parse_basic};

    const CLIENT: &str = "grant_type=password&client_id=app&client_secret=s3cret";

    fn parse_form(body: &str) -> Result<PasswordRequest, OAuthError> {
        parse(&Params::from_form(body.as_bytes()).unwrap(), None)
    }

    #[test]
    fn accepts_a_complete_request() {
        let request =
            parse_form(&format!("{CLIENT}&username=a%40b.c&password=p%20w&scope=openid+x&resource=https://api/"))
                .unwrap();
        assert_eq!((request.username.as_str(), request.password.as_str()), ("a@b.c", "p w"));
        assert_eq!(request.scope, Some(vec!["openid".to_owned(), "x".to_owned()]));
        assert_eq!(request.audiences, vec!["https://api/".to_owned()]);
        assert_eq!(request.credentials.method, AuthMethod::ClientSecretPost);
    }

    #[test]
    fn basic_authentication_works_as_for_client_credentials() {
        // Seed 002: "YTpi" is a:b.
        let basic = parse_basic(b"Basic YTpi").ok();
        let params = Params::from_form(b"grant_type=password&username=u&password=p").unwrap();
        let request = parse(&params, basic.clone()).unwrap();
        assert_eq!(request.credentials.client_id, "a");
        let doubled = Params::from_form(b"grant_type=password&username=u&password=p&client_secret=b").unwrap();
        assert_eq!(parse(&doubled, basic).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn each_error_has_its_code() {
        let long_name = format!("{}@b.c", "a".repeat(251));
        let long_password = "\u{e9}".repeat(MAX_PASSWORD_CHARS + 1);
        let cases = [
            ("grant_type=password&username=u&password=p".to_owned(), ErrorCode::InvalidClient),
            (format!("{CLIENT}&password=p"), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&username=u"), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&username=&password=p"), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&username={long_name}&password=p"), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&username=a%0Ab&password=p"), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&username=u&password={long_password}"), ErrorCode::InvalidRequest),
            (format!("{CLIENT}&username=u&password=p&scope=%22"), ErrorCode::InvalidScope),
            (format!("{CLIENT}&username=u&password=p&resource=relative"), ErrorCode::InvalidTarget),
        ];
        for (body, code) in cases {
            assert_eq!(parse_form(&body).unwrap_err().code, code, "{body}");
        }
    }

    #[test]
    fn the_limits_are_inclusive_and_counted_in_characters() {
        let name = "\u{e9}".repeat(MAX_USERNAME_CHARS);
        let password = "\u{1f511}".repeat(MAX_PASSWORD_CHARS);
        let body = form_urlencoded::Serializer::new(CLIENT.to_owned())
            .append_pair("username", &name)
            .append_pair("password", &password)
            .finish();
        let request = parse_form(&body).unwrap();
        assert_eq!((request.username, request.password), (name, password));
    }

    #[test]
    fn debug_never_shows_the_password() {
        let request = parse_form(&format!("{CLIENT}&username=someone&password=hunter2hunter2")).unwrap();
        let shown = format!("{request:?}");
        assert!(shown.contains("someone"), "{shown}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cret"), "{shown}");
    }
}
