//! `/applications`: App ID's application routes, secret rotation and
//! management access. Each handler is a thin call of one domain service.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clavis_types::{DEFAULT_GRACE_SECS, ManagementAccess};
use domain::services::{ApplicationUpdate, ListQuery, MAX_APPLICATION_PAGE, NewApplication};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson, Reader, Writer};
use super::model::{
    Application, ApplicationList, CreateApplication, ListApplicationsParams, RenameApplication, RevokedTokens,
    RotateSecret, RotatedSecret, SetManagementAccess,
};
use crate::http::AppState;

const TAG: &str = "applications";

/// The path of a single application: `{tenantId}` and `{clientId}`.
type ClientPath = ApiPath<(String, String)>;

/// List applications
///
/// Newest first, `limit` at a time; follow `nextCursor` for more.
#[utoipa::path(
    get,
    path = "/applications",
    operation_id = "listApplications",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ListApplicationsParams),
    responses(
        (status = 200, description = "A page of applications", body = ApplicationList),
        (status = 400, description = "Invalid `limit` or `cursor`", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_applications(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiQuery(params): ApiQuery<ListApplicationsParams>,
) -> Result<Json<ApplicationList>, ApiError> {
    if params.limit.is_some_and(|limit| !(1..=MAX_APPLICATION_PAGE).contains(&limit)) {
        return Err(ApiError::invalid_request(format!("limit must be 1 to {MAX_APPLICATION_PAGE}")));
    }
    let query = ListQuery { limit: params.limit, after: page_cursor(params.cursor)?, filter: None };
    let page = state.services.list_applications(&scope, query, state.services.now()).await?;
    Ok(Json(ApplicationList {
        applications: page.applications.into_iter().map(Application::from).collect(),
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

/// The `cursor` of a listing, checked against the pattern the document
/// gives it: what `nextCursor` holds (`createdAt:clientId`), or nothing.
///
/// An empty value is the first page, as a missing one is: the document
/// allows it, and a form that always sends the field sends it empty. Any
/// other value outside the pattern is a 400 before it reaches a query (a NUL
/// byte, for one, is a database error on PostgreSQL).
fn page_cursor(cursor: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(cursor) = cursor.filter(|cursor| !cursor.is_empty()) else {
        return Ok(None);
    };
    let well_formed = cursor.split_once(':').is_some_and(|(created, client_id)| {
        (1..=18).contains(&created.len()) && created.bytes().all(|b| b.is_ascii_digit()) && is_client_id(client_id)
    });
    if !well_formed {
        return Err(ApiError::invalid_request("invalid cursor"));
    }
    Ok(Some(cursor))
}

/// A client ID as Clavis writes it: a hyphenated lowercase UUID.
fn is_client_id(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Register an application
///
/// App ID's call: the answer carries the client secret, shown only here.
#[utoipa::path(
    post,
    path = "/applications",
    operation_id = "createApplication",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = CreateApplication,
    responses(
        (status = 201, description = "The new application with its secret", body = Application),
        (status = 400, description = "Invalid name or body", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn create_application(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(body): ApiJson<CreateApplication>,
) -> Result<(StatusCode, Json<Application>), ApiError> {
    let management = body.management_access.map_or(ManagementAccess::None, Into::into);
    let new = NewApplication { name: body.name, management, identifier: body.identifier };
    let app = state.services.create_application_with(&scope, new, state.services.now()).await?;
    Ok((StatusCode::CREATED, Json(app.into())))
}

/// Get an application
#[utoipa::path(
    get,
    path = "/applications/{clientId}",
    operation_id = "getApplication",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    responses(
        (status = 200, description = "The application (without its secret)", body = Application),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_application(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, client_id)): ClientPath,
) -> Result<Json<Application>, ApiError> {
    let app = state.services.get_application(&scope, &client_id, state.services.now()).await?;
    Ok(Json(app.into()))
}

/// Rename an application
#[utoipa::path(
    put,
    path = "/applications/{clientId}",
    operation_id = "renameApplication",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    request_body = RenameApplication,
    responses(
        (status = 200, description = "The renamed application", body = Application),
        (status = 400, description = "Invalid name or body", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn rename_application(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ClientPath,
    ApiJson(body): ApiJson<RenameApplication>,
) -> Result<Json<Application>, ApiError> {
    let update = ApplicationUpdate { name: body.name, identifier: body.identifier };
    let app = state.services.update_application(&scope, &client_id, update, state.services.now()).await?;
    Ok(Json(app.into()))
}

/// Delete an application
///
/// Its secrets stop working at once. An application cannot delete itself.
#[utoipa::path(
    delete,
    path = "/applications/{clientId}",
    operation_id = "deleteApplication",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The caller tried to delete itself", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn delete_application(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ClientPath,
) -> Result<StatusCode, ApiError> {
    state.services.delete_application(&scope, &client_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate the client secret
///
/// Issues a new secret. The previous one keeps working for `graceSeconds`
/// (default 86400); a secret older than that stops at once.
#[utoipa::path(
    post,
    path = "/applications/{clientId}/secret",
    operation_id = "rotateSecret",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    request_body(content = Option<RotateSecret>, description = "Optional; an empty body uses the defaults"),
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
        (status = 400, description = "Invalid grace period or body", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ClientPath,
    OptionalJson(body): OptionalJson<RotateSecret>,
) -> Result<Json<RotatedSecret>, ApiError> {
    let now = state.services.now();
    let grace = body.as_ref().and_then(|body| body.grace_seconds).unwrap_or(DEFAULT_GRACE_SECS);
    let rotated = state.services.rotate_secret(&scope, &client_id, grace, now).await?;
    if body.is_some_and(|body| body.revoke_tokens) {
        state.services.revoke_application_tokens(&scope, &client_id, now).await?;
    }
    Ok(Json(rotated.into()))
}

/// Revoke every token of an application
///
/// The kill switch: every token issued to it so far fails introspection and
/// this API at once. Resource servers that validate offline accept them
/// until they expire.
#[utoipa::path(
    post,
    path = "/applications/{clientId}/tokens/revoke",
    operation_id = "revokeApplicationTokens",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    responses((status = 200, description = "The moment of the revocation", body = RevokedTokens)),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn revoke_tokens(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ClientPath,
) -> Result<Json<RevokedTokens>, ApiError> {
    let before = state.services.revoke_application_tokens(&scope, &client_id, state.services.now()).await?;
    Ok(Json(RevokedTokens { client_id, revoked_before: crate::wire::rfc3339(before) }))
}

/// Revoke the previous client secret
///
/// Ends the previous secret's grace period now.
#[utoipa::path(
    delete,
    path = "/applications/{clientId}/secret/previous",
    operation_id = "revokePreviousSecret",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    responses(
        (status = 204, description = "The previous secret no longer works"),
        (status = 404, description = "Unknown tenant or application, or no previous secret", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn revoke_previous_secret(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ClientPath,
) -> Result<StatusCode, ApiError> {
    state.services.revoke_previous_secret(&scope, &client_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set management access
///
/// What the application may do with this API: `none`, `read` or `write`.
/// Its tokens follow at once. An application cannot change its own access.
#[utoipa::path(
    put,
    path = "/applications/{clientId}/management",
    operation_id = "setManagementAccess",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
    ),
    request_body = SetManagementAccess,
    responses(
        (status = 200, description = "The application with its new access", body = Application),
        (status = 400, description = "Invalid access level or body", body = ErrorBody),
        (status = 409, description = "The caller tried to change its own access", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_management_access(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ClientPath,
    ApiJson(body): ApiJson<SetManagementAccess>,
) -> Result<Json<Application>, ApiError> {
    let app =
        state.services.set_management_access(&scope, &client_id, body.access.into(), state.services.now()).await?;
    Ok(Json(app.into()))
}
