//! `/trusted_issuers`: the workload-identity issuers a tenant trusts (their
//! tokens authenticate applications through federated credentials); each
//! route one domain call, the same as the dashboard's Trusted issuers page.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::services::{NewTrustedIssuer, TrustedIssuerView};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Reader, Writer};
use super::model::Object;
use crate::http::AppState;
use crate::wire::rfc3339;

const TAG: &str = "federation";

/// A trusted issuer to create: `jwks_uri`, or `jwks`, or neither (the keys
/// then come from the issuer's OpenID discovery document).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateTrustedIssuer {
    /// 1 to 50 characters.
    #[schema(example = "production cluster", min_length = 1, max_length = 50)]
    pub name: String,
    /// The `iss` of its tokens, exactly: an https URL (http only on loopback).
    #[schema(example = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE", min_length = 1, max_length = 2048)]
    pub issuer: String,
    /// Where its JWKS is fetched (https; http only on loopback).
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub jwks_uri: Option<String>,
    /// Static public keys, a JWKS (`{"keys": [...]}`), for issuers without
    /// public discovery. Private key members are refused.
    #[serde(default)]
    #[schema(value_type = Option<StaticJwks>)]
    pub jwks: Option<Map<String, Value>>,
}

/// Static public keys as the document describes them: a JWKS of 1 to 10
/// public JWKs (RSA of 2048 bits or more, EC P-256, OKP Ed25519).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct StaticJwks {
    #[schema(value_type = Vec<Object>, min_items = 1, max_items = 10)]
    keys: Vec<Value>,
}

/// A trusted issuer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TrustedIssuer {
    pub id: String,
    pub name: String,
    pub issuer: String,
    /// Absent for static keys and for discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The static keys, when it has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<TrustedIssuerView> for TrustedIssuer {
    fn from(view: TrustedIssuerView) -> Self {
        Self {
            id: view.id,
            name: view.name,
            issuer: view.issuer,
            jwks_uri: view.jwks_uri,
            jwks: view.jwks.and_then(|set| serde_json::to_value(set).ok()),
            created_at: rfc3339(view.created_at),
        }
    }
}

/// The tenant's trusted issuers, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TrustedIssuerList {
    pub trusted_issuers: Vec<TrustedIssuer>,
}

/// List the trusted issuers
#[utoipa::path(
    get,
    path = "/trusted_issuers",
    operation_id = "listTrustedIssuers",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    responses((status = 200, description = "The tenant's trusted issuers", body = TrustedIssuerList)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_trusted_issuers(
    State(state): State<AppState>,
    Reader(scope): Reader,
) -> Result<Json<TrustedIssuerList>, ApiError> {
    let issuers = state.services.list_trusted_issuers(&scope).await?;
    Ok(Json(TrustedIssuerList { trusted_issuers: issuers.into_iter().map(TrustedIssuer::from).collect() }))
}

/// Trust an issuer
///
/// Its tokens can then authenticate the applications that have a federated
/// credential naming it. Nothing is fetched now: keys are fetched when its
/// first token comes.
#[utoipa::path(
    post,
    path = "/trusted_issuers",
    operation_id = "createTrustedIssuer",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID")),
    request_body = CreateTrustedIssuer,
    responses(
        (status = 201, description = "Trusted", body = TrustedIssuer),
        (status = 400, description = "Invalid name, issuer, jwks_uri or keys", body = ErrorBody),
        (status = 409, description = "The issuer is already trusted, or the tenant has too many", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn create_trusted_issuer(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiJson(Object(body)): ApiJson<Object<CreateTrustedIssuer>>,
) -> Result<(StatusCode, Json<TrustedIssuer>), ApiError> {
    let jwks = body.jwks.map(|map| Value::Object(map).to_string());
    let new = NewTrustedIssuer { name: body.name, issuer: body.issuer, jwks_uri: body.jwks_uri, jwks };
    let created = state.services.create_trusted_issuer(&scope, new, state.services.now()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Stop trusting an issuer
///
/// The federated credentials that name it are deleted with it.
#[utoipa::path(
    delete,
    path = "/trusted_issuers/{issuerId}",
    operation_id = "deleteTrustedIssuer",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("issuerId" = String, Path, description = "Trusted issuer ID"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such trusted issuer in this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn delete_trusted_issuer(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, issuer_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_trusted_issuer(&scope, &issuer_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
