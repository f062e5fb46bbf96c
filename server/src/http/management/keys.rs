//! `/keys`: the tenant's signing keys (list, rotate, revoke) and
//! `/config/keys/rotation`, its scheduled rotation; each a domain call, the
//! same ones the dashboard's Signing keys page and `clavis keys` make.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::services::KeyRotation;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, OptionalJson, Reader, Writer};
use super::model::{KeyRotationConfig, Object, RevokedKey, RotateKey, SigningAlg, SigningKey, SigningKeyList};
use crate::http::AppState;

const TAG: &str = "keys";

/// List the signing keys
///
/// Newest first, with what each one does now. Public facts only.
#[utoipa::path(
    get,
    path = "/keys",
    operation_id = "listSigningKeys",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "The tenant's keys", body = SigningKeyList)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_keys(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<SigningKeyList>, ApiError> {
    let keys = state.services.list_signing_keys(&scope, state.services.now()).await?;
    Ok(Json(SigningKeyList { keys: keys.into_iter().map(SigningKey::from).collect() }))
}

/// Rotate the signing key
///
/// A new key signs from now on; the replaced one stays in the JWKS until
/// every token it signed has expired.
#[utoipa::path(
    post,
    path = "/keys/rotate",
    operation_id = "rotateSigningKey",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body(content = Option<RotateKey>, description = "Optional; an empty body keeps the tenant's algorithm"),
    responses(
        (status = 201, description = "The new active key", body = SigningKey),
        (status = 400, description = "Unknown algorithm or invalid body", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn rotate_key(
    State(state): State<AppState>,
    Writer(scope): Writer,
    OptionalJson(body): OptionalJson<Object<RotateKey>>,
) -> Result<(StatusCode, Json<SigningKey>), ApiError> {
    let alg = body.and_then(|Object(body)| body.alg).map(SigningAlg::algorithm);
    let services = &state.services;
    let now = services.now();
    let kid = services.rotate_signing_key(&scope, alg, now).await?;
    let key = services
        .list_signing_keys(&scope, now)
        .await?
        .into_iter()
        .find(|key| key.kid == kid)
        .ok_or(domain::Error::NotFound("signing key"))?;
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// Revoke a signing key
///
/// The key leaves the JWKS at once and no token it signed verifies here; if
/// it was the active key, a new one takes over.
#[utoipa::path(
    post,
    path = "/keys/{kid}/revoke",
    operation_id = "revokeSigningKey",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("kid" = String, Path, description = "Key ID")),
    responses(
        (status = 200, description = "Revoked, and the key that signs now", body = RevokedKey),
        (status = 404, description = "Unknown tenant, or no such key in this tenant", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn revoke_key(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, kid)): ApiPath<(String, String)>,
) -> Result<Json<RevokedKey>, ApiError> {
    let active_kid = state.services.revoke_signing_key(&scope, &kid, state.services.now()).await?;
    Ok(Json(RevokedKey { revoked_kid: kid, active_kid }))
}

/// Get the rotation schedule
#[utoipa::path(
    get,
    path = "/config/keys/rotation",
    operation_id = "getKeyRotation",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "The schedule (90 days proposed while off)", body = KeyRotationConfig)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_rotation(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<KeyRotationConfig>, ApiError> {
    Ok(Json(state.services.key_rotation(&scope).await?.into()))
}

/// Set the rotation schedule
///
/// When on, the next key is published in the JWKS an hour before the
/// active key has signed for `interval_days`, and signs from then on.
#[utoipa::path(
    put,
    path = "/config/keys/rotation",
    operation_id = "setKeyRotation",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = KeyRotationConfig,
    responses(
        (status = 200, description = "The schedule now", body = KeyRotationConfig),
        (status = 400, description = "`interval_days` outside 1 to 365, or an invalid body", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_rotation(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(Object(body)): ApiJson<Object<KeyRotationConfig>>,
) -> Result<Json<KeyRotationConfig>, ApiError> {
    let interval_days =
        u32::try_from(body.interval_days).map_err(|_| ApiError::invalid_request("interval_days must be 1 to 365"))?;
    let rotation = KeyRotation { enabled: body.enabled, interval_days };
    Ok(Json(state.services.set_key_rotation(&scope, rotation, state.services.now()).await?.into()))
}
