//! Configuration of a [`TokenManager`]: URLs, credentials, audience, scopes, retries and clock.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::credential::Credential;
use super::dpop::Dpop;
use super::{ClientAuth, Inner, RetryPolicy, TokenManager};
use crate::clock::{Clock, SystemClock};
use crate::error::{BuildError, normalize_url};
use crate::http::default_client;
use crate::keys::PrivateKey;
use crate::secret::ClientSecret;

impl TokenManager {
    /// Starts configuring a manager for the tenant at `oauth_server_url`
    /// (token URL `{oauth_server_url}/token`). It must be https, or http to a
    /// loopback host (127.0.0.0/8, `::1`, `localhost`): the request carries
    /// the client secret.
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("http://127.0.0.1:3000/oauth/v4/t1", "id", "secret").build();
    /// assert!(tokens.is_ok());
    /// let insecure = clavis_sdk::TokenManager::builder("http://auth.example/oauth/v4/t1", "id", "secret").build();
    /// assert!(matches!(insecure, Err(clavis_sdk::BuildError::InsecureUrl { .. })));
    /// ```
    pub fn builder(
        oauth_server_url: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<ClientSecret>,
    ) -> TokenManagerBuilder {
        Self::with_credential(oauth_server_url.into(), client_id.into(), CredentialChoice::Secret(secret.into()))
    }

    /// Starts configuring a manager that authenticates with `key` instead
    /// of a secret (`private_key_jwt`, RFC 7523 §2.2): every token request
    /// carries a new assertion signed by the key (`iss` = `sub` = the client
    /// ID, `aud` the token endpoint, valid for 60 s, a random `jti`, the
    /// key's `kid` and `alg` in its header). Register the key's
    /// [`public_jwk`](PrivateKey::public_jwk) with the application first.
    ///
    /// ```no_run
    /// use clavis_sdk::{PrivateKey, TokenManager};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let key = PrivateKey::from_pem(&std::fs::read_to_string("/etc/orders/client-key.pem")?)?;
    /// let tokens = TokenManager::with_private_key("https://auth.example/oauth/v4/t1", "client-id", key)
    ///     .audience("inventory-api")
    ///     .build()?;
    /// let token = tokens.access_token().await?;
    /// # Ok(()) }
    /// ```
    pub fn with_private_key(
        oauth_server_url: impl Into<String>,
        client_id: impl Into<String>,
        key: PrivateKey,
    ) -> TokenManagerBuilder {
        Self::with_credential(
            oauth_server_url.into(),
            client_id.into(),
            CredentialChoice::Ready(Credential::PrivateKey(key)),
        )
    }

    /// Starts configuring a manager that authenticates with a token another
    /// issuer gave the workload (a federated credential): the file at `path`
    /// is read again for every token request and its content sent as the
    /// `client_assertion`, so a token the platform rotates in place (a
    /// Kubernetes projected service-account token, a CI job's OIDC token
    /// written to a file) is always the current one.
    ///
    /// ```no_run
    /// use clavis_sdk::TokenManager;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tokens = TokenManager::with_federated_token_file(
    ///     "https://auth.example/oauth/v4/t1",
    ///     "client-id",
    ///     "/var/run/secrets/tokens/clavis-token",
    /// )
    /// .build()?;
    /// let token = tokens.access_token().await?;
    /// # Ok(()) }
    /// ```
    pub fn with_federated_token_file(
        oauth_server_url: impl Into<String>,
        client_id: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> TokenManagerBuilder {
        let credential = Credential::FederatedTokenFile(path.into());
        Self::with_credential(oauth_server_url.into(), client_id.into(), CredentialChoice::Ready(credential))
    }

    fn with_credential(base_url: String, client_id: String, credential: CredentialChoice) -> TokenManagerBuilder {
        TokenManagerBuilder {
            base_url,
            token_url: None,
            client_id,
            credential,
            dpop: None,
            scopes: Vec::new(),
            audience: None,
            auth: ClientAuth::Basic,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            http: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The credential as configured; a secret takes its sending method at build.
enum CredentialChoice {
    Secret(ClientSecret),
    Ready(Credential),
}

/// Configures a [`TokenManager`]; start with [`TokenManager::builder`],
/// [`TokenManager::with_private_key`] or
/// [`TokenManager::with_federated_token_file`].
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
    credential: CredentialChoice,
    dpop: Option<PrivateKey>,
    /// In request order, without duplicates.
    scopes: Vec<String>,
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
            .field(
                "credential",
                match &self.credential {
                    CredentialChoice::Secret(secret) => secret as &dyn fmt::Debug,
                    CredentialChoice::Ready(credential) => credential as &dyn fmt::Debug,
                },
            )
            .field("dpop", &self.dpop)
            .field("scopes", &self.scopes)
            .field("audience", &self.audience)
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

    /// Requests the scopes in `scope` (space-separated), in addition to
    /// those asked for before.
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s").scope("read write");
    /// ```
    pub fn scope(self, scope: impl Into<String>) -> Self {
        let scope = scope.into();
        self.scopes(scope.split_ascii_whitespace())
    }

    /// Requests each of `scopes`, in addition to those asked for before (sent
    /// space-separated as the `scope` parameter, RFC 6749 §3.3).
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .scopes(["read", "write"])
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(tokens.scope(), Some("read write"));
    /// ```
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for item in scopes {
            let item: String = item.into();
            for scope in item.split_ascii_whitespace() {
                if !self.scopes.iter().any(|s| s == scope) {
                    self.scopes.push(scope.to_owned());
                }
            }
        }
        self
    }

    /// Requests a token for `audience`, the API to call (sent as the
    /// `audience` parameter): the protected application's client ID or
    /// identifier. The API refuses tokens that do not name it in `aud`.
    ///
    /// ```
    /// let b = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .audience("orders-api-client-id");
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Binds the tokens to `key` (DPoP, RFC 9449): every token request
    /// carries a proof signed by it, the token endpoint's `DPoP-Nonce` is
    /// remembered (and a request refused with `use_dpop_nonce` is sent again
    /// once with it), the answer must be `token_type: DPoP`, and API calls
    /// need a proof each ([`TokenManager::authorize`],
    /// [`TokenManager::dpop_proof`]). A stolen token is then useless without
    /// the key.
    ///
    /// ```
    /// use clavis_sdk::{PrivateKey, SigningAlgorithm, TokenManager};
    ///
    /// let tokens = TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s")
    ///     .dpop_key(PrivateKey::generate(SigningAlgorithm::Es256)?)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dpop_key(mut self, key: PrivateKey) -> Self {
        self.dpop = Some(key);
        self
    }

    /// How to send a client secret (default [`ClientAuth::Basic`]); no
    /// effect with a key or a federated token.
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

    /// The HTTP client (default: a new one with the request timeout that
    /// follows redirects only to https, or to http on a loopback host).
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
    /// [`BuildError::InvalidUrl`] for a URL that is not absolute https,
    /// [`BuildError::InsecureUrl`] for plain http to a host that is not
    /// loopback, [`BuildError::Empty`] for an empty client ID, secret or
    /// audience, and [`BuildError::HttpClient`] for an HTTP client that
    /// cannot be built.
    ///
    /// ```
    /// let tokens = clavis_sdk::TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s").build()?;
    /// # Ok::<(), clavis_sdk::BuildError>(())
    /// ```
    pub fn build(self) -> Result<TokenManager, BuildError> {
        // Both are checked even with a token URL given, so that a
        // misconfigured oAuthServerUrl is reported rather than ignored.
        let base_url = normalize_url("oAuthServerUrl", &self.base_url)?;
        let token_url = match &self.token_url {
            Some(url) => normalize_url("token", url)?,
            None => format!("{base_url}/token"),
        };
        if self.client_id.is_empty() {
            return Err(BuildError::Empty("client ID"));
        }
        let credential = match self.credential {
            CredentialChoice::Secret(secret) if secret.expose().is_empty() => {
                return Err(BuildError::Empty("client secret"));
            }
            CredentialChoice::Secret(secret) => Credential::Secret { secret, auth: self.auth },
            CredentialChoice::Ready(Credential::FederatedTokenFile(path)) if path.as_os_str().is_empty() => {
                return Err(BuildError::Empty("federated token file"));
            }
            CredentialChoice::Ready(credential) => credential,
        };
        if self.audience.as_deref().is_some_and(str::is_empty) {
            return Err(BuildError::Empty("audience"));
        }
        let http = match self.http {
            Some(client) => client,
            None => default_client(self.timeout)?,
        };
        Ok(TokenManager {
            inner: Arc::new(Inner {
                token_url,
                client_id: self.client_id,
                credential,
                dpop: self.dpop.map(Dpop::new),
                scope: (!self.scopes.is_empty()).then(|| self.scopes.join(" ")),
                audience: self.audience,
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
