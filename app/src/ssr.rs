//! Server-side helpers for server functions: the services handle, the
//! session, and the checks every call starts with.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use domain::{Services, TenantScope};
use tower_sessions::Session;

use crate::error::AppError;

/// The session key holding the signed-in user's ID.
pub const SESSION_USER_ID: &str = "user_id";

pub fn services() -> Result<Services, AppError> {
    leptos::prelude::use_context::<Services>().ok_or_else(AppError::internal)
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|_| AppError::internal())
}

/// The client's address, for the audit log and sign-in throttling.
pub async fn source_addr() -> Option<String> {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
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

/// The signed-in user's scope in `tenant_id`.
pub async fn tenant_scope(tenant_id: &str) -> Result<TenantScope, AppError> {
    let user_id = user_id().await?;
    let services = services()?;
    Ok(services.scope_for_user(&user_id, tenant_id, source_addr().await).await?)
}
