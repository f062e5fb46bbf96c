//! The caller's DPoP key (RFC 9449): proofs for token requests and API requests, and the server nonce it remembers.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use serde_json::{Value, json};

use super::TokenError;
use super::credential::random_id;
use crate::clock::unix_seconds;
use crate::keys::PrivateKey;
use crate::secret::AccessToken;

/// The longest server nonce kept: a nonce is echoed in every proof, so a
/// hostile server must not make them grow without bound.
const MAX_NONCE_CHARS: usize = 512;

/// A DPoP key and the token endpoint's latest nonce.
pub(super) struct Dpop {
    key: PrivateKey,
    nonce: Mutex<Option<String>>,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Dpop {
    pub(super) fn new(key: PrivateKey) -> Self {
        Self { key, nonce: Mutex::new(None) }
    }

    pub(super) fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The token endpoint's latest nonce, if it sent one.
    pub(super) fn nonce(&self) -> Option<String> {
        self.nonce.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Keeps a nonce the server sent in `DPoP-Nonce` (RFC 9449 §8: the
    /// server may send a new one with any answer). Returns whether it was
    /// usable: RFC 9449 §8.1, `nonce = 1*NQCHAR`, within our length cap.
    pub(super) fn remember_nonce(&self, nonce: &str) -> bool {
        let usable = !nonce.is_empty()
            && nonce.len() <= MAX_NONCE_CHARS
            && nonce.bytes().all(|b| b == b'!' || (b'#'..=b'[').contains(&b) || (b']'..=b'~').contains(&b));
        if usable {
            *self.nonce.lock().unwrap_or_else(PoisonError::into_inner) = Some(nonce.to_owned());
        }
        usable
    }

    /// A proof for a token request to `token_url`.
    pub(super) fn token_request_proof(&self, token_url: &str, now: SystemTime) -> Result<String, TokenError> {
        proof(&self.key, "POST", token_url, None, self.nonce().as_deref(), now)
    }
}

/// RFC 9449 §4.2: header `typ: dpop+jwt`, the public `jwk`; claims `jti`,
/// `htm`, `htu` ("without query and fragment parts"), `iat`, and `ath` (the
/// base64url SHA-256 of the access token) when one is presented, `nonce`
/// when the server gave one.
pub(super) fn proof(
    key: &PrivateKey,
    method: &str,
    url: &str,
    access_token: Option<&AccessToken>,
    nonce: Option<&str>,
    now: SystemTime,
) -> Result<String, TokenError> {
    let mut htu = Url::parse(url).map_err(|_| TokenError::Credential(format!("{url:?} is not an absolute URL")))?;
    htu.set_query(None);
    htu.set_fragment(None);
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(TokenError::Credential(format!("{method:?} is not an HTTP method")));
    }
    let mut claims = json!({
        "jti": random_id(),
        "htm": method.to_ascii_uppercase(),
        "htu": htu.as_str(),
        "iat": unix_seconds(now),
    });
    if let Some(members) = claims.as_object_mut() {
        if let Some(token) = access_token {
            let hash = digest::digest(&digest::SHA256, token.as_str().as_bytes());
            members.insert("ath".into(), Value::from(URL_SAFE_NO_PAD.encode(hash.as_ref())));
        }
        if let Some(nonce) = nonce {
            members.insert("nonce".into(), Value::from(nonce));
        }
    }
    let header = json!({"typ": "dpop+jwt", "jwk": key.bare_public_jwk()});
    key.sign_jws(header, &claims).map_err(|e| TokenError::Credential(format!("cannot sign the DPoP proof: {e}")))
}

/// The headers of one API request with a DPoP-bound token:
/// `Authorization: DPoP <token>` and `DPoP: <proof>`. `Debug` shows neither.
///
/// ```no_run
/// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
/// let url = "https://orders.example/orders?page=2";
/// let auth = tokens.authorize("GET", url).await?;
/// let mut request = reqwest::Client::new().get(url).header("Authorization", auth.authorization());
/// if let Some(proof) = auth.dpop() {
///     request = request.header("DPoP", proof);
/// }
/// request.send().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Authorization {
    pub(super) authorization: String,
    pub(super) dpop: Option<String>,
}

impl Authorization {
    /// The `Authorization` header value: `DPoP <token>`, or `Bearer <token>`
    /// for a manager without a DPoP key.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    /// The `DPoP` header value, a proof for this one request (`None`
    /// without a DPoP key).
    pub fn dpop(&self) -> Option<&str> {
        self.dpop.as_deref()
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("authorization", &format_args!("<redacted>"))
            .field("dpop", &self.dpop.as_ref().map(|_| format_args!("<redacted>")))
            .finish()
    }
}

impl super::TokenManager {
    /// The RFC 7638 thumbprint of the DPoP key (the `cnf.jkt` of the tokens
    /// it gets), or `None` without one.
    ///
    /// ```
    /// use clavis_sdk::{PrivateKey, SigningAlgorithm, TokenManager};
    ///
    /// let key = PrivateKey::generate(SigningAlgorithm::Es256)?;
    /// let tokens = TokenManager::builder("https://auth.example/oauth/v4/t1", "id", "s").dpop_key(key.clone()).build()?;
    /// assert_eq!(tokens.dpop_thumbprint(), Some(key.thumbprint()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dpop_thumbprint(&self) -> Option<&str> {
        self.inner.dpop.as_ref().map(|dpop| dpop.key().thumbprint())
    }

    /// A DPoP proof for one API request (`method` and `url`; the query and
    /// fragment are left out of `htu`) with `token`, which carries its `ath`.
    /// Make one per request: a resource server refuses a proof it has seen.
    ///
    /// # Errors
    /// [`TokenError::Credential`] without a DPoP key, for a URL that is not
    /// absolute or a method that is not one.
    ///
    /// ```no_run
    /// # async fn run(tokens: clavis_sdk::TokenManager) -> Result<(), clavis_sdk::TokenError> {
    /// let token = tokens.access_token().await?;
    /// let proof = tokens.dpop_proof("POST", "https://orders.example/orders", &token)?;
    /// # Ok(()) }
    /// ```
    pub fn dpop_proof(&self, method: &str, url: &str, token: &AccessToken) -> Result<String, TokenError> {
        self.api_proof(method, url, token, None)
    }

    /// Like [`dpop_proof`](Self::dpop_proof), with the `nonce` a resource
    /// server asked for in its `DPoP-Nonce` header (RFC 9449 §9).
    ///
    /// # Errors
    /// As [`dpop_proof`](Self::dpop_proof).
    pub fn dpop_proof_with_nonce(
        &self,
        method: &str,
        url: &str,
        token: &AccessToken,
        nonce: &str,
    ) -> Result<String, TokenError> {
        self.api_proof(method, url, token, Some(nonce))
    }

    fn api_proof(
        &self,
        method: &str,
        url: &str,
        token: &AccessToken,
        nonce: Option<&str>,
    ) -> Result<String, TokenError> {
        let dpop = self.inner.dpop.as_ref().ok_or_else(|| TokenError::Credential("no DPoP key configured".into()))?;
        proof(dpop.key(), method, url, Some(token), nonce, SystemTime::now())
    }

    /// The headers for one request to `url`: a valid token (as
    /// [`access_token`](Self::access_token)) and, with a DPoP key, a fresh
    /// proof for `method` and `url`.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token) and [`dpop_proof`](Self::dpop_proof).
    pub async fn authorize(&self, method: &str, url: &str) -> Result<Authorization, TokenError> {
        let token = self.access_token().await?;
        match &self.inner.dpop {
            None => Ok(Authorization { authorization: token.bearer_header(), dpop: None }),
            Some(_) => {
                let proof = self.dpop_proof(method, url, &token)?;
                Ok(Authorization { authorization: format!("DPoP {}", token.as_str()), dpop: Some(proof) })
            }
        }
    }
}
