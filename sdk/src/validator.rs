//! Access token validation for resource servers: configuration and the checks of RFC 9068 §4.

use std::sync::Arc;
use std::time::Duration;

use crate::auth_error::AuthError;
use crate::claims::Claims;
use crate::clock::{Clock, SystemClock, unix_seconds};
use crate::error::{BuildError, normalize_url};
use crate::http::default_client;
use crate::jwks::{KeyCache, KeyCacheConfig};
use clavis_oauth::jose::verify::{self as jws, Rejection};

/// Validates Clavis access tokens offline against the issuer's published
/// keys. Cheap to clone; clones share one key cache.
///
/// By default it follows RFC 9068 §4: the expected audience is required (see
/// [`TokenValidatorBuilder::audience`]) and so is the header `typ: at+jwt`
/// (see [`TokenValidatorBuilder::allow_any_token_type`]).
///
/// ```no_run
/// use clavis_sdk::TokenValidator;
///
/// # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let validator = TokenValidator::builder("https://auth.example/oauth/v4/my-tenant")
///     .audience("my-api-client-id")
///     .required_scopes(["read"])
///     .build()?;
/// let claims = validator.validate(token).await?;
/// println!("caller: {}", claims.sub);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TokenValidator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    /// `None` only after an explicit `allow_any_audience()`.
    audience: Option<String>,
    scopes: Vec<String>,
    leeway: u64,
    realm: Option<String>,
    require_at_jwt: bool,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyCache>,
}

impl TokenValidator {
    /// Starts configuring a validator for tokens issued by `issuer`, the
    /// tenant's `oAuthServerUrl` (trailing slashes are ignored). It must be
    /// https, or http to a loopback host (127.0.0.0/8, `::1`, `localhost`).
    ///
    /// ```
    /// let validator = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1")
    ///     .audience("my-api-client-id")
    ///     .build();
    /// assert!(validator.is_ok());
    /// ```
    pub fn builder(issuer: impl Into<String>) -> TokenValidatorBuilder {
        TokenValidatorBuilder {
            issuer: issuer.into(),
            audience: None,
            any_audience: false,
            scopes: Vec::new(),
            leeway: Duration::from_secs(30),
            realm: None,
            require_at_jwt: true,
            clock: Arc::new(SystemClock),
            http: None,
            jwks_uri: None,
            min_refresh_interval: Duration::from_secs(10),
            max_key_age: Duration::from_secs(3600),
        }
    }

    /// The configured issuer.
    ///
    /// ```
    /// let v = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1/").audience("api").build().unwrap();
    /// assert_eq!(v.issuer(), "http://127.0.0.1:3000/oauth/v4/t1");
    /// ```
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The audience tokens must name, or `None` after
    /// [`allow_any_audience`](TokenValidatorBuilder::allow_any_audience).
    ///
    /// ```
    /// let v = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").audience("api").build().unwrap();
    /// assert_eq!(v.audience(), Some("api"));
    /// ```
    pub fn audience(&self) -> Option<&str> {
        self.inner.audience.as_deref()
    }

    /// The realm put in `WWW-Authenticate` challenges, if configured.
    ///
    /// ```
    /// let v = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1")
    ///     .audience("api")
    ///     .realm("api")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(v.realm(), Some("api"));
    /// ```
    pub fn realm(&self) -> Option<&str> {
        self.inner.realm.as_deref()
    }

    /// Validates `token` (without the `Bearer ` prefix): `typ`, algorithm,
    /// signature, `iss`, `exp`/`nbf`, `aud` and the required scopes. Fetches
    /// the keys on first use and again when a token names an unknown key
    /// (rate-limited).
    ///
    /// ```no_run
    /// # async fn run(validator: clavis_sdk::TokenValidator, token: &str) {
    /// match validator.validate(token).await {
    ///     Ok(claims) => println!("ok: {}", claims.sub),
    ///     Err(err) => println!("refused ({}): {err}", err.status()),
    /// }
    /// # }
    /// ```
    pub async fn validate(&self, token: &str) -> Result<Claims, AuthError> {
        self.validate_with_scopes::<&str>(token, &[]).await
    }

    /// Like [`validate`](Self::validate), also requiring `extra_scopes` on
    /// top of the validator's [`required_scopes`](TokenValidatorBuilder::required_scopes):
    /// what [`ProtectLayer::require_scopes`](crate::ProtectLayer::require_scopes)
    /// uses for per-route scopes.
    ///
    /// ```no_run
    /// # async fn run(validator: clavis_sdk::TokenValidator, token: &str) -> Result<(), clavis_sdk::AuthError> {
    /// let claims = validator.validate_with_scopes(token, &["write"]).await?;
    /// assert!(claims.has_scope("write"));
    /// # Ok(()) }
    /// ```
    pub async fn validate_with_scopes<S: AsRef<str>>(
        &self,
        token: &str,
        extra_scopes: &[S],
    ) -> Result<Claims, AuthError> {
        let inner = &self.inner;
        let parsed = jws::parse(token)?;
        // RFC 9068 §4: "The resource server MUST verify that the "typ" header
        // value is "at+jwt" or "application/at+jwt" and reject tokens
        // carrying any other value", so that an ID token or another JWT signed
        // by the same keys is not taken for an access token.
        if inner.require_at_jwt && !parsed.typ_at_jwt {
            return Err(AuthError::InvalidToken("token type is not at+jwt"));
        }
        let mut snapshot = inner.keys.snapshot();
        if snapshot.keys.get(&parsed.kid).is_none() {
            snapshot = match inner.keys.refresh(snapshot.generation).await {
                Ok(fresh) => fresh,
                Err(err) if snapshot.generation == 0 => {
                    tracing::debug!(error = %err, "no signing keys loaded");
                    return Err(AuthError::KeysUnavailable);
                }
                // Rate-limited or failed: the keys we have do not know this kid.
                Err(_) => return Err(Rejection::UnknownKid.into()),
            };
        } else if inner.keys.is_stale(&snapshot, inner.clock.now()) {
            inner.keys.refresh_in_background(snapshot.generation);
        }
        let key = snapshot.keys.get(&parsed.kid).ok_or(Rejection::UnknownKid)?;
        let payload = parsed.verify(key)?;
        let claims = Claims::from_payload(payload).map_err(|_| AuthError::InvalidToken("bad token claims"))?;
        self.check_claims(&claims)?;
        self.check_scopes(&claims, extra_scopes)?;
        Ok(claims)
    }

    /// Whether `self` and `other` are clones of one validator (same
    /// configuration and key cache).
    pub(crate) fn is_same(&self, other: &TokenValidator) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn check_claims(&self, claims: &Claims) -> Result<(), AuthError> {
        let inner = &self.inner;
        if claims.iss != inner.issuer {
            return Err(AuthError::InvalidToken("wrong issuer"));
        }
        // Saturating: an `exp` or `nbf` near u64::MAX must not overflow.
        let now = unix_seconds(inner.clock.now());
        if now >= claims.exp.saturating_add(inner.leeway) {
            return Err(AuthError::InvalidToken("token expired"));
        }
        if claims.nbf.is_some_and(|nbf| now.saturating_add(inner.leeway) < nbf) {
            return Err(AuthError::InvalidToken("token not yet valid"));
        }
        // RFC 9068 §4: "The JWT access token MUST be rejected if "aud" does
        // not contain a resource indicator of the current resource server as
        // a valid audience."
        if let Some(audience) = &inner.audience
            && !claims.aud.contains(audience)
        {
            return Err(AuthError::InvalidToken("wrong audience"));
        }
        Ok(())
    }

    /// The validator's required scopes and `extra_scopes` must all be
    /// granted. RFC 6750 §3.1: `insufficient_scope` is for a request that
    /// "requires higher privileges than provided by the access token"; the
    /// answer names the scopes needed.
    pub(crate) fn check_scopes<S: AsRef<str>>(&self, claims: &Claims, extra_scopes: &[S]) -> Result<(), AuthError> {
        let required = || self.inner.scopes.iter().map(String::as_str).chain(extra_scopes.iter().map(AsRef::as_ref));
        if required().all(|scope| claims.has_scope(scope)) {
            return Ok(());
        }
        let mut all: Vec<&str> = Vec::new();
        for scope in required() {
            if !all.contains(&scope) {
                all.push(scope);
            }
        }
        Err(AuthError::InsufficientScope { required: all.join(" ") })
    }
}

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
    issuer: String,
    audience: Option<String>,
    any_audience: bool,
    scopes: Vec<String>,
    leeway: Duration,
    realm: Option<String>,
    require_at_jwt: bool,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    jwks_uri: Option<String>,
    min_refresh_interval: Duration,
    max_key_age: Duration,
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

    /// Builds the validator. No I/O happens until the first token arrives.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] if the issuer or JWKS URL is not an
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
            }),
        })
    }
}
