//! Server-side helpers for server functions: the services handle, the
//! session, and the checks every call starts with.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use domain::services::OperatorScope;
use domain::{AccessLevel, GrantedScope, Services, TenantScope};
use leptos::prelude::use_context;
use tower_sessions::Session;

use crate::error::{AppError, ErrorKind};

/// The session key holding the signed-in user's ID.
pub const SESSION_USER_ID: &str = "user_id";

/// Where the server-function handler is mounted (see `server::http`).
const SERVER_FN_PREFIX: &str = "/api/";

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(AppError::internal)
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|_| AppError::internal())
}

/// The client's address, for the audit log and sign-in throttling.
pub async fn source_addr() -> Option<String> {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok().map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Gives a failed server-function call the HTTP status of its error.
///
/// Only direct calls (`/api/...`) are touched: while a page renders on the
/// server, the page itself decides its status (the not-found page sets 404).
pub fn set_error_status(kind: ErrorKind) {
    let is_server_fn_call = use_context::<Parts>().is_some_and(|parts| parts.uri.path().starts_with(SERVER_FN_PREFIX));
    if !is_server_fn_call {
        return;
    }
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), StatusCode::from_u16(kind.http_status()))
    {
        response.set_status(status);
    }
}

/// The signed-in user's ID, or `Unauthenticated`.
pub async fn user_id() -> Result<String, AppError> {
    let session = session().await?;
    session
        .get::<String>(SESSION_USER_ID)
        .await
        .map_err(|_| AppError::internal())?
        .ok_or_else(AppError::unauthenticated)
}

/// The signed-in user's scope at level `A` (`Read` or `Write`) in
/// `tenant_id`: membership and role are checked by the domain's auth, on
/// every call; a viewer asking for `Write` is `Forbidden`.
pub async fn tenant_scope<A: AccessLevel>(tenant_id: &str) -> Result<TenantScope<A>, AppError> {
    let user_id = user_id().await?;
    let services = services()?;
    Ok(services.scope_for_user(&user_id, tenant_id, source_addr().await).await?)
}

/// Whatever the signed-in user may do in `tenant_id`.
pub async fn granted_scope(tenant_id: &str) -> Result<GrantedScope, AppError> {
    let user_id = user_id().await?;
    let services = services()?;
    Ok(services.granted_scope_for_user(&user_id, tenant_id, source_addr().await).await?)
}

/// The signed-in user's operator scope, or `Forbidden`.
pub async fn operator_scope() -> Result<OperatorScope, AppError> {
    let user_id = user_id().await?;
    let services = services()?;
    Ok(services.operator_scope_for_user(&user_id, source_addr().await).await?)
}

/// The dashboard's text form of a time: RFC 3339 in UTC, to the second.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
