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

/// The tenant routes under both prefixes, each registered with its full
/// template rather than nested: a nested router rewrites every request's
/// URI to strip its prefix.
pub fn routes() -> Router<Services> {
    let mut router = Router::new();
    for prefix in ["/oauth/v4/{tenant_id}", "/oauth/v3/{tenant_id}"] {
        router = router
            .route(&format!("{prefix}/token"), post(token::token))
            .route(&format!("{prefix}/publickeys"), get(discovery::jwks))
            .route(&format!("{prefix}/.well-known/openid-configuration"), get(discovery::metadata))
            .route(&format!("{prefix}/.well-known/oauth-authorization-server"), get(discovery::metadata))
            .route(&format!("{prefix}/introspect"), post(introspect::introspect))
            .route(&format!("{prefix}/revoke"), post(revoke::revoke))
            .route(&format!("{prefix}/userinfo"), get(userinfo::userinfo).post(userinfo::userinfo));
    }
    router
        // RFC 8414 §3.1: "the well-known URI string used is inserted into the
        // URL between the host component and the path component, if any".
        .route("/.well-known/oauth-authorization-server/oauth/v4/{tenant_id}", get(discovery::metadata))
        .route("/.well-known/oauth-authorization-server/oauth/v3/{tenant_id}", get(discovery::metadata))
}
