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
        Err(err) => {
            tracing::info!(tenant = %runtime.tenant_id, error = err.code.as_str(), "token request refused");
            return response::oauth_error(&err, realm);
        }
    };
    match state.services.issue_token(&runtime, &token_request, now).await {
        Ok(token) => {
            tracing::debug!(tenant = %runtime.tenant_id, client_id = %token_request.credentials.client_id, "token issued");
            response::no_store_json(StatusCode::OK, &token)
        }
        Err(err) => {
            // The client ID is an identifier, not a credential; the secret is never logged.
            tracing::info!(
                tenant = %runtime.tenant_id,
                client_id = %token_request.credentials.client_id,
                error = err.code.as_str(),
                "token request refused"
            );
            response::oauth_error(&err, realm)
        }
    }
}
