//! Response helpers shared by the OAuth endpoints.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clavis_oauth::OAuthError;
use serde::Serialize;

/// RFC 6749 §5.1: "The authorization server MUST include the HTTP
/// "Cache-Control" response header field with a value of "no-store" in any
/// response containing tokens, credentials, or other sensitive information".
pub(super) fn no_store_json(status: StatusCode, body: &impl Serialize) -> Response {
    let mut json = Vec::with_capacity(512);
    if serde_json::to_writer(&mut json, body).is_err() {
        tracing::error!("could not serialize an OAuth response");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    no_store(status, json)
}

/// The same for a body already written as JSON.
pub(super) fn no_store(status: StatusCode, json: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An RFC 6749 §5.2 error, with its status, its Basic challenge (the realm
/// names the tenant) and its `Retry-After`, all decided by the service.
pub(super) fn oauth_error(err: &OAuthError) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store_json(status, &err.body());
    let headers = response.headers_mut();
    if err.basic_challenge {
        let realm = err.realm.as_deref().unwrap_or("clavis").replace('"', "");
        if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
    }
    if let Some(wait) = err.retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    with_dpop_nonce(&mut response, err.dpop_nonce.as_deref());
    response
}

/// RFC 9449 §8: "the authorization server ... responds with ... a DPoP-Nonce
/// HTTP header" carrying the nonce to use next.
pub(super) fn with_dpop_nonce(response: &mut Response, nonce: Option<&str>) {
    if let Some(value) = nonce.and_then(|nonce| HeaderValue::from_str(nonce).ok()) {
        response.headers_mut().insert(DPOP_NONCE, value);
    }
}

const DPOP_NONCE: header::HeaderName = header::HeaderName::from_static("dpop-nonce");
