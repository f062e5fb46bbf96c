//! The caller side: obtain, cache and refresh access tokens (client credentials grant, RFC 6749 §4.4).

mod builder;
mod credential;
mod dpop;
mod error;
mod response;
mod retry;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};

pub use builder::TokenManagerBuilder;
pub use dpop::Authorization;
pub use error::TokenError;
pub use retry::RetryPolicy;

use crate::clock::Clock;
use crate::http::{BodyError, MAX_BODY_BYTES, read_capped};
use crate::secret::AccessToken;
use credential::Credential;
use response::{Cached, ErrorResponse, parse_success};

/// How a client secret is sent to the token endpoint (keys and federated
/// tokens are always sent as a `client_assertion`).
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

/// Obtains access tokens with the client credentials grant and caches them.
///
/// Cheap to clone; clones share the cache. [`access_token`](Self::access_token)
/// returns the cached token while it is fresh, refreshes it ahead of expiry
/// (10% of its lifetime, at least 30 s, at most the lifetime), shares one
/// in-flight request between concurrent callers and retries transient
/// failures per [`RetryPolicy`].
///
/// Ask for the API you call with [`audience`](TokenManagerBuilder::audience)
/// and for what you need there with [`scopes`](TokenManagerBuilder::scopes):
/// the API checks both.
///
/// ```no_run
/// use clavis_sdk::{ClientAuth, TokenManager};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tokens = TokenManager::builder("https://auth.example/oauth/v4/t1", "client-id", "secret")
///     .audience("orders-api-client-id")
///     .scopes(["read", "write"])
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
    credential: Credential,
    /// The DPoP key, when tokens are to be bound to one.
    dpop: Option<dpop::Dpop>,
    /// Space-separated, as sent; `None` when no scope was asked for.
    scope: Option<String>,
    audience: Option<String>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    cache: RwLock<Option<Cached>>,
    /// Bumped when a fetch finishes (either way).
    generation: AtomicU64,
    /// Held during a fetch; remembers the last fetch's error for those who waited on it.
    fetch: tokio::sync::Mutex<Option<TokenError>>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("TokenManager")
            .field("token_url", &inner.token_url)
            .field("client_id", &inner.client_id)
            .field("credential", &inner.credential)
            .field("dpop", &inner.dpop)
            .field("scope", &inner.scope)
            .field("audience", &inner.audience)
            .finish_non_exhaustive()
    }
}

enum Failure {
    Fatal(TokenError),
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// RFC 9449 §8: the server wants a proof with the nonce it just sent.
    UseDpopNonce(TokenError),
}

impl TokenManager {
    /// The token endpoint URL.
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("http://127.0.0.1:3000/oauth/v4/t1/", "id", "s").build().unwrap();
    /// assert_eq!(tokens.token_url(), "http://127.0.0.1:3000/oauth/v4/t1/token");
    /// ```
    pub fn token_url(&self) -> &str {
        &self.inner.token_url
    }

    /// The scopes requested, space-separated (`None` when none were).
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .scopes(["read", "write"])
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(tokens.scope(), Some("read write"));
    /// ```
    pub fn scope(&self) -> Option<&str> {
        self.inner.scope.as_deref()
    }

    /// The audience requested, if any.
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .audience("orders-api")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(tokens.audience(), Some("orders-api"));
    /// ```
    pub fn audience(&self) -> Option<&str> {
        self.inner.audience.as_deref()
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
        let mut attempts: u32 = 0;
        let mut nonce_retried = false;
        loop {
            attempts = attempts.saturating_add(1);
            match self.fetch_once().await {
                Ok(cached) => return Ok(cached),
                Err(Failure::Fatal(err)) => return Err(err),
                // Once per fetch, at once: a second demand for a nonce means
                // the nonce did not help.
                Err(Failure::UseDpopNonce(err)) => {
                    if nonce_retried {
                        return Err(err);
                    }
                    nonce_retried = true;
                    attempts = attempts.saturating_sub(1);
                }
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
        // Assertions and proofs are judged by the server's clock, so they
        // carry the system's time; the injected clock decides cache timing.
        let wire_now = SystemTime::now();
        let authentication = inner
            .credential
            .authenticate(&inner.client_id, &inner.token_url, wire_now)
            .await
            .map_err(Failure::Fatal)?;
        let mut request = inner
            .http
            .post(&inner.token_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json");
        if let Some(basic) = authentication.basic {
            request = request.header(AUTHORIZATION, basic);
        }
        if let Some(dpop) = &inner.dpop {
            request =
                request.header("DPoP", dpop.token_request_proof(&inner.token_url, wire_now).map_err(Failure::Fatal)?);
        }
        let request = request.body(self.form_body(&authentication.form));
        let sent_at = inner.clock.now();
        let transient =
            |e: reqwest::Error| Failure::Transient { reason: e.without_url().to_string(), retry_after: None };
        let response = request.send().await.map_err(transient)?;
        let status = response.status();
        let fresh_nonce = match (&inner.dpop, response.headers().get("DPoP-Nonce").and_then(|v| v.to_str().ok())) {
            (Some(dpop), Some(nonce)) => dpop.remember_nonce(nonce),
            _ => false,
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            // Retried whatever the body says, so it is not read at all.
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(Failure::Transient { reason: format!("HTTP {status}"), retry_after });
        }
        let body = match read_capped(response, MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(BodyError::Http(e)) => return Err(transient(e)),
            Err(BodyError::TooLarge) => {
                return Err(Failure::Fatal(TokenError::InvalidResponse(format!(
                    "HTTP {status} with a body larger than {MAX_BODY_BYTES} bytes"
                ))));
            }
        };
        if status.is_success() {
            return parse_success(&body, sent_at, inner.dpop.is_some()).map_err(Failure::Fatal);
        }
        let parsed: Option<ErrorResponse> = serde_json::from_slice(&body).ok();
        if fresh_nonce && parsed.as_ref().is_some_and(|e| e.error == "use_dpop_nonce") {
            let description = parsed.and_then(|e| e.error_description);
            return Err(Failure::UseDpopNonce(TokenError::Refused {
                status: status.as_u16(),
                error: "use_dpop_nonce".into(),
                description,
            }));
        }
        Err(Failure::Fatal(match parsed {
            Some(e) if e.error == "invalid_client" => TokenError::InvalidClient { description: e.error_description },
            None if status == StatusCode::UNAUTHORIZED => TokenError::InvalidClient { description: None },
            Some(e) => {
                TokenError::Refused { status: status.as_u16(), error: e.error, description: e.error_description }
            }
            None => TokenError::Refused { status: status.as_u16(), error: "unknown".into(), description: None },
        }))
    }

    /// The form body: grant type, scope, audience and the client
    /// authentication's parameters.
    fn form_body(&self, authentication: &[(&'static str, String)]) -> String {
        let inner = &self.inner;
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &inner.scope {
            form.append_pair("scope", scope);
        }
        if let Some(audience) = &inner.audience {
            form.append_pair("audience", audience);
        }
        for (name, value) in authentication {
            form.append_pair(name, value);
        }
        form.finish()
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
    fn form_body_carries_scopes_and_audience() {
        let tokens = TokenManager::builder("http://127.0.0.1:1/t", "id", "s")
            .scope("read")
            .scopes(["write", "read"])
            .audience("orders-api")
            .build()
            .unwrap();
        assert_eq!(tokens.form_body(&[]), "grant_type=client_credentials&scope=read+write&audience=orders-api");
    }
}
