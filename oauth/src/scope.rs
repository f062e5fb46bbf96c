//! Scope syntax (RFC 6749 §3.3) and the scopes Clavis itself defines.

use super::OAuthError;

/// Grants read access to the management API.
pub const MANAGEMENT_READ: &str = "clavis:management:read";
/// Grants write (and read) access to the management API.
pub const MANAGEMENT_WRITE: &str = "clavis:management:write";

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

/// The scopes an access token carries.
///
/// RFC 6749 §3.3: "The authorization server MAY fully or partially ignore the
/// scope requested by the client" — Clavis grants the tenant's default scope
/// always, plus those requested scopes the application is entitled to. A
/// request for a management scope the application lacks is refused outright
/// so that a misconfigured automation fails loudly.
pub fn grant(default_scope: &str, entitled: &[&str], requested: Option<&[&str]>) -> Result<String, OAuthError> {
    let mut granted: Vec<&str> = vec![default_scope];
    match requested {
        None => granted.extend(entitled.iter().copied()),
        Some(requested) => {
            for scope in requested {
                if *scope == default_scope || granted.contains(scope) {
                    continue;
                }
                if entitled.contains(scope) {
                    granted.push(scope);
                } else if scope.starts_with("clavis:") {
                    return Err(OAuthError::invalid_scope("the application is not entitled to the requested scope"));
                }
            }
        }
    }
    Ok(granted.join(" "))
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
    fn grants_default_plus_entitled() {
        assert_eq!(grant("appid_default", &[MANAGEMENT_READ], None).unwrap(), "appid_default clavis:management:read");
        assert_eq!(grant("appid_default", &[MANAGEMENT_READ], Some(&["other"])).unwrap(), "appid_default");
        assert!(grant("appid_default", &[], Some(&[MANAGEMENT_WRITE])).is_err());
    }
}
