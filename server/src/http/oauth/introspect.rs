//! `POST /introspect` (RFC 7662), for authenticated clients of the tenant.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::oauth::client_auth::authenticate_request;
use domain::oauth::introspection::token_param;

use super::{request, response, tenant_runtime};
use crate::http::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = state.services.now();
    let runtime = match tenant_runtime(&state, &tenant_id, now).await {
        Ok(runtime) => runtime,
        Err(response) => return response,
    };
    let realm = Some(runtime.issuer.as_str());
    let result = async {
        let parsed = request::read(&headers, body).await?;
        let used_basic = parsed.basic.is_some();
        let credentials = authenticate_request(parsed.basic, &parsed.params).map_err(|e| e.with_basic_challenge(used_basic))?;
        let caller = state
            .services
            .authenticate_client(&runtime.tenant_id, &credentials, now)
            .await
            .map_err(|e| e.with_basic_challenge(used_basic))?;
        let token = token_param(&parsed.params)?;
        state.services.introspect(&runtime, &caller, token, now).await
    }
    .await;
    match result {
        Ok(answer) => response::no_store_json(StatusCode::OK, &answer),
        Err(err) => response::oauth_error(&err, realm),
    }
}
