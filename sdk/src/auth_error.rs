//! Why a request was refused, and its RFC 6750 / RFC 9449 answer: status, `WWW-Authenticate` challenge and JSON body.

use axum::http::{HeaderValue, Response, StatusCode, header};
use clavis_oauth::bearer::{BearerError, BearerErrorCode};
use clavis_oauth::jose::verify::Rejection;

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
    /// The DPoP proof is missing, doubled, malformed, stale, replayed, or
    /// does not match the request or the token's key (401
    /// `invalid_dpop_proof` with a `DPoP` challenge, RFC 9449 §7.1).
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(&'static str),
    /// A token refused under the rules of DPoP: a DPoP-bound token sent as
    /// `Bearer`, or an unbound one sent with the `DPoP` scheme (401
    /// `invalid_token` with a `DPoP` challenge).
    #[error("invalid token: {0}")]
    InvalidDpopToken(&'static str),
    /// [`Claims`](crate::Claims) was extracted in a handler that is not behind
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
            Self::MissingToken | Self::InvalidToken(_) | Self::InvalidDpopProof(_) | Self::InvalidDpopToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3), with `realm` if
    /// given; a `DPoP` challenge with `algs` (RFC 9449 §7.1) for the DPoP
    /// refusals.
    ///
    /// ```
    /// let err = clavis_sdk::AuthError::MissingToken;
    /// assert_eq!(err.www_authenticate(Some("api")), r#"Bearer realm="api""#);
    /// assert_eq!(err.www_authenticate(None), "Bearer");
    /// let err = clavis_sdk::AuthError::InvalidDpopProof("DPoP proof is too old");
    /// assert_eq!(
    ///     err.www_authenticate(None),
    ///     r#"DPoP error="invalid_dpop_proof", error_description="DPoP proof is too old", algs="ES256 EdDSA RS256 PS256""#
    /// );
    /// ```
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let dpop = matches!(self, Self::InvalidDpopProof(_) | Self::InvalidDpopToken(_));
        self.challenge(realm, dpop)
    }

    /// The challenge of the `Bearer` or the `DPoP` scheme.
    pub(crate) fn challenge(&self, realm: Option<&str>, dpop: bool) -> String {
        let mut params: Vec<String> = Vec::with_capacity(5);
        if let Some(realm) = realm {
            params.push(format!("realm=\"{}\"", quote_safe(realm)));
        }
        // The challenge carries an error only for the RFC 6750 and RFC 9449
        // codes; 503 and 500 answers have no challenge to explain.
        let description = match self {
            Self::InvalidRequest(why)
            | Self::InvalidToken(why)
            | Self::InvalidDpopProof(why)
            | Self::InvalidDpopToken(why) => Some(*why),
            Self::InsufficientScope { .. } => Some("the token lacks a required scope"),
            Self::MissingToken | Self::KeysUnavailable | Self::LayerMissing => None,
        };
        if let (Some(code), Some(description)) = (self.error_code(), description) {
            params.push(format!("error=\"{code}\""));
            params.push(format!("error_description=\"{}\"", quote_safe(description)));
        }
        if let Self::InsufficientScope { required } = self {
            params.push(format!("scope=\"{}\"", quote_safe(required)));
        }
        if dpop {
            params.push(format!("algs=\"{}\"", crate::dpop_check::algs()));
        }
        let scheme = if dpop { "DPoP" } else { "Bearer" };
        if params.is_empty() { scheme.to_owned() } else { format!("{scheme} {}", params.join(", ")) }
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
            Self::InvalidToken(_) | Self::InvalidDpopToken(_) => Some("invalid_token"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
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
        let dpop = matches!(self, Self::InvalidDpopProof(_) | Self::InvalidDpopToken(_));
        self.respond(realm, dpop, false)
    }

    /// The answer, challenging with the `DPoP` scheme when `dpop` (the
    /// request used it, or the refusal is DPoP's); `offer_dpop` adds a
    /// `DPoP` challenge beside `Bearer` to a request without a token
    /// (RFC 9449 §7.2), for a service that accepts both.
    pub(crate) fn respond<B: From<String>>(&self, realm: Option<&str>, dpop: bool, offer_dpop: bool) -> Response<B> {
        let mut response = Response::new(B::from(self.json_body()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenged = !matches!(self, Self::KeysUnavailable | Self::LayerMissing);
        if challenged && let Ok(value) = HeaderValue::from_str(&self.challenge(realm, dpop)) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if challenged
            && offer_dpop
            && !dpop
            && matches!(self, Self::MissingToken)
            && let Ok(value) = HeaderValue::from_str(&Self::MissingToken.challenge(realm, true))
        {
            headers.append(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self, Self::KeysUnavailable) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        }
        response
    }

    fn json_body(&self) -> String {
        let description = match self {
            Self::MissingToken => "a bearer access token is required".to_owned(),
            Self::InvalidRequest(why)
            | Self::InvalidToken(why)
            | Self::InvalidDpopProof(why)
            | Self::InvalidDpopToken(why) => (*why).to_owned(),
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

impl From<BearerError> for AuthError {
    fn from(err: BearerError) -> Self {
        match err.code {
            None => Self::MissingToken,
            Some(BearerErrorCode::InvalidRequest) => Self::InvalidRequest(err.description),
            Some(BearerErrorCode::InvalidToken) => Self::InvalidToken(err.description),
            Some(BearerErrorCode::InsufficientScope) => {
                Self::InsufficientScope { required: err.scope.unwrap_or_default() }
            }
        }
    }
}

impl From<Rejection> for AuthError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Malformed(why) | Rejection::Invalid(why) => Self::InvalidToken(why),
            Rejection::UnknownKid => Self::InvalidToken("unknown signing key"),
        }
    }
}
