//! `/audit`: the tenant's audit log, newest first.

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Reader};
use super::model::{AuditEntry, AuditLog, AuditParams};
use crate::http::AppState;

/// Read the audit log
///
/// Every administrative act in the tenant, newest first, `limit` at a
/// time; pass `nextBefore` as `before` for older entries.
#[utoipa::path(
    get,
    path = "/audit",
    operation_id = "listAudit",
    tag = "audit",
    params(("tenantId" = String, Path, description = "Tenant ID"), AuditParams),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditLog),
        (status = 400, description = "Invalid `limit` or `before`", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_audit(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditLog>, ApiError> {
    let page = state.services.list_audit(&scope, params.limit, params.before).await?;
    Ok(Json(AuditLog {
        entries: page.entries.into_iter().map(AuditEntry::from).collect(),
        next_before: page.next_before,
    }))
}
