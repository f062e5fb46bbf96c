//! Request extractors of the management API. Each one answers a failure
//! with the API's JSON error, never with axum's plain-text rejections.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use clavis_oauth::media_type::{BodyKind, body_kind};
use domain::{GrantedScope, Read, TenantScope, Write};
use serde::de::DeserializeOwned;

use super::MAX_BODY_BYTES;
use super::error::ApiError;
use crate::http::AppState;

/// The path parameter that names the tenant.
pub(super) const TENANT_PARAM: &str = "tenantId";

/// A caller whose token allows reading the tenant's management data.
pub(super) struct Reader(pub TenantScope<Read>);

/// A caller whose token allows changing the tenant's management data.
pub(super) struct Writer(pub TenantScope<Write>);

/// The bearer token of the request (RFC 6750 §2.1), if it has exactly one
/// well-formed `Authorization: Bearer` header.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    // RFC 6750 §2.1: the scheme is case-insensitive; b64token forbids spaces.
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

/// The scope of the calling application, after its token and its current
/// management access were checked.
async fn caller_scope(parts: &mut Parts, state: &AppState) -> Result<GrantedScope, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found("tenant not found"))?;
    let tenant_id = params.get(TENANT_PARAM).ok_or_else(|| ApiError::not_found("tenant not found"))?;
    // Authentication comes first, so an anonymous caller learns nothing,
    // not even whether a tenant exists.
    let token = bearer_token(parts).ok_or_else(ApiError::invalid_token)?;
    let source_addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
    let services = &state.services;
    Ok(services.granted_scope_for_application(tenant_id, token, source_addr, services.now()).await?)
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match caller_scope(parts, state).await {
            Ok(scope) => Ok(Reader(scope.into_read())),
            Err(err) if err.status() == axum::http::StatusCode::FORBIDDEN => Err(ApiError::insufficient_scope(false)),
            Err(err) => Err(err),
        }
    }
}

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Checked before the body is read, so that a read-only caller hears
        // 403 before any complaint about its request body.
        caller_scope(parts, state).await?.into_write().map(Writer).ok_or_else(|| ApiError::insufficient_scope(true))
    }
}

/// Path parameters, with a JSON error when they do not decode.
pub(super) struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| ApiError::invalid_request("the path parameters are not valid"))
    }
}

/// Query parameters, with a JSON error naming the problem.
pub(super) struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| ApiQuery(value))
            .map_err(|err| ApiError::invalid_request(format!("invalid query parameters: {}", err.body_text())))
    }
}

/// A JSON request body (`application/json`, at most [`MAX_BODY_BYTES`]).
pub(super) struct ApiJson<T>(pub T);

/// A JSON request body that may be left out; an empty body is `None`.
pub(super) struct OptionalJson<T>(pub Option<T>);

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every management body is an object. serde also reads a struct from an
    // array of its fields in order, so `[]` would pass as an object with
    // every field left out; the schema says object, and so does this.
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::invalid_request("the request body must be a JSON object"));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        use serde_json::error::Category;
        match err.classify() {
            // serde's data errors name the field and the expected type, which
            // helps the caller and echoes nothing but their own input's shape.
            Category::Data => ApiError::invalid_request(format!("invalid request body: {err}")),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::invalid_request("the request body is not valid JSON")
            }
        }
    })
}

fn is_json(value: &header::HeaderValue) -> bool {
    body_kind(value.as_bytes()) == Some(BodyKind::Json)
}

/// Reads and parses the body; `Ok(None)` when it is empty.
async fn read_json<T: DeserializeOwned>(request: Request) -> Result<Option<T>, ApiError> {
    let declared_too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES as u64);
    if declared_too_large {
        return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
    // Reading fails when the body outgrows the limit (a chunked body has no
    // Content-Length to check beforehand) or when the client goes away, in
    // which case nobody reads the answer.
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::payload_too_large(MAX_BODY_BYTES))?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if !content_type.as_ref().is_some_and(is_json) {
        return Err(ApiError::unsupported_media_type());
    }
    parse_json(&bytes).map(Some)
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        read_json(request)
            .await?
            .map(ApiJson)
            .ok_or_else(|| ApiError::invalid_request("a JSON request body is required"))
    }
}

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        // `null` is as good as no body at all.
        read_json::<Option<T>>(request).await.map(|body| OptionalJson(body.flatten()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_with(authorization: &[&str]) -> Parts {
        let mut builder = axum::http::Request::builder();
        for value in authorization {
            builder = builder.header(header::AUTHORIZATION, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn reads_exactly_one_bearer_token() {
        assert_eq!(bearer_token(&parts_with(&["Bearer abc.def.ghi"])), Some("abc.def.ghi"));
        assert_eq!(bearer_token(&parts_with(&["bearer abc"])), Some("abc"));
        assert_eq!(bearer_token(&parts_with(&[])), None);
        assert_eq!(bearer_token(&parts_with(&["Bearer"])), None);
        assert_eq!(bearer_token(&parts_with(&["Bearer "])), None);
        assert_eq!(bearer_token(&parts_with(&["Basic YTpi"])), None);
        assert_eq!(bearer_token(&parts_with(&["Bearer a b"])), None);
        assert_eq!(bearer_token(&parts_with(&["Bearer a", "Bearer b"])), None);
    }

    #[test]
    fn json_content_type_allows_parameters() {
        assert!(is_json(&header::HeaderValue::from_static("application/json")));
        assert!(is_json(&header::HeaderValue::from_static("Application/JSON; charset=utf-8")));
        assert!(!is_json(&header::HeaderValue::from_static("text/plain")));
        assert!(!is_json(&header::HeaderValue::from_static("application/jsonx")));
    }
}
