//! `POST /token`: the client credentials grant (RFC 6749 §4.4).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::oauth::token_request;

use super::{request, response, tenant_runtime};
use crate::http::AppState;

pub async fn token(State(state): State<AppState>, Path(tenant_id): Path<String>, headers: HeaderMap, body: Body) -> Response {
    let now = state.services.now();
    let runtime = match tenant_runtime(&state, &tenant_id, now).await {
        Ok(runtime) => runtime,
        Err(response) => return response,
    };
    let realm = Some(runtime.issuer.as_str());
    let parsed = match request::read(&headers, body).await {
        Ok(parsed) => parsed,
        Err(err) => return response::oauth_error(&err, realm),
    };
    let token_request = match token_request::parse(&parsed.params, parsed.basic) {
        Ok(token_request) => token_request,
        Err(err) => return response::oauth_error(&err, realm),
    };
    match state.services.issue_token(&runtime, &token_request, now).await {
        Ok(token) => response::no_store_json(StatusCode::OK, &token),
        Err(err) => response::oauth_error(&err, realm),
    }
}
