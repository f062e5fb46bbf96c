//! `POST /revoke` (RFC 7009): a client revokes a token issued to it.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Services;

use super::request::ReadRequest;
use super::response;

pub(super) async fn revoke(
    State(services): State<Services>,
    Path(tenant_id): Path<String>,
    request: Request,
) -> Response {
    let now = services.now();
    let request = ReadRequest::read(request).await;
    match services.revoke(&tenant_id, request.raw(), request.client_addr(), now).await {
        // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200".
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => response::oauth_error(&err),
    }
}
