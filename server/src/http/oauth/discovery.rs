//! `GET /publickeys` (JWKS) and the metadata documents (RFC 8414, OpenID
//! discovery).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::oauth::metadata::ServerMetadata;

use super::tenant_runtime;
use crate::http::AppState;

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

pub async fn jwks(State(state): State<AppState>, Path(tenant_id): Path<String>) -> Response {
    match tenant_runtime(&state.services, &tenant_id, state.services.now()).await {
        Ok(runtime) => public_json(runtime.jwks_json.clone(), JWKS_MAX_AGE),
        Err(response) => response,
    }
}

pub async fn metadata(State(state): State<AppState>, Path(tenant_id): Path<String>) -> Response {
    match tenant_runtime(&state.services, &tenant_id, state.services.now()).await {
        Ok(runtime) => {
            let document = ServerMetadata::new(&runtime.issuer, &runtime.default_scope, runtime.published_algs.clone());
            match serde_json::to_string(&document) {
                Ok(body) => public_json(body, METADATA_MAX_AGE),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Err(response) => response,
    }
}
