//! Secret-holding types whose `Debug` output never reveals their contents.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// A client secret. Its `Debug` output is redacted; read it with
/// [`expose`](ClientSecret::expose) only where it is sent.
///
/// ```
/// use clavis_sdk::ClientSecret;
///
/// let secret = ClientSecret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");
/// assert_eq!(secret.expose(), "s3cr3t");
/// ```
#[derive(Clone)]
pub struct ClientSecret(Arc<str>);

impl ClientSecret {
    /// Wraps a secret.
    ///
    /// ```
    /// let secret = clavis_sdk::ClientSecret::new(String::from("s3cr3t"));
    /// ```
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Arc::from(secret.into()))
    }

    /// The secret itself. Never log it.
    ///
    /// ```
    /// let secret = clavis_sdk::ClientSecret::new("s3cr3t");
    /// assert_eq!(secret.expose().len(), 6);
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

impl From<String> for ClientSecret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<&str> for ClientSecret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

/// An access token obtained by a [`TokenManager`](crate::TokenManager).
///
/// Cheap to clone. `Debug` shows the expiry and scope but not the token.
///
/// ```no_run
/// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
/// let token = tokens.access_token().await?;
/// let header_value = token.bearer_header();
/// assert!(header_value.starts_with("Bearer "));
/// println!("{token:?}"); // AccessToken { token: <redacted>, expires_at: .., scope: .. }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AccessToken {
    pub(crate) token: Arc<str>,
    pub(crate) expires_at: SystemTime,
    pub(crate) scope: Option<Arc<str>>,
    /// Bound to a DPoP key (`token_type: DPoP`).
    pub(crate) dpop: bool,
}

impl AccessToken {
    /// The token, to send as `Authorization: Bearer <token>`.
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
    /// let token = tokens.access_token().await?;
    /// reqwest::Client::new().get("http://127.0.0.1:8081/").bearer_auth(token.as_str()).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The full `Authorization` header value, `Bearer <token>`. A DPoP-bound
    /// token ([`token_type`](Self::token_type) `DPoP`) goes out as
    /// `DPoP <token>` with a proof instead: see
    /// [`TokenManager::authorize`](crate::TokenManager::authorize).
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
    /// let value = tokens.access_token().await?.bearer_header();
    /// # Ok(()) }
    /// ```
    pub fn bearer_header(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// `DPoP` for a token bound to the manager's DPoP key (RFC 9449), else
    /// `Bearer`.
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
    /// assert_eq!(tokens.access_token().await?.token_type(), "Bearer");
    /// # Ok(()) }
    /// ```
    pub fn token_type(&self) -> &'static str {
        if self.dpop { "DPoP" } else { "Bearer" }
    }

    /// When the token expires (fetch time plus `expires_in`).
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
    /// let expires_at = tokens.access_token().await?.expires_at();
    /// # Ok(()) }
    /// ```
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The granted scope, if the token response named one.
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
    /// if let Some(scope) = tokens.access_token().await?.scope() {
    ///     println!("granted: {scope}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &format_args!("<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type())
            .finish()
    }
}
