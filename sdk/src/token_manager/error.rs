//! Why a token could not be obtained, as the caller sees it.

/// Why no token could be obtained. Never contains a secret, a key or a token.
///
/// ```no_run
/// use clavis_sdk::TokenError;
///
/// # async fn run(tokens: clavis_sdk::TokenManager) {
/// match tokens.access_token().await {
///     Ok(token) => println!("{token:?}"),
///     Err(TokenError::InvalidClient { description }) => eprintln!("wrong client ID or secret: {description:?}"),
///     Err(other) => eprintln!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token endpoint refused the client credentials (`invalid_client`,
    /// HTTP 401): wrong client ID or secret, or a deleted application. Not
    /// retried.
    #[error("the token endpoint rejected the client credentials (invalid_client){}", describe(description))]
    InvalidClient {
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint refused the request with another OAuth error
    /// (e.g. `invalid_scope`). Not retried.
    #[error("the token endpoint refused the request: HTTP {status}, {error}{}", describe(description))]
    Refused {
        /// HTTP status.
        status: u16,
        /// The OAuth `error` code (or `unknown` if the body had none).
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint answered with a body that is not usable: a 200
    /// that is not a token response of the expected type (`Bearer`, or
    /// `DPoP` with a DPoP key), or a body larger than 1 MiB
    /// (the SDK stops reading there).
    #[error("the token endpoint returned an unusable response: {0}")]
    InvalidResponse(String),
    /// The SDK could not produce the client's credential or a DPoP proof:
    /// an unreadable federated token file, a key that cannot sign, no DPoP
    /// key, or a request URL that is not absolute. Not retried.
    #[error("{0}")]
    Credential(String),
    /// Every attempt failed transiently (network, 5xx, 429).
    #[error("the token endpoint is unavailable after {attempts} attempt(s): {last}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

fn describe(description: &Option<String>) -> String {
    description.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
}
