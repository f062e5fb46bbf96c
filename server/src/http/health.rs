//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use super::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// How long readiness waits for the database. A balancer's health check
/// gives up after about a second; answering 503 before that marks a replica
/// whose database is away as down at once, instead of after timed-out checks
/// (a query would otherwise wait the pool's whole acquire timeout).
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// `GET /readyz`: the database answers too, within half a second.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let ready = tokio::time::timeout(READY_TIMEOUT, state.services.database_ready()).await.unwrap_or(false);
    if ready {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "reason": "database"})))
    }
}
