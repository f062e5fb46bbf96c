//! `/applications/{clientId}/scopes`: the scopes a protected application
//! defines (App ID's "application with scopes").

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Reader, Writer};
use super::model::Scopes;
use crate::http::AppState;

const TAG: &str = "access control";

/// List an application's scopes
#[utoipa::path(
    get,
    path = "/applications/{clientId}/scopes",
    operation_id = "getApplicationScopes",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID of the protected application"),
    ),
    responses((status = 200, description = "The scopes it defines", body = Scopes)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_scopes(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
) -> Result<Json<Scopes>, ApiError> {
    Ok(Json(Scopes { scopes: state.services.application_scopes(&scope, &client_id).await? }))
}

/// Replace an application's scopes
///
/// A scope removed here is removed from every role that granted it.
#[utoipa::path(
    put,
    path = "/applications/{clientId}/scopes",
    operation_id = "setApplicationScopes",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID of the protected application"),
    ),
    request_body = Scopes,
    responses(
        (status = 200, description = "The new scopes", body = Scopes),
        (status = 400, description = "A scope name breaks a rule (named in the message); nothing changed", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_scopes(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Scopes>,
) -> Result<Json<Scopes>, ApiError> {
    let scopes = state.services.set_application_scopes(&scope, &client_id, body.scopes, state.services.now()).await?;
    Ok(Json(Scopes { scopes }))
}
