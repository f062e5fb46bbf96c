//! `POST /introspect` (RFC 7662), for authenticated clients of the tenant.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::Services;

use super::request::ReadRequest;
use super::response;

pub(super) async fn introspect(
    State(services): State<Services>,
    Path(tenant_id): Path<String>,
    request: Request,
) -> Response {
    let now = services.now();
    let request = ReadRequest::read(request).await;
    match services.introspect(&tenant_id, request.raw(), request.client_addr(), now).await {
        Ok(answer) => response::no_store_json(StatusCode::OK, &answer),
        Err(err) => response::oauth_error(&err),
    }
}
