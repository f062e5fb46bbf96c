//! `POST /introspect` (RFC 7662), for authenticated clients of the tenant.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{request, response, tenant_runtime};
use crate::http::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = state.services.now();
    let runtime = match tenant_runtime(&state.services, &tenant_id, now).await {
        Ok(runtime) => runtime,
        Err(response) => return response,
    };
    let realm = Some(runtime.issuer.as_str());
    let result = async {
        let (caller, token) =
            request::read_token_request(&state.services, &runtime.tenant_id, &headers, body, now).await?;
        state.services.introspect(&runtime, &caller, &token, now).await
    }
    .await;
    match result {
        Ok(answer) => response::no_store_json(StatusCode::OK, &answer),
        Err(err) => response::oauth_error(&err, realm),
    }
}
