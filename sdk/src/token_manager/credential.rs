//! How the client proves who it is at the token endpoint: a secret (Basic or form), a private key signing RFC 7523 assertions, or a federated token file.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::HeaderValue;
use serde_json::json;
use tokio::io::AsyncReadExt as _;

use super::{ClientAuth, TokenError};
use crate::clock::unix_seconds;
use crate::keys::PrivateKey;
use crate::secret::ClientSecret;

/// RFC 7521 §4.2's `client_assertion_type` for a JWT (RFC 7523 §2.2).
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a signed assertion is valid: it is made for one request, and
/// Clavis refuses assertions that live more than five minutes.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// A federated token larger than this is not a token: Kubernetes and CI
/// tokens are a few kilobytes.
const MAX_FEDERATED_TOKEN_BYTES: u64 = 64 * 1024;

/// What the client authenticates with.
#[derive(Clone)]
pub(super) enum Credential {
    Secret { secret: ClientSecret, auth: ClientAuth },
    PrivateKey(PrivateKey),
    FederatedTokenFile(PathBuf),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret { secret, auth } => {
                f.debug_struct("Secret").field("secret", secret).field("auth", auth).finish()
            }
            Self::PrivateKey(key) => f.debug_tuple("PrivateKey").field(key).finish(),
            Self::FederatedTokenFile(path) => f.debug_tuple("FederatedTokenFile").field(path).finish(),
        }
    }
}

/// What one token request carries to authenticate the client.
pub(super) struct Authentication {
    /// `Authorization: Basic …` for `client_secret_basic`.
    pub(super) basic: Option<HeaderValue>,
    /// Form parameters (`client_id`, and a secret or an assertion).
    pub(super) form: Vec<(&'static str, String)>,
}

impl Credential {
    /// The client authentication of one request. A private key signs a new
    /// assertion each time, and a federated token is read from its file each
    /// time, since the platform rotates it there.
    pub(super) async fn authenticate(
        &self,
        client_id: &str,
        token_url: &str,
        now: SystemTime,
    ) -> Result<Authentication, TokenError> {
        match self {
            Self::Secret { secret, auth: ClientAuth::Basic } => {
                let id: String = form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
                let secret: String = form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
                let encoded = STANDARD.encode(format!("{id}:{secret}"));
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| TokenError::InvalidClient { description: None })?;
                value.set_sensitive(true);
                Ok(Authentication { basic: Some(value), form: Vec::new() })
            }
            Self::Secret { secret, auth: ClientAuth::Post } => Ok(Authentication {
                basic: None,
                form: vec![("client_id", client_id.to_owned()), ("client_secret", secret.expose().to_owned())],
            }),
            Self::PrivateKey(key) => Ok(assertion_form(client_id, sign_assertion(key, client_id, token_url, now)?)),
            Self::FederatedTokenFile(path) => Ok(assertion_form(client_id, read_federated_token(path).await?)),
        }
    }
}

fn assertion_form(client_id: &str, assertion: String) -> Authentication {
    Authentication {
        basic: None,
        form: vec![
            ("client_id", client_id.to_owned()),
            ("client_assertion_type", JWT_BEARER.to_owned()),
            ("client_assertion", assertion),
        ],
    }
}

/// RFC 7523 §3: `iss` and `sub` are the client ID (OpenID Connect Core §9),
/// `aud` the token endpoint, `exp` close by, and a `jti` the server can
/// refuse to see twice.
pub(super) fn sign_assertion(
    key: &PrivateKey,
    client_id: &str,
    token_url: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    let iat = unix_seconds(now);
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": iat,
        "exp": iat.saturating_add(ASSERTION_LIFETIME.as_secs()),
        "jti": random_id(),
    });
    key.sign_jws(json!({"kid": key.kid(), "typ": "JWT"}), &claims)
        .map_err(|e| TokenError::Credential(format!("cannot sign the client assertion: {e}")))
}

/// 128 random bits, base64url: unguessable and unique enough for a `jti`.
pub(super) fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// The token in `path`, without surrounding whitespace. Errors name the file
/// and the failure, never its contents.
async fn read_federated_token(path: &std::path::Path) -> Result<String, TokenError> {
    let unreadable =
        |why: String| TokenError::Credential(format!("cannot read the federated token file {path:?}: {why}"));
    let file = tokio::fs::File::open(path).await.map_err(|e| unreadable(e.kind().to_string()))?;
    // One byte past the cap tells a file that is too large from one at the cap.
    let mut bytes = Vec::new();
    file.take(MAX_FEDERATED_TOKEN_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| unreadable(e.kind().to_string()))?;
    if bytes.len() as u64 > MAX_FEDERATED_TOKEN_BYTES {
        return Err(unreadable(format!("larger than {MAX_FEDERATED_TOKEN_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8".into()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(unreadable("empty".into()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(unreadable("not a single token".into()));
    }
    Ok(token.to_owned())
}
