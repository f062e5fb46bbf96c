//! `POST /revoke` (RFC 7009): a client revokes a token issued to it.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{request, response, tenant_runtime};
use crate::http::AppState;

pub async fn revoke(
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
        state.services.revoke(&runtime, &caller, &token, now).await
    }
    .await;
    match result {
        // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200".
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => response::oauth_error(&err, realm),
    }
}
