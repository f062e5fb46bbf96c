//! `/applications/{clientId}/federated_credentials`: which tokens of which
//! trusted issuer authenticate an application instead of a secret; each
//! route one domain call, the same as the dashboard's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::services::{FederatedCredentialView, NewFederatedCredential};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Reader, Writer};
use super::model::Object;
use crate::http::AppState;
use crate::wire::rfc3339;

const TAG: &str = "federation";

/// A federated credential to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateFederatedCredential {
    /// One of the tenant's trusted issuers.
    pub issuer_id: String,
    /// The `sub` its tokens must carry, exactly (1 to 512 characters).
    #[schema(example = "system:serviceaccount:payments:api", min_length = 1, max_length = 512)]
    pub subject: String,
    /// A value its tokens' `aud` must contain; by default the tenant's
    /// `oAuthServerUrl`.
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub audience: Option<String>,
}

/// A federated credential.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FederatedCredential {
    pub id: String,
    pub issuer_id: String,
    /// The trusted issuer's URL.
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<FederatedCredentialView> for FederatedCredential {
    fn from(view: FederatedCredentialView) -> Self {
        Self {
            id: view.id,
            issuer_id: view.issuer_id,
            issuer: view.issuer,
            subject: view.subject,
            audience: view.audience,
            created_at: rfc3339(view.created_at),
        }
    }
}

/// An application's federated credentials, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FederatedCredentialList {
    pub federated_credentials: Vec<FederatedCredential>,
}

/// List an application's federated credentials
#[utoipa::path(
    get,
    path = "/applications/{clientId}/federated_credentials",
    operation_id = "listFederatedCredentials",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    responses((status = 200, description = "Its federated credentials", body = FederatedCredentialList)),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn list_federated_credentials(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
) -> Result<Json<FederatedCredentialList>, ApiError> {
    let credentials = state.services.list_federated_credentials(&scope, &client_id).await?;
    Ok(Json(FederatedCredentialList {
        federated_credentials: credentials.into_iter().map(FederatedCredential::from).collect(),
    }))
}

/// Add a federated credential
///
/// Tokens of the issuer with this subject and audience then authenticate
/// the application. The first one deletes the application's secrets.
#[utoipa::path(
    post,
    path = "/applications/{clientId}/federated_credentials",
    operation_id = "createFederatedCredential",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    request_body = CreateFederatedCredential,
    responses(
        (status = 201, description = "Added", body = FederatedCredential),
        (status = 400, description = "Invalid subject or audience", body = ErrorBody),
        (status = 404, description = "No such application or trusted issuer in this tenant", body = ErrorBody),
        (status = 409, description = "Already there, 20 already, or the application has public keys", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn create_federated_credential(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
    ApiJson(Object(body)): ApiJson<Object<CreateFederatedCredential>>,
) -> Result<(StatusCode, Json<FederatedCredential>), ApiError> {
    let new = NewFederatedCredential { issuer_id: body.issuer_id, subject: body.subject, audience: body.audience };
    let created = state.services.create_federated_credential(&scope, &client_id, new, state.services.now()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Remove a federated credential
#[utoipa::path(
    delete,
    path = "/applications/{clientId}/federated_credentials/{credentialId}",
    operation_id = "deleteFederatedCredential",
    tag = TAG,
    params(
        ("tenantId" = String, Path, description = "Tenant ID"),
        ("clientId" = String, Path, description = "Client ID"),
        ("credentialId" = String, Path, description = "Federated credential ID"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such application or credential in this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn delete_federated_credential(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id, credential_id)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_federated_credential(&scope, &client_id, &credential_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
