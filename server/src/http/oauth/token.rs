//! `POST /token`: the client credentials grant (RFC 6749 §4.4).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use domain::Services;
use domain::oauth::{ErrorCode, OAuthError, token_request};

use super::{request, response, tenant_runtime};

/// Extracts only the services (not the whole `AppState`, whose dashboard
/// options are costly to clone) and the whole request (a `HeaderMap`
/// extractor would clone the headers).
pub async fn token(State(services): State<Services>, Path(tenant_id): Path<String>, http_request: Request) -> Response {
    let now = services.now();
    let runtime = match tenant_runtime(&services, &tenant_id, now).await {
        Ok(runtime) => runtime,
        Err(response) => return response,
    };
    let realm = Some(runtime.issuer.as_str());
    let (parts, body) = http_request.into_parts();
    let source = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let parsed = match request::read(&parts.headers, body).await {
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
    let client_id = token_request.credentials.client_id.as_str();
    if let Some(source) = source
        && let Some(wait) = services.client_auth_wait(client_id, source, now)
    {
        let mut response = response::oauth_error(&OAuthError::too_many_failures(wait), realm);
        if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let issued = services.issue_token(&runtime, &token_request, now).await;
    if let Some(source) = source {
        match &issued {
            Ok(_) => services.record_client_auth_success(client_id, source),
            Err(err) if err.code == ErrorCode::InvalidClient => {
                services.record_client_auth_failure(client_id, source, now);
            }
            Err(_) => {}
        }
    }
    match issued {
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
