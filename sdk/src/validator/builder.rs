//! Configuration of a [`TokenValidator`]: issuer, audience, scopes, clock, key fetching and DPoP.

use std::sync::Arc;
use std::time::Duration;

use super::{Inner, TokenValidator};
use crate::clock::Clock;
use crate::dpop_check::DpopChecker;
use crate::error::{BuildError, normalize_url};
use crate::http::default_client;
use crate::jwks::{KeyCache, KeyCacheConfig};

/// Configures a [`TokenValidator`]; start with [`TokenValidator::builder`].
///
/// ```
/// use std::time::Duration;
/// use clavis_sdk::TokenValidator;
///
/// let validator = TokenValidator::builder("https://auth.example/oauth/v4/t1")
///     .audience("my-api-client-id")
///     .required_scopes(["read", "write"])
///     .leeway(Duration::from_secs(30))
///     .realm("example-api")
///     .build()
///     .unwrap();
/// ```
#[derive(Debug)]
pub struct TokenValidatorBuilder {
    pub(super) issuer: String,
    pub(super) audience: Option<String>,
    pub(super) any_audience: bool,
    pub(super) scopes: Vec<String>,
    pub(super) leeway: Duration,
    pub(super) realm: Option<String>,
    pub(super) require_at_jwt: bool,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) http: Option<reqwest::Client>,
    pub(super) jwks_uri: Option<String>,
    pub(super) min_refresh_interval: Duration,
    pub(super) max_key_age: Duration,
    pub(super) public_url: Option<String>,
    pub(super) replay_capacity: usize,
    pub(super) require_dpop: bool,
}

impl TokenValidatorBuilder {
    /// Requires `audience` in the token's `aud` array: the identifier of
    /// this API, for Clavis the protected application's client ID (or the
    /// `audience` its callers request). Required: without it (or an
    /// explicit [`allow_any_audience`](Self::allow_any_audience)),
    /// [`build`](Self::build) fails, because a token minted for another API
    /// of the same tenant would otherwise be accepted here. A second call
    /// replaces the first.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").audience("my-api-client-id");
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Accepts tokens whatever their `aud`: the explicit opt-out of the
    /// audience check, for an API that accepts every token of its tenant
    /// (tests, or a gateway that checks the audience itself). An
    /// [`audience`](Self::audience) set as well is still checked.
    ///
    /// ```
    /// let v = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").allow_any_audience().build();
    /// assert!(v.is_ok());
    /// ```
    pub fn allow_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Requires every one of `scopes` in the token's `scope` claim (403
    /// `insufficient_scope` otherwise). Adds to scopes required before.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").required_scopes(["read"]);
    /// ```
    pub fn required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 30 s).
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .leeway(std::time::Duration::from_secs(5));
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The `realm` of `WWW-Authenticate` challenges (none by default).
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").realm("api");
    /// ```
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Whether the header `typ` must be `at+jwt` or `application/at+jwt`
    /// (RFC 9068 §4), as Clavis sets it. On by default; `false` is the same
    /// as [`allow_any_token_type`](Self::allow_any_token_type).
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").require_at_jwt(true);
    /// ```
    pub fn require_at_jwt(mut self, required: bool) -> Self {
        self.require_at_jwt = required;
        self
    }

    /// Accepts tokens whatever their header `typ`: the opt-out of the
    /// RFC 9068 §4 check, only for tokens of an issuer that does not set
    /// `typ: at+jwt`. Clavis always sets it, so keep the check for Clavis.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").allow_any_token_type();
    /// ```
    pub fn allow_any_token_type(self) -> Self {
        self.require_at_jwt(false)
    }

    /// The clock for `exp`/`nbf` checks and refetch rate limiting (default:
    /// the system clock).
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .clock(clavis_sdk::ManualClock::starting_now());
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The HTTP client for discovery and JWKS fetches (default: a new
    /// client with a 10 s timeout that follows redirects only to https, or
    /// to http on a loopback host).
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .http_client(reqwest::Client::new());
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Fetches keys from `jwks_uri` directly, skipping discovery. Like the
    /// issuer, it must be https, or http to a loopback host.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .jwks_uri("https://auth.example/oauth/v4/t1/publickeys");
    /// ```
    pub fn jwks_uri(mut self, jwks_uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(jwks_uri.into());
        self
    }

    /// The least time between two key fetches triggered by unknown `kid`s
    /// (default 10 s), so garbage `kid`s cannot hammer the issuer.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .min_refresh_interval(std::time::Duration::from_secs(30));
    /// ```
    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// How long fetched keys are used before they are refreshed in the
    /// background (default 1 hour), so removed keys stop being trusted.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .max_key_age(std::time::Duration::from_secs(600));
    /// ```
    pub fn max_key_age(mut self, age: Duration) -> Self {
        self.max_key_age = age;
        self
    }

    /// The URL callers reach this service at (scheme, host, port, and any
    /// path prefix a proxy strips), for the `htu` of DPoP proofs: the
    /// request's path is appended to it. Without it the URL is the one the
    /// service sees (the request's scheme, or `http`, and its `Host`), which
    /// is wrong behind a proxy or a TLS terminator. Must be https, or http
    /// to a loopback host.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .public_url("https://api.example/orders-service");
    /// ```
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// How many spent DPoP proofs are remembered to refuse their replay
    /// (default 100,000; each entry is 48 bytes). A proof needs remembering
    /// only while it is fresh, 60 s after its `iat`; past this bound the
    /// least useful entries are evicted, so size it above the DPoP requests
    /// a minute this service takes.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").dpop_replay_capacity(1_000_000);
    /// ```
    pub fn dpop_replay_capacity(mut self, entries: usize) -> Self {
        self.replay_capacity = entries;
        self
    }

    /// Refuses plain bearer tokens: every request must present a
    /// DPoP-bound token with its proof. (DPoP-bound tokens are always
    /// refused as `Bearer`, with or without this.)
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").require_dpop();
    /// ```
    pub fn require_dpop(mut self) -> Self {
        self.require_dpop = true;
        self
    }

    /// Builds the validator. No I/O happens until the first token arrives.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] if the issuer, JWKS or public URL is not an
    /// absolute https URL, [`BuildError::InsecureUrl`] if it is plain http to
    /// a host that is not loopback, [`BuildError::MissingAudience`] if
    /// neither [`audience`](Self::audience) nor
    /// [`allow_any_audience`](Self::allow_any_audience) was called,
    /// [`BuildError::Empty`] for an empty audience, and
    /// [`BuildError::HttpClient`] if the HTTP client cannot be built.
    ///
    /// ```
    /// use clavis_sdk::{BuildError, TokenValidator};
    ///
    /// let validator = TokenValidator::builder("https://auth.example/oauth/v4/t1").audience("api").build()?;
    /// let err = TokenValidator::builder("https://auth.example/oauth/v4/t1").build().unwrap_err();
    /// assert!(matches!(err, BuildError::MissingAudience));
    /// # Ok::<(), BuildError>(())
    /// ```
    pub fn build(self) -> Result<TokenValidator, BuildError> {
        let issuer = normalize_url("issuer", &self.issuer)?;
        let jwks_uri = self.jwks_uri.as_deref().map(|uri| normalize_url("JWKS", uri)).transpose()?;
        let public_url = self.public_url.as_deref().map(|url| normalize_url("public", url)).transpose()?;
        match &self.audience {
            Some(audience) if audience.is_empty() => return Err(BuildError::Empty("audience")),
            None if !self.any_audience => return Err(BuildError::MissingAudience),
            _ => {}
        }
        let http = match self.http {
            Some(client) => client,
            None => default_client(Duration::from_secs(10))?,
        };
        let keys = KeyCache::new(
            KeyCacheConfig {
                issuer: issuer.clone(),
                jwks_uri,
                min_refresh_interval: self.min_refresh_interval,
                max_age: self.max_key_age,
            },
            http,
            Arc::clone(&self.clock),
        );
        Ok(TokenValidator {
            inner: Arc::new(Inner {
                issuer,
                audience: self.audience,
                scopes: self.scopes,
                leeway: self.leeway.as_secs(),
                realm: self.realm,
                require_at_jwt: self.require_at_jwt,
                clock: self.clock,
                keys: Arc::new(keys),
                dpop: DpopChecker::new(public_url, self.replay_capacity),
                require_dpop: self.require_dpop,
            }),
        })
    }
}
