//! The management API's one error shape, `{"error", "message"}`, and the
//! single mapping from `domain::Error` to it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clavis_oauth::scope::{MANAGEMENT_READ, MANAGEMENT_WRITE};
use serde::Serialize;
use utoipa::ToSchema;

/// Named in `WWW-Authenticate` challenges (RFC 6750 §3).
const REALM: &str = "clavis";

/// Every error the management API returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A machine-readable code: `invalid_request`, `invalid_token`,
    /// `insufficient_scope`, `not_found`, `conflict`, `method_not_allowed`,
    /// `payload_too_large`, `unsupported_media_type`, `rate_limited`,
    /// `temporarily_unavailable` or `server_error`.
    #[schema(example = "invalid_request")]
    pub error: &'static str,
    /// A sentence for people; never contains secrets or internal detail.
    #[schema(example = "name must be 1 to 50 characters")]
    pub message: String,
}

/// An RFC 6750 §3 challenge to send with a 401 or 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Challenge {
    InvalidToken,
    InsufficientScope(&'static str),
}

/// A failed management request, ready to be sent.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    challenge: Option<Challenge>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), challenge: None, retry_after_secs: None }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// RFC 6750 §3.1 `invalid_token`: missing, malformed, expired, revoked,
    /// or issued by another tenant. One message for all, so a caller
    /// cannot probe which.
    pub fn invalid_token() -> Self {
        Self {
            challenge: Some(Challenge::InvalidToken),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "a valid bearer access token of this tenant is required",
            )
        }
    }

    /// RFC 6750 §3.1 `insufficient_scope`, naming the scope that is needed.
    pub fn insufficient_scope(write: bool) -> Self {
        let scope = if write { MANAGEMENT_WRITE } else { MANAGEMENT_READ };
        Self {
            challenge: Some(Challenge::InsufficientScope(scope)),
            ..Self::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the access token lacks the scope {scope}"),
            )
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed on this path")
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body must be at most {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be application/json",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    fn challenge_header(&self) -> Option<HeaderValue> {
        let value = match self.challenge? {
            Challenge::InvalidToken => format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            Challenge::InsufficientScope(scope) => {
                format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\"")
            }
        };
        HeaderValue::from_str(&value).ok()
    }
}

impl From<domain::Error> for ApiError {
    /// The one place where service errors become HTTP answers. The details
    /// of `Unavailable` and `Internal` go to the log, never to the caller.
    fn from(err: domain::Error) -> Self {
        use domain::Error;
        match err {
            Error::NotFound(what) => Self::not_found(format!("{what} not found")),
            Error::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            Error::Validation(message) => Self::invalid_request(message),
            // Services refuse changes to read-only scopes with Forbidden; the
            // scope builder refuses a token without management access the
            // same way. Either way the token lacks what writing needs.
            Error::Forbidden => Self::insufficient_scope(true),
            Error::Unauthenticated => Self::invalid_token(),
            Error::SecondFactorRequired => {
                Self::new(StatusCode::FORBIDDEN, "second_factor_required", Error::SecondFactorRequired.to_string())
            }
            Error::RateLimited { retry_after_secs } => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many requests; try again in {retry_after_secs} seconds"),
                )
            },
            Error::Busy => Self {
                retry_after_secs: Some(1),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "the server is busy; try again shortly")
            },
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable during a management request");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the service is temporarily unavailable; try again later",
                )
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "management request failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let challenge = self.challenge_header();
        let retry_after = self.retry_after_secs;
        let mut response = (self.status, Json(ErrorBody { error: self.code, message: self.message })).into_response();
        let headers = response.headers_mut();
        if let Some(value) = challenge {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Answers a path the management API does not have.
pub async fn unknown_route() -> ApiError {
    ApiError::not_found("no such management API route")
}

/// Answers a method a management API path does not support.
pub async fn unsupported_method() -> ApiError {
    ApiError::method_not_allowed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_stays_out_of_the_body() {
        let err = ApiError::from(domain::Error::Internal("SELECT * FROM client_secrets failed".into()));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.message, "internal error");
        let err = ApiError::from(domain::Error::Unavailable("pool timed out at 10.0.0.5".into()));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!err.message.contains("10.0.0.5"));
    }

    #[test]
    fn challenges_follow_rfc_6750() {
        let header = ApiError::invalid_token().challenge_header().unwrap();
        assert_eq!(header, "Bearer realm=\"clavis\", error=\"invalid_token\"");
        let header = ApiError::insufficient_scope(false).challenge_header().unwrap();
        assert_eq!(header, "Bearer realm=\"clavis\", error=\"insufficient_scope\", scope=\"clavis:management:read\"");
        assert!(ApiError::not_found("x").challenge_header().is_none());
    }
}
