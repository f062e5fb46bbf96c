//! The OAuth server of each tenant, under `/oauth/v4/{tenantId}` (and the
//! older `/oauth/v3/{tenantId}`).

mod discovery;
mod introspect;
mod request;
mod response;
mod revoke;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use domain::Services;
use domain::services::{TenantRuntime, oauth_failure};

use super::AppState;

/// Largest request body the OAuth endpoints read; token requests are tiny.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    let tenant_routes = Router::new()
        .route("/token", post(token::token))
        .route("/publickeys", get(discovery::jwks))
        .route("/.well-known/openid-configuration", get(discovery::metadata))
        .route("/.well-known/oauth-authorization-server", get(discovery::metadata))
        .route("/introspect", post(introspect::introspect))
        .route("/revoke", post(revoke::revoke));
    Router::new().nest("/oauth/v4/{tenant_id}", tenant_routes.clone()).nest("/oauth/v3/{tenant_id}", tenant_routes)
}

/// The tenant's runtime, or the response to send instead (404, 503).
async fn tenant_runtime(
    services: &Services,
    tenant_id: &str,
    now: DateTime<Utc>,
) -> Result<Arc<TenantRuntime>, Response> {
    // Tenant IDs are UUIDs; anything else is answered without a query.
    if uuid::Uuid::parse_str(tenant_id).is_err() {
        return Err(response::unknown_tenant());
    }
    match services.tenant_runtime(tenant_id, now).await {
        Ok(Some(runtime)) => Ok(runtime),
        Ok(None) => Err(response::unknown_tenant()),
        Err(err) => Err(response::oauth_error(&oauth_failure(&err), None)),
    }
}

/// A request about one token (introspection, revocation) whose tenant is
/// known and whose client has authenticated.
struct TokenCall {
    runtime: Arc<TenantRuntime>,
    caller: domain::services::AuthenticatedClient,
    token: String,
}

impl TokenCall {
    /// Resolves the tenant, authenticates the client and reads `token`, or
    /// returns the response to send instead.
    async fn read(
        services: &Services,
        tenant_id: &str,
        headers: &axum::http::HeaderMap,
        body: axum::body::Body,
        now: DateTime<Utc>,
    ) -> Result<Self, Response> {
        let runtime = tenant_runtime(services, tenant_id, now).await?;
        match request::read_token_request(services, &runtime.tenant_id, headers, body, now).await {
            Ok((caller, token)) => Ok(Self { runtime, caller, token }),
            Err(err) => Err(response::oauth_error(&err, Some(runtime.issuer.as_str()))),
        }
    }
}
