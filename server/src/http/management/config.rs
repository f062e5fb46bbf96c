//! `/config/tokens`: App ID's token settings of a tenant (access and
//! refresh tokens), and `/config/cloud_directory/password_policy`, Clavis's
//! password rules for the tenant's Cloud Directory users.

use axum::Json;
use axum::extract::State;
use domain::services::{MAX_REFRESH_LIFETIME_SECS, RefreshConfig};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Reader, Writer};
use super::model::{AccessTokenConfig, Object, PasswordPolicy, RefreshTokenConfig, TokenConfig};
use crate::http::AppState;

const TAG: &str = "config";

/// The shortest refresh-token lifetime the domain accepts. The range is
/// checked here too, before anything is written, so that a `PUT` whose
/// refresh part is refused does not change the access part either.
const MIN_REFRESH_LIFETIME_SECS: i64 = 60;

fn to_wire(config: domain::services::TokenConfig, refresh: RefreshConfig) -> TokenConfig {
    TokenConfig {
        access: AccessTokenConfig { expires_in: config.access_expires_in },
        refresh: Some(RefreshTokenConfig { enabled: refresh.enabled, expires_in: refresh.expires_in }),
    }
}

/// Get the token settings
#[utoipa::path(
    get,
    path = "/config/tokens",
    operation_id = "getTokenConfig",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "The token settings", body = TokenConfig)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_token_config(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<TokenConfig>, ApiError> {
    let services = &state.services;
    Ok(Json(to_wire(services.token_config(&scope).await?, services.refresh_config(&scope).await?)))
}

/// Set the token settings
///
/// Tokens issued before keep their lifetime. Without `refresh`, the
/// refresh settings stay as they are.
#[utoipa::path(
    put,
    path = "/config/tokens",
    operation_id = "setTokenConfig",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = TokenConfig,
    responses(
        (status = 200, description = "The token settings now", body = TokenConfig),
        (status = 400, description = "`access.expires_in` outside 300 to 86400, or `refresh.expires_in` outside 60 to 7776000", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_token_config(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(Object(body)): ApiJson<Object<TokenConfig>>,
) -> Result<Json<TokenConfig>, ApiError> {
    let services = &state.services;
    let now = services.now();
    let refresh =
        body.refresh.map(|refresh| RefreshConfig { enabled: refresh.enabled, expires_in: refresh.expires_in });
    if refresh
        .is_some_and(|refresh| !(MIN_REFRESH_LIFETIME_SECS..=MAX_REFRESH_LIFETIME_SECS).contains(&refresh.expires_in))
    {
        return Err(ApiError::invalid_request(format!(
            "refresh.expires_in must be {MIN_REFRESH_LIFETIME_SECS} to {MAX_REFRESH_LIFETIME_SECS} seconds"
        )));
    }
    let config = domain::services::TokenConfig { access_expires_in: body.access.expires_in };
    let config = services.set_token_config(&scope, config, now).await?;
    let refresh = match refresh {
        Some(refresh) => services.set_refresh_config(&scope, refresh, now).await?,
        None => services.refresh_config(&scope).await?,
    };
    Ok(Json(to_wire(config, refresh)))
}

/// Get the password policy
///
/// Clavis's own route: the rules for new passwords of the tenant's Cloud
/// Directory users.
#[utoipa::path(
    get,
    path = "/config/cloud_directory/password_policy",
    operation_id = "getPasswordPolicy",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "The password policy", body = PasswordPolicy)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_password_policy(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<PasswordPolicy>, ApiError> {
    Ok(Json(state.services.directory_password_policy(&scope).await?.into()))
}

/// Set the password policy
///
/// Applies to passwords set from now on; existing passwords keep working.
#[utoipa::path(
    put,
    path = "/config/cloud_directory/password_policy",
    operation_id = "setPasswordPolicy",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = PasswordPolicy,
    responses(
        (status = 200, description = "The password policy now", body = PasswordPolicy),
        (status = 400, description = "`minLength` outside 8 to 64", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_password_policy(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(Object(body)): ApiJson<Object<PasswordPolicy>>,
) -> Result<Json<PasswordPolicy>, ApiError> {
    let policy = body.try_into().map_err(ApiError::invalid_request)?;
    let policy = state.services.set_directory_password_policy(&scope, policy, state.services.now()).await?;
    Ok(Json(policy.into()))
}
