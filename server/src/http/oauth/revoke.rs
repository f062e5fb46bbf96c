//! `POST /revoke` (RFC 7009): a client revokes a token issued to it.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{TokenCall, response};
use crate::http::AppState;

pub async fn revoke(
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
    match state.services.revoke(&call.runtime, &call.caller, &call.token, now).await {
        // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200".
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => response::oauth_error(&err, Some(call.runtime.issuer.as_str())),
    }
}
