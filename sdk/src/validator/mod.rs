//! Access token validation for resource servers: configuration and the checks of RFC 9068 §4.

mod builder;

use std::sync::Arc;
use std::time::Duration;

pub use builder::TokenValidatorBuilder;

use crate::auth_error::AuthError;
use crate::claims::Claims;
use crate::clock::{Clock, SystemClock, unix_seconds};
use crate::dpop_check::{DEFAULT_REPLAY_CAPACITY, DpopChecker};
use crate::jwks::KeyCache;
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
    dpop: DpopChecker,
    require_dpop: bool,
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
            public_url: None,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            require_dpop: false,
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
    /// signature, `iss`, `exp`/`nbf`, `aud` and the required scopes. A
    /// DPoP-bound token (one with `cnf`) is refused here, as a bearer token;
    /// check it with [`validate_dpop`](Self::validate_dpop). Fetches
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
        let claims = self.verify_token(token).await?;
        // RFC 9449 §7.1: a DPoP-bound token sent as a bearer token is
        // refused; otherwise a stolen bound token would work without the key.
        if claims.cnf.is_some() {
            return Err(AuthError::InvalidDpopToken(
                "a DPoP-bound token must be sent with the DPoP scheme and a proof",
            ));
        }
        if self.inner.require_dpop {
            return Err(AuthError::InvalidDpopToken("this API accepts DPoP-bound tokens only"));
        }
        self.check_scopes(&claims, extra_scopes)?;
        Ok(claims)
    }

    /// Validates a DPoP-bound `token` (sent as `Authorization: DPoP
    /// <token>`) with its `proof` (the `DPoP` header) for a request of
    /// `method` to `url` (as the caller addressed it; see
    /// [`public_url`](TokenValidatorBuilder::public_url)): everything
    /// [`validate`](Self::validate) checks, then the token's `cnf.jkt`, and
    /// the proof by RFC 9449 §4.3 and §7.1 (signature, `typ`, `htm`, `htu`,
    /// `ath`, at most 60 s old, its key the one the token is bound to, never
    /// seen before), then `extra_scopes`.
    ///
    /// ```no_run
    /// # async fn run(validator: clavis_sdk::TokenValidator, token: &str, proof: &str) -> Result<(), clavis_sdk::AuthError> {
    /// let claims = validator.validate_dpop(token, proof, "GET", "https://api.example/orders", &["read"]).await?;
    /// assert!(claims.dpop_jkt().is_some());
    /// # Ok(()) }
    /// ```
    pub async fn validate_dpop<S: AsRef<str>>(
        &self,
        token: &str,
        proof: &str,
        method: &str,
        url: &str,
        extra_scopes: &[S],
    ) -> Result<Claims, AuthError> {
        let claims = self.verify_token(token).await.map_err(|err| match err {
            AuthError::InvalidToken(why) => AuthError::InvalidDpopToken(why),
            other => other,
        })?;
        let Some(jkt) = claims.dpop_jkt() else {
            return Err(AuthError::InvalidDpopToken("the token is not DPoP-bound; send it with the Bearer scheme"));
        };
        let now = i64::try_from(unix_seconds(self.inner.clock.now())).unwrap_or(i64::MAX);
        self.inner.dpop.check(proof, method, url, token, jkt, now)?;
        self.check_scopes(&claims, extra_scopes)?;
        Ok(claims)
    }

    /// Where DPoP proofs must point, for the layer.
    pub(crate) fn dpop_checker(&self) -> &DpopChecker {
        &self.inner.dpop
    }

    /// The signature and claims of `token`, not its scopes nor its binding.
    async fn verify_token(&self, token: &str) -> Result<Claims, AuthError> {
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
