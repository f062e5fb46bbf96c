//! `/roles` and `/applications/{clientId}/roles`: App ID's roles, and the
//! roles a calling application holds.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Reader, Writer};
use super::model::{ApplicationRoles, Role, RoleBody, RoleList, SetApplicationRoles};
use crate::http::AppState;

const TAG: &str = "access control";

/// List roles
#[utoipa::path(
    get,
    path = "/roles",
    operation_id = "listRoles",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "Every role of the tenant, by name", body = RoleList)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_roles(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<RoleList>, ApiError> {
    let roles = state.services.list_roles(&scope).await?;
    Ok(Json(RoleList { roles: roles.into_iter().map(Role::from).collect() }))
}

/// Create a role
///
/// A role may name only scopes its applications define; at most 50 roles
/// per tenant, names unique.
#[utoipa::path(
    post,
    path = "/roles",
    operation_id = "createRole",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = RoleBody,
    responses(
        (status = 201, description = "The new role", body = Role),
        (status = 400, description = "Invalid name, description or scope", body = ErrorBody),
        (status = 409, description = "The name is taken, or the tenant has 50 roles", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn create_role(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<(StatusCode, Json<Role>), ApiError> {
    let role = state.services.create_role(&scope, body.into(), state.services.now()).await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// Get a role
#[utoipa::path(
    get,
    path = "/roles/{roleId}",
    operation_id = "getRole",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("roleId" = String, Path, description = "Role ID")),
    responses((status = 200, description = "The role", body = Role)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_role(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, role_id)): ApiPath<(String, String)>,
) -> Result<Json<Role>, ApiError> {
    Ok(Json(state.services.get_role(&scope, &role_id).await?.into()))
}

/// Replace a role
#[utoipa::path(
    put,
    path = "/roles/{roleId}",
    operation_id = "updateRole",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("roleId" = String, Path, description = "Role ID")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The role as it is now", body = Role),
        (status = 400, description = "Invalid name, description or scope", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn update_role(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, role_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Json<Role>, ApiError> {
    Ok(Json(state.services.update_role(&scope, &role_id, body.into(), state.services.now()).await?.into()))
}

/// Delete a role
///
/// The applications holding it lose what it granted.
#[utoipa::path(
    delete,
    path = "/roles/{roleId}",
    operation_id = "deleteRole",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("roleId" = String, Path, description = "Role ID")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn delete_role(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, role_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_role(&scope, &role_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List an application's roles
#[utoipa::path(
    get,
    path = "/applications/{clientId}/roles",
    operation_id = "getApplicationRoles",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    responses((status = 200, description = "The roles it holds", body = ApplicationRoles)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_application_roles(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
) -> Result<Json<ApplicationRoles>, ApiError> {
    let roles = state.services.application_roles(&scope, &client_id).await?;
    Ok(Json(ApplicationRoles { roles: roles.into_iter().map(Into::into).collect() }))
}

/// Replace an application's roles
#[utoipa::path(
    put,
    path = "/applications/{clientId}/roles",
    operation_id = "setApplicationRoles",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    request_body = SetApplicationRoles,
    responses((status = 200, description = "The roles it holds now", body = ApplicationRoles)),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_application_roles(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetApplicationRoles>,
) -> Result<Json<ApplicationRoles>, ApiError> {
    let now = state.services.now();
    let roles = state.services.set_application_roles(&scope, &client_id, &body.roles.ids, now).await?;
    Ok(Json(ApplicationRoles { roles: roles.into_iter().map(Into::into).collect() }))
}
