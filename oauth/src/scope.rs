//! Scope syntax (RFC 6749 §3.3) and the scopes Clavis itself defines.

use super::OAuthError;

/// Grants read access to the management API.
pub const MANAGEMENT_READ: &str = "clavis:management:read";
/// Grants write (and read) access to the management API.
pub const MANAGEMENT_WRITE: &str = "clavis:management:write";
/// OpenID Connect Core §3.1.2.1: "OpenID Connect requests MUST contain the
/// openid scope value"; user tokens always carry it, with an ID token.
pub const OPENID: &str = "openid";

/// Splits a `scope` parameter into its scope tokens.
///
/// RFC 6749 §3.3: `scope = scope-token *( SP scope-token )` and
/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn parse(scope: &str) -> Result<Vec<&str>, OAuthError> {
    let mut tokens = Vec::new();
    for token in scope.split(' ') {
        if token.is_empty() {
            continue;
        }
        let valid = token.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid || token.len() > 200 {
            return Err(OAuthError::invalid_scope("scope contains an invalid scope token"));
        }
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    Ok(tokens)
}

/// The scopes an access token carries: the tenant's default scope, plus the
/// requested scopes the caller is entitled to on the token's audience (all
/// of them when it requested none), in the order they are entitled.
///
/// RFC 6749 §3.3: "The authorization server MAY fully or partially ignore the
/// scope requested by the client", and "If the issued access token scope is
/// different from the one requested by the client, the authorization server
/// MUST include the "scope" response parameter": scopes not granted are left
/// out, and the response always names what was granted.
pub fn grant<S: AsRef<str>>(default_scope: &str, entitled: &[S], requested: Option<&[&str]>) -> String {
    let mut granted = String::with_capacity(64);
    granted.push_str(default_scope);
    for scope in entitled.iter().map(AsRef::as_ref) {
        let wanted = requested.is_none_or(|requested| requested.contains(&scope));
        if wanted && scope != default_scope {
            granted.push(' ');
            granted.push_str(scope);
        }
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_deduplicates() {
        assert_eq!(parse("a  b a").unwrap(), vec!["a", "b"]);
        assert!(parse("a \"b\"").is_err());
        assert!(parse("caf\u{e9}").is_err());
    }

    #[test]
    fn grants_default_plus_requested_entitled() {
        assert_eq!(grant("appid_default", &[MANAGEMENT_READ], None), "appid_default clavis:management:read");
        assert_eq!(grant("appid_default", &[MANAGEMENT_READ], Some(&["other"])), "appid_default");
        assert_eq!(grant::<&str>("appid_default", &[], Some(&[MANAGEMENT_WRITE])), "appid_default");
        let entitled = ["read", "write", "admin"];
        assert_eq!(grant("appid_default", &entitled, Some(&["write", "read", "nope"])), "appid_default read write");
        assert_eq!(grant("appid_default", &entitled, Some(&["appid_default"])), "appid_default");
    }
}
