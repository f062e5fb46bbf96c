//! The caller side: obtain, cache and refresh access tokens (client credentials grant).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde::Deserialize;

use crate::clock::{Clock, SystemClock, unix_seconds};
use crate::error::{BuildError, normalize_url};
use crate::secret::{AccessToken, ClientSecret};

/// How the client authenticates at the token endpoint.
///
/// ```
/// use clavis_sdk::ClientAuth;
///
/// assert_eq!(ClientAuth::default(), ClientAuth::Basic);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the ID and secret
    /// form-urlencoded first (RFC 6749 §2.3.1).
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// Retries of transient failures (network errors, 5xx, 429), with jittered
/// exponential backoff: the n-th wait is random in `[d/2, d]` where
/// `d = min(max_backoff, initial_backoff * 2^n)`, and at least the server's
/// `Retry-After` (capped at `max_backoff`).
///
/// ```
/// use std::time::Duration;
/// use clavis_sdk::RetryPolicy;
///
/// let policy = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
/// assert_eq!(policy.initial_backoff, Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 4).
    pub max_retries: u32,
    /// The first wait's upper bound (default 200 ms).
    pub initial_backoff: Duration,
    /// The largest wait (default 5 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 4, initial_backoff: Duration::from_millis(200), max_backoff: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// No retries: fail on the first transient error.
    ///
    /// ```
    /// assert_eq!(clavis_sdk::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        let ceiling = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        let half = ceiling / 2;
        let jittered = half + rand::thread_rng().gen_range(Duration::ZERO..=half);
        match retry_after {
            Some(hint) => jittered.max(hint.min(self.max_backoff)),
            None => jittered,
        }
    }
}

/// Why no token could be obtained. Never contains the client secret.
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
    /// The token endpoint answered 200 with a body that is not a usable
    /// bearer token response.
    #[error("the token endpoint returned an unusable response: {0}")]
    InvalidResponse(String),
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

/// Obtains access tokens with the client credentials grant and caches them.
///
/// Cheap to clone; clones share the cache. [`access_token`](Self::access_token)
/// returns the cached token while it is fresh, refreshes it ahead of expiry
/// (10% of its lifetime, at least 30 s, at most the lifetime), shares one
/// in-flight request between concurrent callers and retries transient
/// failures per [`RetryPolicy`].
///
/// ```no_run
/// use clavis_sdk::{ClientAuth, TokenManager};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tokens = TokenManager::builder("http://127.0.0.1:3000/oauth/v4/t1", "client-id", "secret")
///     .scope("read write")
///     .audience("https://api.example")
///     .client_auth(ClientAuth::Basic)
///     .build()?;
/// let token = tokens.access_token().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    token_url: String,
    client_id: String,
    secret: ClientSecret,
    scope: Option<String>,
    audience: Option<String>,
    auth: ClientAuth,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    cache: RwLock<Option<Cached>>,
    /// Bumped when a fetch finishes (either way).
    generation: AtomicU64,
    /// Held during a fetch; remembers the last fetch's error for those who waited on it.
    fetch: tokio::sync::Mutex<Option<TokenError>>,
}

#[derive(Clone)]
struct Cached {
    token: AccessToken,
    refresh_at: SystemTime,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("TokenManager")
            .field("token_url", &inner.token_url)
            .field("client_id", &inner.client_id)
            .field("secret", &inner.secret)
            .field("scope", &inner.scope)
            .field("audience", &inner.audience)
            .field("auth", &inner.auth)
            .finish_non_exhaustive()
    }
}

enum Failure {
    Fatal(TokenError),
    Transient { reason: String, retry_after: Option<Duration> },
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenManager {
    /// Starts configuring a manager for the tenant at `oauth_server_url`
    /// (token URL `{oauth_server_url}/token`).
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("http://127.0.0.1:3000/oauth/v4/t1", "id", "secret").build();
    /// assert!(tokens.is_ok());
    /// ```
    pub fn builder(
        oauth_server_url: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<ClientSecret>,
    ) -> TokenManagerBuilder {
        TokenManagerBuilder {
            base_url: oauth_server_url.into(),
            token_url: None,
            client_id: client_id.into(),
            secret: secret.into(),
            scope: None,
            audience: None,
            auth: ClientAuth::Basic,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            http: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// The token endpoint URL.
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("http://127.0.0.1:3000/oauth/v4/t1/", "id", "s").build().unwrap();
    /// assert_eq!(tokens.token_url(), "http://127.0.0.1:3000/oauth/v4/t1/token");
    /// ```
    pub fn token_url(&self) -> &str {
        &self.inner.token_url
    }

    /// A valid access token: the cached one while fresh, else a new one.
    ///
    /// # Errors
    /// [`TokenError::InvalidClient`] at once for wrong credentials; other
    /// refusals as [`TokenError::Refused`]; [`TokenError::Unavailable`] when
    /// every retry failed (unless the cached token is still unexpired, which
    /// is then returned).
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
    /// let token = tokens.access_token().await?;
    /// # Ok(()) }
    /// ```
    pub async fn access_token(&self) -> Result<AccessToken, TokenError> {
        let inner = &self.inner;
        // Read the generation first: a fetch that finishes after this is one we can share.
        let seen = inner.generation.load(Ordering::Acquire);
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let mut last_error = inner.fetch.lock().await;
        if inner.generation.load(Ordering::Acquire) != seen {
            // A fetch finished while we waited: share its outcome.
            match last_error.as_ref() {
                None => {
                    if let Some(token) = self.unexpired() {
                        return Ok(token);
                    }
                }
                Some(err) => return self.or_unexpired(err.clone()),
            }
        }
        let result = match self.fetch_with_retries().await {
            Ok(cached) => {
                let token = cached.token.clone();
                *inner.cache.write().unwrap_or_else(PoisonError::into_inner) = Some(cached);
                *last_error = None;
                Ok(token)
            }
            Err(err) => {
                *last_error = Some(err.clone());
                self.or_unexpired(err)
            }
        };
        inner.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// After a failed refresh: the cached token if the failure was transient
    /// and the token has not expired yet, else the error.
    fn or_unexpired(&self, err: TokenError) -> Result<AccessToken, TokenError> {
        match (&err, self.unexpired()) {
            (TokenError::Unavailable { .. }, Some(old)) => {
                tracing::warn!(error = %err, "token refresh failed; using the unexpired cached token");
                Ok(old)
            }
            _ => Err(err),
        }
    }

    /// Drops the cached token, so the next [`access_token`](Self::access_token)
    /// fetches a new one (e.g. after a resource server answered 401).
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) {
    /// tokens.invalidate();
    /// # }
    /// ```
    pub fn invalidate(&self) {
        *self.inner.cache.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn cached(&self) -> Option<Cached> {
        self.inner.cache.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn fresh(&self) -> Option<AccessToken> {
        let cached = self.cached()?;
        (self.inner.clock.now() < cached.refresh_at).then_some(cached.token)
    }

    fn unexpired(&self) -> Option<AccessToken> {
        let cached = self.cached()?;
        (self.inner.clock.now() < cached.token.expires_at).then_some(cached.token)
    }

    async fn fetch_with_retries(&self) -> Result<Cached, TokenError> {
        let retry = self.inner.retry;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.fetch_once().await {
                Ok(cached) => return Ok(cached),
                Err(Failure::Fatal(err)) => return Err(err),
                Err(Failure::Transient { reason, retry_after }) => {
                    if attempts > retry.max_retries {
                        return Err(TokenError::Unavailable { attempts, last: reason });
                    }
                    let delay = retry.delay(attempts - 1, retry_after);
                    tracing::debug!(attempt = attempts, ?delay, reason, "token request failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn fetch_once(&self) -> Result<Cached, Failure> {
        let inner = &self.inner;
        let mut request = inner
            .http
            .post(&inner.token_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json");
        if inner.auth == ClientAuth::Basic {
            request = request.header(AUTHORIZATION, self.basic_header()?);
        }
        let request = request.body(self.form_body());
        let sent_at = inner.clock.now();
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Transient { reason: e.without_url().to_string(), retry_after: None })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::Transient { reason: e.without_url().to_string(), retry_after: None })?;
        if status.is_success() {
            return self.parse_success(&body, sent_at).map_err(Failure::Fatal);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Failure::Transient { reason: format!("HTTP {status}"), retry_after });
        }
        let parsed: Option<ErrorResponse> = serde_json::from_slice(&body).ok();
        Err(Failure::Fatal(match parsed {
            Some(e) if e.error == "invalid_client" => TokenError::InvalidClient { description: e.error_description },
            None if status == StatusCode::UNAUTHORIZED => TokenError::InvalidClient { description: None },
            Some(e) => {
                TokenError::Refused { status: status.as_u16(), error: e.error, description: e.error_description }
            }
            None => TokenError::Refused { status: status.as_u16(), error: "unknown".into(), description: None },
        }))
    }

    /// The form body: grant type, scope, audience and, for
    /// `client_secret_post`, the credentials.
    fn form_body(&self) -> String {
        let inner = &self.inner;
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &inner.scope {
            form.append_pair("scope", scope);
        }
        if let Some(audience) = &inner.audience {
            form.append_pair("audience", audience);
        }
        if inner.auth == ClientAuth::Post {
            form.append_pair("client_id", &inner.client_id);
            form.append_pair("client_secret", inner.secret.expose());
        }
        form.finish()
    }

    fn basic_header(&self) -> Result<HeaderValue, Failure> {
        let inner = &self.inner;
        let id: String = form_urlencoded::byte_serialize(inner.client_id.as_bytes()).collect();
        let secret: String = form_urlencoded::byte_serialize(inner.secret.expose().as_bytes()).collect();
        let encoded = STANDARD.encode(format!("{id}:{secret}"));
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| Failure::Fatal(TokenError::InvalidClient { description: None }))?;
        value.set_sensitive(true);
        Ok(value)
    }

    fn parse_success(&self, body: &[u8], sent_at: SystemTime) -> Result<Cached, TokenError> {
        let response: TokenResponse = serde_json::from_slice(body)
            .map_err(|e| TokenError::InvalidResponse(format!("not a token response ({e})")))?;
        if !response.token_type.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::InvalidResponse(format!("token_type is {:?}, not Bearer", response.token_type)));
        }
        if response.access_token.is_empty() {
            return Err(TokenError::InvalidResponse("empty access_token".into()));
        }
        let lifetime = match response.expires_in {
            Some(secs) => Duration::from_secs(secs),
            None => jwt_lifetime(&response.access_token, sent_at).unwrap_or(Duration::ZERO),
        };
        let expires_at = sent_at + lifetime;
        Ok(Cached {
            refresh_at: expires_at - refresh_margin(lifetime),
            token: AccessToken {
                token: Arc::from(response.access_token),
                expires_at,
                scope: response.scope.map(Arc::from),
            },
        })
    }
}

/// How long before expiry to refresh: 10% of the lifetime, at least 30 s,
/// at most the lifetime.
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).max(Duration::from_secs(30)).min(lifetime)
}

/// The remaining lifetime from an (unverified) JWT's `exp`, for token
/// responses without `expires_in`. Used only for cache timing.
fn jwt_lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    #[derive(Deserialize)]
    struct Exp {
        exp: u64,
    }
    let payload = token.split('.').nth(1)?;
    let exp: Exp = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    Some(Duration::from_secs(exp.exp.saturating_sub(unix_seconds(now))))
}

/// Configures a [`TokenManager`]; start with [`TokenManager::builder`].
///
/// ```
/// use std::time::Duration;
/// use clavis_sdk::{ClientAuth, RetryPolicy, TokenManager};
///
/// let tokens = TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "secret")
///     .client_auth(ClientAuth::Post)
///     .retry_policy(RetryPolicy { max_retries: 2, ..Default::default() })
///     .request_timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// ```
pub struct TokenManagerBuilder {
    base_url: String,
    token_url: Option<String>,
    client_id: String,
    secret: ClientSecret,
    scope: Option<String>,
    audience: Option<String>,
    auth: ClientAuth,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    timeout: Duration,
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    /// Uses `token_url` instead of `{oAuthServerUrl}/token`.
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .token_url("https://auth.example/custom/token");
    /// ```
    pub fn token_url(mut self, token_url: impl Into<String>) -> Self {
        self.token_url = Some(token_url.into());
        self
    }

    /// Requests `scope` (space-separated).
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s").scope("read write");
    /// ```
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Requests `audience` (sent as the `audience` parameter).
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .audience("https://api.example");
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How to authenticate the client (default [`ClientAuth::Basic`]).
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .client_auth(clavis_sdk::ClientAuth::Post);
    /// ```
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Retry behaviour for transient failures.
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .retry_policy(clavis_sdk::RetryPolicy::none());
    /// ```
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The clock that decides when the cached token needs refreshing.
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .clock(clavis_sdk::ManualClock::starting_now());
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The HTTP client (default: a new one with the request timeout).
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .http_client(reqwest::Client::new());
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Timeout of one token request (default 10 s); ignored with
    /// [`http_client`](Self::http_client).
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .request_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the manager. No request is made until the first
    /// [`access_token`](TokenManager::access_token).
    ///
    /// # Errors
    /// [`BuildError`] for a non-http(s) URL, an empty client ID or secret, or
    /// an HTTP client that cannot be built.
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s").build()?;
    /// # Ok::<(), clavis_sdk::BuildError>(())
    /// ```
    pub fn build(self) -> Result<TokenManager, BuildError> {
        let token_url = match &self.token_url {
            Some(url) => normalize_url("token", url)?,
            None => format!("{}/token", normalize_url("oAuthServerUrl", &self.base_url)?),
        };
        if self.client_id.is_empty() {
            return Err(BuildError::Empty("client ID"));
        }
        if self.secret.expose().is_empty() {
            return Err(BuildError::Empty("client secret"));
        }
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .map_err(|e| BuildError::HttpClient(e.to_string()))?,
        };
        Ok(TokenManager {
            inner: Arc::new(Inner {
                token_url,
                client_id: self.client_id,
                secret: self.secret,
                scope: self.scope,
                audience: self.audience,
                auth: self.auth,
                retry: self.retry,
                clock: self.clock,
                http,
                cache: RwLock::new(None),
                generation: AtomicU64::new(0),
                fetch: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    #[test]
    fn futures_are_send() {
        let tokens = TokenManager::builder("http://127.0.0.1:1/t", "id", "s").build().unwrap();
        assert_send(async move { tokens.access_token().await });
    }

    #[test]
    fn margin_is_ten_percent_at_least_30s_at_most_lifetime() {
        assert_eq!(refresh_margin(Duration::from_secs(3600)), Duration::from_secs(360));
        assert_eq!(refresh_margin(Duration::from_secs(100)), Duration::from_secs(30));
        assert_eq!(refresh_margin(Duration::from_secs(20)), Duration::from_secs(20));
    }

    #[test]
    fn backoff_stays_within_bounds() {
        let policy = RetryPolicy::default();
        for retry in 0..40 {
            let d = policy.delay(retry, None);
            assert!(d <= policy.max_backoff, "{d:?}");
        }
        let first = policy.delay(0, None);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        assert_eq!(policy.delay(0, Some(Duration::from_secs(60))), policy.max_backoff);
    }
}
