//! Reading an OAuth request: size limit, content type, body parameters and
//! the Authorization header.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};
use domain::Services;
use domain::oauth::OAuthError;
use domain::oauth::client_auth::{ClientCredentials, authenticate_request, parse_basic};
use domain::oauth::introspection::token_param;
use domain::oauth::params::Params;
use domain::services::AuthenticatedClient;

use super::MAX_BODY_BYTES;

/// The parameters and any HTTP Basic credentials of a request.
pub struct OAuthRequest {
    pub params: Params,
    pub basic: Option<ClientCredentials>,
}

enum BodyKind {
    Form,
    Json,
}

fn body_kind(headers: &HeaderMap, body_is_empty: bool) -> Result<BodyKind, OAuthError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return if body_is_empty { Ok(BodyKind::Form) } else { Err(OAuthError::unsupported_media_type()) };
    };
    let value = value.to_str().map_err(|_| OAuthError::unsupported_media_type())?;
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Ok(BodyKind::Form),
        "application/json" => Ok(BodyKind::Json),
        _ => Err(OAuthError::unsupported_media_type()),
    }
}

pub async fn read(headers: &HeaderMap, body: Body) -> Result<OAuthRequest, OAuthError> {
    let mut authorizations = headers.get_all(header::AUTHORIZATION).iter();
    let authorization = authorizations.next();
    if authorizations.next().is_some() {
        return Err(OAuthError::invalid_request("more than one Authorization header"));
    }
    let basic = authorization.map(|value| parse_basic(value.as_bytes())).transpose()?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| OAuthError::payload_too_large())?;
    let params = match body_kind(headers, bytes.is_empty())? {
        BodyKind::Form => Params::from_form(&bytes)?,
        BodyKind::Json if bytes.is_empty() => Params::default(),
        BodyKind::Json => Params::from_json(&bytes)?,
    };
    Ok(OAuthRequest { params, basic })
}

/// Reads a request about one token (introspection, revocation), which only
/// the tenant's own clients may make: authenticates the client and returns
/// it with the `token` parameter.
pub async fn read_token_request(
    services: &Services,
    tenant_id: &str,
    headers: &HeaderMap,
    body: Body,
    now: DateTime<Utc>,
) -> Result<(AuthenticatedClient, String), OAuthError> {
    let parsed = read(headers, body).await?;
    let used_basic = parsed.basic.is_some();
    let credentials =
        authenticate_request(parsed.basic, &parsed.params).map_err(|e| e.with_basic_challenge(used_basic))?;
    let caller = services
        .authenticate_client(tenant_id, &credentials, now)
        .await
        .map_err(|e| e.with_basic_challenge(used_basic))?;
    let token = token_param(&parsed.params)?.to_owned();
    Ok((caller, token))
}
