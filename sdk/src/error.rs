//! Configuration errors shared by the builders.

/// A builder was given a configuration it cannot use.
///
/// ```
/// use clavis_sdk::{BuildError, TokenValidator};
///
/// let err = TokenValidator::builder("not a url").build().unwrap_err();
/// assert!(matches!(err, BuildError::InvalidUrl { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A URL (issuer, token URL, JWKS URL) is not an absolute http(s) URL.
    #[error("invalid {what} URL {url:?}: must be an absolute http or https URL")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A required setting is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

/// Checks that `url` is an absolute http(s) URL and returns it without
/// trailing slashes.
pub(crate) fn normalize_url(what: &'static str, url: &str) -> Result<String, BuildError> {
    let trimmed = url.trim().trim_end_matches('/');
    let invalid = || BuildError::InvalidUrl { what, url: url.to_owned() };
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid());
    }
    Ok(trimmed.to_owned())
}
