//! DPoP settings (RFC 9449): `/config/dpop`, whether a tenant's DPoP proofs
//! must carry a server nonce, and `/applications/{clientId}/dpop`, whether an
//! application's tokens must be DPoP-bound. Thin calls of the domain.

use axum::Json;
use axum::extract::State;
use domain::services::DpopConfig as DomainDpopConfig;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Reader, Writer};
use super::model::Application;
use crate::http::AppState;

/// A tenant's DPoP settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DpopConfig {
    /// DPoP proofs at the token endpoint must carry a nonce the server
    /// issued (`use_dpop_nonce` answers hand one out).
    pub nonce_required: bool,
}

/// Whether an application's tokens must be DPoP-bound.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetDpopRequired {
    /// When true, token requests without a DPoP proof are refused.
    pub required: bool,
}

/// Get the DPoP settings
#[utoipa::path(
    get,
    path = "/config/dpop",
    operation_id = "getDpopConfig",
    tag = "config",
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "The DPoP settings", body = DpopConfig)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_dpop_config(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<DpopConfig>, ApiError> {
    let config = state.services.dpop_config(&scope).await?;
    Ok(Json(DpopConfig { nonce_required: config.nonce_required }))
}

/// Set the DPoP settings
///
/// With `nonceRequired`, a DPoP proof without a current server nonce is
/// answered `use_dpop_nonce` with a `DPoP-Nonce` header to retry with.
#[utoipa::path(
    put,
    path = "/config/dpop",
    operation_id = "setDpopConfig",
    tag = "config",
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = DpopConfig,
    responses(
        (status = 200, description = "The DPoP settings now", body = DpopConfig),
        (status = 400, description = "`nonceRequired` missing or not a boolean", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_dpop_config(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(body): ApiJson<DpopConfig>,
) -> Result<Json<DpopConfig>, ApiError> {
    let config = DomainDpopConfig { nonce_required: body.nonce_required };
    let config = state.services.set_dpop_config(&scope, config, state.services.now()).await?;
    Ok(Json(DpopConfig { nonce_required: config.nonce_required }))
}

/// Require DPoP for an application
///
/// With `required`, the application's token requests without a DPoP proof
/// are refused (`invalid_request`); its tokens are all DPoP-bound.
#[utoipa::path(
    put,
    path = "/applications/{clientId}/dpop",
    operation_id = "setApplicationDpop",
    tag = "applications",
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    request_body = SetDpopRequired,
    responses(
        (status = 200, description = "The application with its DPoP requirement", body = Application),
        (status = 400, description = "`required` missing or not a boolean", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_application_dpop(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetDpopRequired>,
) -> Result<Json<Application>, ApiError> {
    let services = &state.services;
    let now = services.now();
    services.set_application_dpop_required(&scope, &client_id, body.required, now).await?;
    Ok(Json(services.get_application(&scope, &client_id, now).await?.into()))
}
