//! The OAuth server of each tenant, under `/oauth/v4/{tenantId}` (and the
//! older `/oauth/v3/{tenantId}`).

mod discovery;
mod introspect;
mod request;
mod response;
mod revoke;
mod token;

use axum::Router;
use axum::routing::{get, post};

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
