//! `POST /token`: the client credentials grant (RFC 6749 §4.4).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::Services;

use super::request::ReadRequest;
use super::response;

/// Extracts only the services (not the whole `AppState`, whose dashboard
/// options are costly to clone) and the whole request (a `HeaderMap`
/// extractor would clone the headers).
pub(super) async fn token(
    State(services): State<Services>,
    Path(tenant_id): Path<String>,
    request: Request,
) -> Response {
    let now = services.now();
    let request = ReadRequest::read(request).await;
    match services.token(&tenant_id, request.raw(), request.client_addr(), now).await {
        Ok(token) => {
            let mut answer = response::no_store(StatusCode::OK, token.to_json());
            response::with_dpop_nonce(&mut answer, token.dpop_nonce.as_deref());
            answer
        }
        Err(err) => response::oauth_error(&err),
    }
}
