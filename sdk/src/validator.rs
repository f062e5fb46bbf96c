//! Access token validation for resource servers: configuration, checks and RFC 6750 errors.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, Response, StatusCode, header};

use crate::clock::{Clock, SystemClock, unix_seconds};
use crate::error::{BuildError, normalize_url};
use crate::jwks::{KeyCache, KeyCacheConfig};
use clavis_oauth::jose::verify::{self as jws, Rejection};

use crate::claims::Claims;

/// Why a request was refused. Each maps to an RFC 6750 answer: see
/// [`status`](AuthError::status) and
/// [`www_authenticate`](AuthError::www_authenticate).
///
/// ```
/// use clavis_sdk::AuthError;
///
/// let err = AuthError::InvalidToken("token expired");
/// assert_eq!(err.status().as_u16(), 401);
/// assert_eq!(
///     err.www_authenticate(None),
///     r#"Bearer error="invalid_token", error_description="token expired""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No bearer token in the request (401, challenge without an error code).
    #[error("no bearer token in the request")]
    MissingToken,
    /// The `Authorization` header is malformed (400 `invalid_request`).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The token is malformed, expired, badly signed or meant for someone
    /// else (401 `invalid_token`).
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// The token is valid but lacks a required scope (403 `insufficient_scope`).
    #[error("insufficient scope: requires {required:?}")]
    InsufficientScope {
        /// The scopes the resource requires, space-separated.
        required: String,
    },
    /// The issuer's keys could not be fetched, so no token can be checked (503).
    #[error("the issuer's signing keys are unavailable")]
    KeysUnavailable,
    /// [`Claims`] was extracted in a handler that is not behind
    /// [`ProtectLayer`](crate::ProtectLayer) (500: a programming error).
    #[error("the Claims extractor is used without ProtectLayer")]
    LayerMissing,
}

impl AuthError {
    /// The HTTP status to answer with.
    ///
    /// ```
    /// let err = clavis_sdk::AuthError::InsufficientScope { required: "write".into() };
    /// assert_eq!(err.status().as_u16(), 403);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3), with `realm` if given.
    ///
    /// ```
    /// let err = clavis_sdk::AuthError::MissingToken;
    /// assert_eq!(err.www_authenticate(Some("api")), r#"Bearer realm="api""#);
    /// assert_eq!(err.www_authenticate(None), "Bearer");
    /// ```
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let mut params: Vec<String> = Vec::with_capacity(4);
        if let Some(realm) = realm {
            params.push(format!("realm=\"{}\"", quote_safe(realm)));
        }
        // The challenge carries an error only for the three RFC 6750 codes;
        // 503 and 500 answers have no challenge to explain.
        let description = match self {
            Self::InvalidRequest(why) | Self::InvalidToken(why) => Some(*why),
            Self::InsufficientScope { .. } => Some("the token lacks a required scope"),
            Self::MissingToken | Self::KeysUnavailable | Self::LayerMissing => None,
        };
        if let (Some(code), Some(description)) = (self.error_code(), description) {
            params.push(format!("error=\"{code}\""));
            params.push(format!("error_description=\"{description}\""));
        }
        if let Self::InsufficientScope { required } = self {
            params.push(format!("scope=\"{}\"", quote_safe(required)));
        }
        if params.is_empty() { "Bearer".to_owned() } else { format!("Bearer {}", params.join(", ")) }
    }

    /// The `error` code of the JSON body, as in RFC 6750 §3.1 (none when the
    /// request carried no token: the RFC asks for no error information then).
    ///
    /// ```
    /// assert_eq!(clavis_sdk::AuthError::InvalidToken("token expired").error_code(), Some("invalid_token"));
    /// assert_eq!(clavis_sdk::AuthError::MissingToken.error_code(), None);
    /// ```
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::KeysUnavailable => Some("temporarily_unavailable"),
            Self::LayerMissing => Some("server_error"),
        }
    }

    /// An HTTP response: the status, (for 400/401/403) the
    /// `WWW-Authenticate` header, and a JSON body such as
    /// `{"error": "invalid_token", "error_description": "token expired"}`
    /// so that a developer reading the answer learns why.
    ///
    /// ```
    /// let response: axum::http::Response<String> =
    ///     clavis_sdk::AuthError::InvalidToken("token expired").to_response(None);
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(response.body(), r#"{"error":"invalid_token","error_description":"token expired"}"#);
    /// ```
    pub fn to_response<B: From<String>>(&self, realm: Option<&str>) -> Response<B> {
        let mut response = Response::new(B::from(self.json_body()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(
            self,
            Self::MissingToken | Self::InvalidRequest(_) | Self::InvalidToken(_) | Self::InsufficientScope { .. }
        ) && let Ok(value) = HeaderValue::from_str(&self.www_authenticate(realm))
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self, Self::KeysUnavailable) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        }
        response
    }

    fn json_body(&self) -> String {
        let description = match self {
            Self::MissingToken => "a bearer access token is required".to_owned(),
            Self::InvalidRequest(why) | Self::InvalidToken(why) => (*why).to_owned(),
            Self::InsufficientScope { required } => format!("the token lacks a required scope ({required})"),
            Self::KeysUnavailable => "the issuer's signing keys are unavailable; retry later".to_owned(),
            Self::LayerMissing => "the server is misconfigured".to_owned(),
        };
        let mut body = serde_json::Map::new();
        if let Some(code) = self.error_code() {
            body.insert("error".into(), code.into());
        }
        body.insert("error_description".into(), description.into());
        serde_json::Value::Object(body).to_string()
    }
}

impl axum::response::IntoResponse for AuthError {
    fn into_response(self) -> axum::response::Response {
        self.to_response(None)
    }
}

/// Keeps a header parameter within a quoted-string.
fn quote_safe(value: &str) -> String {
    value.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect()
}

impl From<Rejection> for AuthError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Malformed(why) | Rejection::Invalid(why) => Self::InvalidToken(why),
            Rejection::UnknownKid => Self::InvalidToken("unknown signing key"),
        }
    }
}

/// Validates Clavis access tokens offline against the issuer's published
/// keys. Cheap to clone; clones share one key cache.
///
/// ```no_run
/// use clavis_sdk::TokenValidator;
///
/// # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let validator = TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/my-tenant")
///     .audience("https://api.example")
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
    /// tenant's `oAuthServerUrl` (trailing slashes are ignored).
    ///
    /// ```
    /// let validator = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").build();
    /// assert!(validator.is_ok());
    /// ```
    pub fn builder(issuer: impl Into<String>) -> TokenValidatorBuilder {
        TokenValidatorBuilder {
            issuer: issuer.into(),
            audience: None,
            scopes: Vec::new(),
            leeway: Duration::from_secs(30),
            realm: None,
            require_at_jwt: false,
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
    /// let v = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1/").build().unwrap();
    /// assert_eq!(v.issuer(), "http://127.0.0.1:3000/oauth/v4/t1");
    /// ```
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The realm put in `WWW-Authenticate` challenges, if configured.
    ///
    /// ```
    /// let v = clavis_sdk::TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/t1").realm("api").build().unwrap();
    /// assert_eq!(v.realm(), Some("api"));
    /// ```
    pub fn realm(&self) -> Option<&str> {
        self.inner.realm.as_deref()
    }

    /// Validates `token` (without the `Bearer ` prefix): algorithm, signature,
    /// `iss`, `exp`/`nbf`, `aud` and the required scopes. Fetches the keys on
    /// first use and again when a token names an unknown key (rate-limited).
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
        self.validate_with_scopes(token, &[]).await
    }

    /// Like [`validate`](Self::validate), also requiring `extra_scopes`.
    pub(crate) async fn validate_with_scopes(&self, token: &str, extra_scopes: &[String]) -> Result<Claims, AuthError> {
        let inner = &self.inner;
        let parsed = jws::parse(token)?;
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
        self.check_claims(&claims, extra_scopes)?;
        Ok(claims)
    }

    fn check_claims(&self, claims: &Claims, extra_scopes: &[String]) -> Result<(), AuthError> {
        let inner = &self.inner;
        if claims.iss != inner.issuer {
            return Err(AuthError::InvalidToken("wrong issuer"));
        }
        let now = unix_seconds(inner.clock.now());
        if now >= claims.exp.saturating_add(inner.leeway) {
            return Err(AuthError::InvalidToken("token expired"));
        }
        if claims.nbf.is_some_and(|nbf| now.saturating_add(inner.leeway) < nbf) {
            return Err(AuthError::InvalidToken("token not yet valid"));
        }
        if let Some(audience) = &inner.audience
            && !claims.aud.contains(audience)
        {
            return Err(AuthError::InvalidToken("wrong audience"));
        }
        let mut required = inner.scopes.iter().chain(extra_scopes);
        if required.any(|scope| !claims.has_scope(scope)) {
            let all: Vec<&str> = inner.scopes.iter().chain(extra_scopes).map(String::as_str).collect();
            return Err(AuthError::InsufficientScope { required: all.join(" ") });
        }
        Ok(())
    }
}

/// Configures a [`TokenValidator`]; start with [`TokenValidator::builder`].
///
/// ```
/// use std::time::Duration;
/// use clavis_sdk::TokenValidator;
///
/// let validator = TokenValidator::builder("https://auth.example/oauth/v4/t1")
///     .audience("https://api.example")
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
    /// Requires `audience` in the token's `aud` array.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").audience("https://api.example");
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
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

    /// Requires the header `typ` to be `at+jwt` (RFC 9068), as Clavis sets
    /// it. Off by default, for tokens of issuers that do not set it.
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").require_at_jwt(true);
    /// ```
    pub fn require_at_jwt(mut self, required: bool) -> Self {
        self.require_at_jwt = required;
        self
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
    /// client with a 10 s timeout).
    ///
    /// ```
    /// let b = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1")
    ///     .http_client(reqwest::Client::new());
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Fetches keys from `jwks_uri` directly, skipping discovery.
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
    /// [`BuildError`] if the issuer or JWKS URL is not an http(s) URL or the
    /// HTTP client cannot be built.
    ///
    /// ```
    /// let validator = clavis_sdk::TokenValidator::builder("https://auth.example/oauth/v4/t1").build()?;
    /// # Ok::<(), clavis_sdk::BuildError>(())
    /// ```
    pub fn build(self) -> Result<TokenValidator, BuildError> {
        let issuer = normalize_url("issuer", &self.issuer)?;
        let jwks_uri = self.jwks_uri.as_deref().map(|uri| normalize_url("JWKS", uri)).transpose()?;
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| BuildError::HttpClient(e.to_string()))?,
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
