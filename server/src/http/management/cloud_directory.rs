//! `/cloud_directory/…` and `/users/{profileId}/roles`: App ID's management
//! of a tenant's Cloud Directory users (sign-up, SCIM listing and search,
//! replacement, password change, deletion) and of the roles they hold.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::services::{
    DEFAULT_DIRECTORY_PAGE, DirectoryQuery, DirectoryUser, DirectoryUserUpdate, MAX_DIRECTORY_PAGE,
    MAX_DIRECTORY_QUERY_CHARS, NewDirectoryUser, UserStatus,
};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Reader, Writer};
use super::model::{
    ChangePassword, EmailInput, ListUsersParams, NameInput, Object, SetApplicationRoles, SignUpBody, SignUpParams,
    User, UserBody, UserList, UserRoles,
};
use crate::http::AppState;

const TAG: &str = "cloud directory";

/// The largest `startIndex` a listing accepts, as the document states it.
const MAX_START_INDEX: u64 = i32::MAX as u64;

/// The path of a single user: `{tenantId}` and `{userId}`.
type UserPath = ApiPath<(String, String)>;

/// The user in App ID's shape, located under the caller's tenant.
fn answer(state: &AppState, tenant_id: &str, user: DirectoryUser) -> User {
    User::new(user, &state.services.management_url(tenant_id))
}

/// The user's email: the primary one, or else the first.
fn chosen_email(emails: Vec<EmailInput>) -> Result<String, ApiError> {
    let mut first = None;
    for email in emails {
        if email.primary == Some(true) {
            return Ok(email.value);
        }
        first.get_or_insert(email.value);
    }
    first.ok_or_else(|| ApiError::invalid_request("emails must name at least one email"))
}

fn status(text: Option<&str>) -> Result<UserStatus, ApiError> {
    Ok(text.map(UserStatus::parse).transpose()?.unwrap_or(UserStatus::Confirmed))
}

fn names(name: Option<NameInput>) -> (String, String) {
    let name = name.unwrap_or_default();
    (name.given_name.unwrap_or_default(), name.family_name.unwrap_or_default())
}

/// Sign up a user
///
/// App ID's call. Every user has a profile; `shouldCreateProfile` and
/// `language` are accepted and ignored. The email must not be in the tenant
/// yet, in any case.
#[utoipa::path(
    post,
    path = "/cloud_directory/sign_up",
    operation_id = "signUpUser",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), SignUpParams),
    request_body = SignUpBody,
    responses(
        (status = 201, description = "The new user", body = User,
            headers(("Location" = String, description = "The new user's URL (RFC 7644 §3.3)"))),
        (status = 400, description = "Missing or invalid email, name, status or query, or a password the policy refuses", body = ErrorBody),
        (status = 409, description = "A user with this email exists in the tenant", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn sign_up(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiQuery(_params): ApiQuery<SignUpParams>,
    ApiJson(Object(body)): ApiJson<Object<SignUpBody>>,
) -> Result<Response, ApiError> {
    let (given_name, family_name) = names(body.name);
    let new = NewDirectoryUser {
        email: chosen_email(body.emails)?,
        user_name: body.user_name,
        password: body.password,
        given_name,
        family_name,
        active: body.active.unwrap_or(true),
        status: status(body.status.as_deref())?,
    };
    let created = state.services.sign_up_directory_user(&scope, new, state.services.now()).await?;
    let created = answer(&state, scope.tenant_id(), created);
    let mut response = (StatusCode::CREATED, Json(&created)).into_response();
    if let Ok(location) = HeaderValue::from_str(&created.meta.location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// List and search users
///
/// SCIM's listing (RFC 7644 §3.4.2), oldest first: `query` matches the
/// email, user name, given or family name anywhere, ignoring case.
#[utoipa::path(
    get,
    path = "/cloud_directory/Users",
    operation_id = "listUsers",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ListUsersParams),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 400, description = "Invalid `query`, `startIndex` or `count`", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_users(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiQuery(params): ApiQuery<ListUsersParams>,
) -> Result<Json<UserList>, ApiError> {
    let start_index = params.start_index.unwrap_or(1);
    if !(1..=MAX_START_INDEX).contains(&start_index) {
        return Err(ApiError::invalid_request(format!("startIndex must be 1 to {MAX_START_INDEX}")));
    }
    let count = params.count.unwrap_or(DEFAULT_DIRECTORY_PAGE);
    if count > MAX_DIRECTORY_PAGE {
        return Err(ApiError::invalid_request(format!("count must be 0 to {MAX_DIRECTORY_PAGE}")));
    }
    if let Some(query) = &params.query {
        // Counted before trimming, as the document's maxLength counts. A
        // control character (NUL above all) never reaches a query.
        if query.chars().count() > MAX_DIRECTORY_QUERY_CHARS || query.chars().any(char::is_control) {
            return Err(ApiError::invalid_request(format!(
                "query must be at most {MAX_DIRECTORY_QUERY_CHARS} characters without control characters"
            )));
        }
    }
    let query = DirectoryQuery { query: params.query, start_index, count };
    let page = state.services.list_directory_users(&scope, &query).await?;
    let resources: Vec<User> = page.users.into_iter().map(|user| answer(&state, scope.tenant_id(), user)).collect();
    Ok(Json(UserList {
        total_results: page.total_results,
        items_per_page: resources.len() as u64,
        start_index: page.start_index,
        resources,
    }))
}

/// Get a user
#[utoipa::path(
    get,
    path = "/cloud_directory/Users/{userId}",
    operation_id = "getUser",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("userId" = String, Path, description = "User ID")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "Unknown tenant or user", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_user(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, user_id)): UserPath,
) -> Result<Json<User>, ApiError> {
    let found = state.services.directory_user(&scope, &user_id).await?;
    Ok(Json(answer(&state, scope.tenant_id(), found)))
}

/// Replace a user
///
/// App ID's call: the body replaces the profile (`sign_up`'s body; a
/// password, when present, is set too). Disabling the user or setting a
/// password ends their refresh tokens.
#[utoipa::path(
    put,
    path = "/cloud_directory/Users/{userId}",
    operation_id = "replaceUser",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("userId" = String, Path, description = "User ID")),
    request_body = UserBody,
    responses(
        (status = 200, description = "The user as it is now", body = User),
        (status = 400, description = "Missing or invalid email, name or status, or a password the policy refuses", body = ErrorBody),
        (status = 404, description = "Unknown tenant or user", body = ErrorBody),
        (status = 409, description = "Another user of the tenant has this email", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn replace_user(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, user_id)): UserPath,
    ApiJson(Object(body)): ApiJson<Object<UserBody>>,
) -> Result<Json<User>, ApiError> {
    let (given_name, family_name) = names(body.name);
    let update = DirectoryUserUpdate {
        email: chosen_email(body.emails)?,
        user_name: body.user_name,
        given_name,
        family_name,
        active: body.active.unwrap_or(true),
        status: status(body.status.as_deref())?,
        password: body.password,
    };
    let updated = state.services.update_directory_user(&scope, &user_id, update, state.services.now()).await?;
    Ok(Json(answer(&state, scope.tenant_id(), updated)))
}

/// Delete a user
///
/// With their roles and refresh tokens.
#[utoipa::path(
    delete,
    path = "/cloud_directory/Users/{userId}",
    operation_id = "deleteUser",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("userId" = String, Path, description = "User ID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Unknown tenant or user", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn delete_user(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, user_id)): UserPath,
) -> Result<StatusCode, ApiError> {
    state.services.delete_directory_user(&scope, &user_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a user's password
///
/// App ID's call: `uuid` is the user ID (`changedIpAddress` is ignored).
/// Ends the user's refresh tokens.
#[utoipa::path(
    post,
    path = "/cloud_directory/change_password",
    operation_id = "changeUserPassword",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "The user", body = User),
        (status = 400, description = "A password the policy refuses", body = ErrorBody),
        (status = 404, description = "Unknown tenant or user", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn change_password(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(Object(body)): ApiJson<Object<ChangePassword>>,
) -> Result<Json<User>, ApiError> {
    let now = state.services.now();
    let changed = state.services.change_directory_password(&scope, &body.uuid, body.new_password, now).await?;
    Ok(Json(answer(&state, scope.tenant_id(), changed)))
}

/// List a user's roles
#[utoipa::path(
    get,
    path = "/users/{profileId}/roles",
    operation_id = "getUserRoles",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("profileId" = String, Path, description = "The user's profile ID")),
    responses(
        (status = 200, description = "The roles the user holds", body = UserRoles),
        (status = 404, description = "Unknown tenant or user", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_user_roles(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, profile_id)): ApiPath<(String, String)>,
) -> Result<Json<UserRoles>, ApiError> {
    let roles = state.services.directory_user_roles(&scope, &profile_id).await?;
    Ok(Json(UserRoles { roles: roles.into_iter().map(Into::into).collect() }))
}

/// Replace a user's roles
///
/// App ID's body `{"roles": {"ids": [...]}}`; every role must be one of the
/// tenant's. The user's next tokens carry what the roles grant.
#[utoipa::path(
    put,
    path = "/users/{profileId}/roles",
    operation_id = "setUserRoles",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("profileId" = String, Path, description = "The user's profile ID")),
    request_body = SetApplicationRoles,
    responses(
        (status = 200, description = "The roles the user holds now", body = UserRoles),
        (status = 404, description = "Unknown tenant, user or role", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_user_roles(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, profile_id)): ApiPath<(String, String)>,
    ApiJson(Object(body)): ApiJson<Object<SetApplicationRoles>>,
) -> Result<Json<UserRoles>, ApiError> {
    let now = state.services.now();
    let roles = state.services.set_directory_user_roles(&scope, &profile_id, &body.roles.ids, now).await?;
    Ok(Json(UserRoles { roles: roles.into_iter().map(Into::into).collect() }))
}
