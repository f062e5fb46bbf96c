//! `/applications/{clientId}/usage`: tokens issued per minute, for
//! dashboards and alerting outside Clavis.

use axum::Json;
use axum::extract::State;
use clavis_types::DEFAULT_USAGE_MINUTES;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, Reader};
use super::model::{TokenUsage, UsageParams};
use crate::http::AppState;
use crate::wire::rfc3339;

/// Read an application's token usage
///
/// Tokens issued per minute over the last `minutes` minutes (the current
/// minute last). Counts are written in batches every few seconds, so the
/// newest minute may still grow.
#[utoipa::path(
    get,
    path = "/applications/{clientId}/usage",
    operation_id = "getApplicationUsage",
    tag = "applications",
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
        UsageParams,
    ),
    responses(
        (status = 200, description = "Tokens issued per minute", body = TokenUsage),
        (status = 400, description = "Invalid `minutes`", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_usage(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> Result<Json<TokenUsage>, ApiError> {
    let minutes = params.minutes.unwrap_or(DEFAULT_USAGE_MINUTES);
    let usage = state.services.token_usage(&scope, &client_id, minutes, state.services.now()).await?;
    let tokens_issued = usage.total();
    Ok(Json(TokenUsage { client_id, from: rfc3339(usage.from), tokens_issued, per_minute: usage.per_minute }))
}
