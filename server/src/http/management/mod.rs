//! The management REST API under `/management/v4/{tenantId}`, with App ID's
//! request and response shapes, secured by the tenant's own bearer tokens
//! (RFC 6750), and its OpenAPI 3.1 document at
//! `/management/v4/openapi.json`.
//!
//! Every route is registered once, in `api`, through `utoipa_axum`: the
//! same registration builds the axum router and the OpenAPI document, so
//! the document cannot miss a route the router serves.

mod applications;
mod audit;
mod client_keys;
mod cloud_directory;
mod config;
mod document;
mod dpop;
pub mod error;
mod extract;
mod federated_credentials;
mod keys;
pub(crate) mod model;
mod roles;
mod scopes;
mod trusted_issuers;
mod usage;

use std::sync::Arc;

use axum::Router;
use axum::extract::Extension;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// Largest request body the management API reads; its bodies are tiny.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/management/v4/openapi.json";
/// The prefix of every tenant's management routes.
pub const TENANT_PREFIX: &str = "/management/v4/{tenantId}";

/// The serialized document, handed to its handler as a request extension.
#[derive(Clone)]
struct DocumentJson(Arc<str>);

/// The OpenAPI document
///
/// This document: every route of the management API.
#[utoipa::path(
    get,
    path = "/management/v4/openapi.json",
    operation_id = "openapi",
    tag = "document",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_document(Extension(DocumentJson(json)): Extension<DocumentJson>) -> Response {
    let mut response = json.to_string().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Every route of the API, each registered once for both the router and the
/// document. `routes!` takes the handlers of one path at a time.
fn api() -> OpenApiRouter<AppState> {
    let tenant_routes = OpenApiRouter::new()
        .routes(routes!(applications::list_applications, applications::create_application))
        .routes(routes!(
            applications::get_application,
            applications::rename_application,
            applications::delete_application
        ))
        .routes(routes!(applications::rotate_secret))
        .routes(routes!(applications::revoke_tokens))
        .routes(routes!(applications::revoke_previous_secret))
        .routes(routes!(applications::set_management_access))
        .routes(routes!(client_keys::get_client_keys, client_keys::set_client_keys, client_keys::delete_client_keys))
        .routes(routes!(scopes::get_scopes, scopes::set_scopes))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(roles::get_role, roles::update_role, roles::delete_role))
        .routes(routes!(roles::get_application_roles, roles::set_application_roles))
        .routes(routes!(config::get_token_config, config::set_token_config))
        .routes(routes!(config::get_password_policy, config::set_password_policy))
        .routes(routes!(dpop::get_dpop_config, dpop::set_dpop_config))
        .routes(routes!(dpop::set_application_dpop))
        .routes(routes!(cloud_directory::sign_up))
        .routes(routes!(cloud_directory::list_users))
        .routes(routes!(cloud_directory::get_user, cloud_directory::replace_user, cloud_directory::delete_user))
        .routes(routes!(cloud_directory::change_password))
        .routes(routes!(cloud_directory::get_user_roles, cloud_directory::set_user_roles))
        .routes(routes!(keys::list_keys))
        .routes(routes!(keys::rotate_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::get_rotation, keys::set_rotation))
        .routes(routes!(trusted_issuers::list_trusted_issuers, trusted_issuers::create_trusted_issuer))
        .routes(routes!(trusted_issuers::delete_trusted_issuer))
        .routes(routes!(
            federated_credentials::list_federated_credentials,
            federated_credentials::create_federated_credential
        ))
        .routes(routes!(federated_credentials::delete_federated_credential))
        .routes(routes!(usage::get_usage))
        .routes(routes!(audit::list_audit));
    OpenApiRouter::with_openapi(document::ApiDoc::openapi())
        .routes(routes!(openapi_document))
        .nest(TENANT_PREFIX, tenant_routes)
}

/// The OpenAPI document of the management API.
pub fn openapi() -> OpenApiDocument {
    let mut document = api().into_openapi();
    document::add_shared_errors(&mut document);
    document
}

/// The management routes, to merge into the application's router. They sit
/// outside the dashboard's session and Origin layers: callers authenticate
/// with bearer tokens, never with cookies.
pub fn routes() -> Router<AppState> {
    let (router, mut document) = api().split_for_parts();
    document::add_shared_errors(&mut document);
    let json = match document.to_json() {
        Ok(json) => json,
        Err(err) => {
            // Cannot happen for a document built from these types; serve an
            // empty document rather than refuse to start.
            tracing::error!(error = %err, "could not serialize the OpenAPI document");
            "{}".to_owned()
        }
    };
    router
        .method_not_allowed_fallback(error::unsupported_method)
        // Unknown paths under /management answer in the API's error shape
        // instead of falling through to the dashboard's HTML 404.
        .route("/management", any(error::unknown_route))
        .route("/management/{*rest}", any(error::unknown_route))
        .layer(Extension(DocumentJson(Arc::from(json))))
        // Answers carry secrets and tenant data: no cache may keep them.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
}
