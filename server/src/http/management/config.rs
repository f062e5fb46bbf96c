//! `/config/tokens`: App ID's token settings of a tenant.

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Reader, Writer};
use super::model::{AccessTokenConfig, TokenConfig};
use crate::http::AppState;

const TAG: &str = "config";

fn to_wire(config: domain::services::TokenConfig) -> TokenConfig {
    TokenConfig { access: AccessTokenConfig { expires_in: config.access_expires_in } }
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
    Ok(Json(to_wire(state.services.token_config(&scope).await?)))
}

/// Set the token settings
///
/// Tokens issued before keep their lifetime.
#[utoipa::path(
    put,
    path = "/config/tokens",
    operation_id = "setTokenConfig",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = TokenConfig,
    responses(
        (status = 200, description = "The token settings now", body = TokenConfig),
        (status = 400, description = "`expires_in` outside 300 to 86400", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_token_config(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(body): ApiJson<TokenConfig>,
) -> Result<Json<TokenConfig>, ApiError> {
    let config = domain::services::TokenConfig { access_expires_in: body.access.expires_in };
    Ok(Json(to_wire(state.services.set_token_config(&scope, config, state.services.now()).await?)))
}
