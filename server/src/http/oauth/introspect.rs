//! `POST /introspect` (RFC 7662), for authenticated clients of the tenant.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{TokenCall, response};
use crate::http::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = state.services.now();
    let call = match TokenCall::read(&state.services, &tenant_id, &headers, body, now).await {
        Ok(call) => call,
        Err(response) => return response,
    };
    match state.services.introspect(&call.runtime, &call.caller, &call.token, now).await {
        Ok(answer) => response::no_store_json(StatusCode::OK, &answer),
        Err(err) => response::oauth_error(&err, Some(call.runtime.issuer.as_str())),
    }
}
