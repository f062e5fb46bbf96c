//! RFC 6749 §5.2 error responses, with the HTTP status each one carries.

use std::borrow::Cow;

use serde::Serialize;

/// The `error` codes Clavis can answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    /// RFC 6749 §5.2: the grant (resource owner credentials, refresh token)
    /// is invalid, expired, revoked or was issued to another client.
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8707 §2: a `resource` the server cannot issue a token for.
    InvalidTarget,
    ServerError,
    TemporarilyUnavailable,
    /// RFC 9449 §5: the DPoP proof is invalid.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the server's nonce (sent with it).
    UseDpopNonce,
    /// Clavis's own code for a path that names no tenant.
    NotFound,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::NotFound => "not_found",
        }
    }
}

/// An error response of the token, introspection or revocation endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    /// Human-readable, ASCII only: RFC 6749 §5.2 limits `error_description`
    /// to %x20-21 / %x23-5B / %x5D-7E. Never contains a secret.
    pub description: Cow<'static, str>,
    pub status: u16,
    /// RFC 6749 §5.2: "If the client attempted to authenticate via the
    /// 'Authorization' request header field, the authorization server MUST
    /// respond with an HTTP 401 (Unauthorized) status code and include the
    /// WWW-Authenticate response header field matching the authentication
    /// scheme used by the client."
    pub basic_challenge: bool,
    /// The realm of that challenge: the tenant's issuer, once it is known.
    pub realm: Option<String>,
    /// Seconds the client must wait before retrying (the `Retry-After` of a 429).
    pub retry_after_secs: Option<u64>,
    /// RFC 9449 §8: a fresh server nonce, sent as the `DPoP-Nonce` header.
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    fn new(code: ErrorCode, status: u16, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            status,
            basic_challenge: false,
            realm: None,
            retry_after_secs: None,
            dpop_nonce: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, 400, description)
    }

    /// 401: the client could not be authenticated.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, 401, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, 400, description)
    }

    /// 429: too many failed grants (wrong passwords) for one user or from
    /// one address, or more password work waiting than the server queues.
    pub fn slow_down(description: impl Into<Cow<'static, str>>, retry_after_secs: u64) -> Self {
        let mut err = Self::new(ErrorCode::InvalidGrant, 429, description);
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    pub fn unsupported_grant_type(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnsupportedGrantType, 400, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, 400, description)
    }

    pub fn invalid_target(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, 400, description)
    }

    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, 400, description)
    }

    /// 400 `invalid_dpop_proof` (RFC 9449 §5).
    pub fn invalid_dpop_proof(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidDpopProof, 400, description)
    }

    /// 400 `use_dpop_nonce` (RFC 9449 §8), carrying the nonce to retry with.
    pub fn use_dpop_nonce(nonce: String) -> Self {
        let mut err = Self::new(ErrorCode::UseDpopNonce, 400, "a DPoP nonce is required; retry with the one sent");
        err.dpop_nonce = Some(nonce);
        err
    }

    /// 413: the body is larger than the endpoint accepts.
    pub fn payload_too_large() -> Self {
        Self::new(ErrorCode::InvalidRequest, 413, "request body too large")
    }

    /// 415: the body is neither form-encoded, multipart nor JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            ErrorCode::InvalidRequest,
            415,
            "content type must be application/x-www-form-urlencoded, multipart/form-data or application/json",
        )
    }

    /// 429: repeated failed client authentications from one address.
    pub fn too_many_failures(retry_after_secs: u64) -> Self {
        let mut err = Self::new(
            ErrorCode::InvalidClient,
            429,
            format!("too many failed client authentications; retry in {retry_after_secs} seconds"),
        );
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    /// 404: the path names no tenant. Not an RFC 6749 code: the request
    /// never reached an authorization server.
    pub fn unknown_tenant() -> Self {
        Self::new(ErrorCode::NotFound, 404, "unknown tenant")
    }

    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, 500, "the server could not complete the request")
    }

    pub fn temporarily_unavailable() -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, 503, "the server is temporarily unavailable; retry later")
    }

    pub fn with_basic_challenge(mut self, used_basic: bool) -> Self {
        self.basic_challenge = used_basic && self.code == ErrorCode::InvalidClient;
        self
    }

    /// Names the realm of a Basic challenge (the tenant's issuer).
    pub fn in_realm(mut self, realm: &str) -> Self {
        if self.basic_challenge {
            self.realm = Some(realm.to_owned());
        }
        self
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

/// The JSON body of an error response.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'static str,
    pub error_description: &'a str,
}

impl OAuthError {
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody { error: self.code.as_str(), error_description: &self.description }
    }
}
