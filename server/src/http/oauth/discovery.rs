//! `GET /publickeys` (JWKS) and the metadata documents (RFC 8414, OpenID
//! discovery).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Services;

use super::response;

/// Resource servers cache keys for a few minutes and refetch on an unknown
/// `kid`, so a rotated key reaches them without waiting for this to lapse.
const JWKS_MAX_AGE: &str = "public, max-age=300";
const METADATA_MAX_AGE: &str = "public, max-age=3600";

fn public_json(body: String, cache_control: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    // Public documents: browser-based verifiers may fetch them from anywhere.
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

pub(super) async fn jwks(State(services): State<Services>, Path(tenant_id): Path<String>) -> Response {
    match services.jwks_json(&tenant_id, services.now()).await {
        Ok(jwks) => public_json(jwks, JWKS_MAX_AGE),
        Err(err) => response::oauth_error(&err),
    }
}

pub(super) async fn metadata(State(services): State<Services>, Path(tenant_id): Path<String>) -> Response {
    match services.server_metadata(&tenant_id, services.now()).await {
        Ok(document) => match serde_json::to_string(&document) {
            Ok(body) => public_json(body, METADATA_MAX_AGE),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Err(err) => response::oauth_error(&err),
    }
}
