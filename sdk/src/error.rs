//! Configuration errors shared by the builders, and the URL rules they enforce.

use std::net::IpAddr;

use reqwest::Url;

/// A builder was given a configuration it cannot use.
///
/// ```
/// use clavis_sdk::{BuildError, TokenValidator};
///
/// let err = TokenValidator::builder("not a url").audience("api").build().unwrap_err();
/// assert!(matches!(err, BuildError::InvalidUrl { .. }));
///
/// let err = TokenValidator::builder("http://auth.example/oauth/v4/t1").audience("api").build().unwrap_err();
/// assert!(matches!(err, BuildError::InsecureUrl { .. }));
///
/// let err = TokenValidator::builder("https://auth.example/oauth/v4/t1").build().unwrap_err();
/// assert!(matches!(err, BuildError::MissingAudience));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A URL (issuer, token URL, JWKS URL) is not an absolute http(s) URL.
    #[error("invalid {what} URL {url:?}: must be an absolute https URL")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A URL uses plain `http` for a host that is not loopback.
    #[error(
        "insecure {what} URL {url:?}: must use https (plain http is allowed only for loopback hosts: \
         127.0.0.0/8, ::1, localhost)"
    )]
    InsecureUrl {
        /// Which URL.
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A [`TokenValidator`](crate::TokenValidator) was built without an
    /// expected audience.
    #[error(
        "no audience configured: call .audience(<this API's identifier>) so that tokens minted for other \
         APIs are refused, or .allow_any_audience() to opt out explicitly"
    )]
    MissingAudience,
    /// A required setting is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

/// Checks that `url` is an absolute URL the SDK may talk to (see
/// [`is_allowed_url`]) and returns it without trailing slashes.
pub(crate) fn normalize_url(what: &'static str, url: &str) -> Result<String, BuildError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = Url::parse(trimmed).map_err(|_| BuildError::InvalidUrl { what, url: url.to_owned() })?;
    match url_policy(&parsed) {
        UrlPolicy::Allowed => Ok(trimmed.to_owned()),
        UrlPolicy::Insecure => Err(BuildError::InsecureUrl { what, url: url.to_owned() }),
        UrlPolicy::Invalid => Err(BuildError::InvalidUrl { what, url: url.to_owned() }),
    }
}

/// Whether `url` (for instance a `jwks_uri` found through discovery) is one
/// the SDK may fetch: https, or http to a loopback host.
pub(crate) fn is_allowed_url(url: &str) -> bool {
    Url::parse(url).is_ok_and(|parsed| url_policy(&parsed) == UrlPolicy::Allowed)
}

#[derive(Debug, PartialEq, Eq)]
enum UrlPolicy {
    Allowed,
    Insecure,
    Invalid,
}

/// RFC 8414 §2: the issuer is "a URL that uses the "https" scheme", and
/// RFC 6749 §3.2: the token endpoint carries "clear-text credentials (in the
/// HTTP request and response)" and so "MUST require the use of TLS". Plain
/// http is kept for loopback hosts only, where no network sees the traffic
/// (local development and tests).
fn url_policy(url: &Url) -> UrlPolicy {
    let Some(host) = url.host_str().filter(|host| !host.is_empty()) else {
        return UrlPolicy::Invalid;
    };
    match url.scheme() {
        "https" => UrlPolicy::Allowed,
        "http" if is_loopback(host) => UrlPolicy::Allowed,
        "http" => UrlPolicy::Insecure,
        _ => UrlPolicy::Invalid,
    }
}

/// `host` as the URL parser gives it: domains lowercased, IPv6 in brackets.
fn is_loopback(host: &str) -> bool {
    let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match unbracketed.parse::<IpAddr>() {
        // 127.0.0.0/8 and ::1, also written as an IPv4-mapped IPv6 address.
        Ok(ip) => ip.to_canonical().is_loopback(),
        // `localhost.` (fully qualified) is the same name.
        Err(_) => matches!(host, "localhost" | "localhost."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://auth.example/oauth/v4/t",
            "http://127.0.0.1:3000/oauth/v4/t",
            "http://127.1.2.3/t",
            "http://[::1]:8080/t",
            "http://[::ffff:127.0.0.1]/t",
            "http://localhost:3000/t",
            "http://LOCALHOST/t/",
        ] {
            assert!(normalize_url("issuer", ok).is_ok(), "{ok}");
            assert!(is_allowed_url(ok), "{ok}");
        }
        for insecure in
            ["http://example.com/oauth/v4/t", "http://10.0.0.1/t", "http://[::2]/t", "http://localhost.evil/t"]
        {
            assert!(matches!(normalize_url("issuer", insecure), Err(BuildError::InsecureUrl { .. })), "{insecure}");
            assert!(!is_allowed_url(insecure), "{insecure}");
        }
        for invalid in ["not a url", "ftp://example.com/t", "file:///etc/passwd", "https://"] {
            assert!(matches!(normalize_url("issuer", invalid), Err(BuildError::InvalidUrl { .. })), "{invalid}");
            assert!(!is_allowed_url(invalid), "{invalid}");
        }
    }

    #[test]
    fn trailing_slashes_are_dropped() {
        assert_eq!(normalize_url("issuer", " https://a.example/t// ").unwrap(), "https://a.example/t");
    }
}
