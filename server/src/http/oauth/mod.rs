//! The OAuth server of each tenant, under `/oauth/v4/{tenantId}` (and the
//! older `/oauth/v3/{tenantId}`).

mod discovery;
mod introspect;
mod request;
mod response;
mod revoke;
mod token;
mod userinfo;

use axum::Router;
use axum::routing::{get, post};

use domain::Services;

/// Largest request body the OAuth endpoints read; token requests are tiny.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn routes() -> Router<Services> {
    let tenant_routes = Router::new()
        .route("/token", post(token::token))
        .route("/publickeys", get(discovery::jwks))
        .route("/.well-known/openid-configuration", get(discovery::metadata))
        .route("/.well-known/oauth-authorization-server", get(discovery::metadata))
        .route("/introspect", post(introspect::introspect))
        .route("/revoke", post(revoke::revoke))
        .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo));
    Router::new()
        .nest("/oauth/v4/{tenant_id}", tenant_routes.clone())
        .nest("/oauth/v3/{tenant_id}", tenant_routes)
        // RFC 8414 §3.1: "the well-known URI string used is inserted into the
        // URL between the host component and the path component, if any".
        .route("/.well-known/oauth-authorization-server/oauth/v4/{tenant_id}", get(discovery::metadata))
        .route("/.well-known/oauth-authorization-server/oauth/v3/{tenant_id}", get(discovery::metadata))
}
