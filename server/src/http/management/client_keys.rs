//! `/applications/{clientId}/jwks`: the public keys an application signs
//! its `private_key_jwt` assertions with, as a JWKS or a `jwks_uri`; each
//! route one domain call, the same as the dashboard's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::services::{ClientKeys, ClientKeysInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Reader, Writer};
use super::model::Object;
use crate::http::AppState;

const TAG: &str = "applications";

/// An application's keys: exactly one of `keys` and `jwks_uri`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetClientKeys {
    #[serde(default)]
    pub keys: Option<Vec<Value>>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
}

/// The body of `PUT .../jwks` as the document describes it: one of the
/// two forms. The handler reads [`SetClientKeys`], which names the rule
/// broken when a body has both or neither.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(super) enum SetClientKeysBody {
    Keys(KeysForm),
    JwksUri(JwksUriForm),
}

/// Public JWKs (RFC 7517): RSA of 2048 bits or more, EC P-256 or OKP
/// Ed25519, 1 to 10, no private member. A key without `kid` is named by its
/// RFC 7638 thumbprint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct KeysForm {
    #[schema(value_type = Vec<Object>, min_items = 1, max_items = 10)]
    keys: Vec<Value>,
}

/// Where the application publishes its JWKS: https (http only on a
/// loopback host). Fetched once now, and again when an assertion names an
/// unknown `kid`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct JwksUriForm {
    #[schema(example = "https://payments.example.com/.well-known/jwks.json")]
    jwks_uri: String,
}

/// An application's keys, as they were set.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ClientKeysBody {
    /// The public JWKs, each with its `kid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub keys: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

impl TryFrom<ClientKeys> for ClientKeysBody {
    type Error = ApiError;

    fn try_from(keys: ClientKeys) -> Result<Self, ApiError> {
        let jwks = match keys.jwks {
            Some(jwks) => Some(
                jwks.keys
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|err| ApiError::from(domain::Error::Internal(err.to_string())))?,
            ),
            None => None,
        };
        Ok(Self { keys: jwks, jwks_uri: keys.jwks_uri })
    }
}

/// Set an application's public keys
///
/// The application then authenticates with `private_key_jwt` (RFC 7523
/// §2.2) and has no secret: its secrets are deleted.
#[utoipa::path(
    put,
    path = "/applications/{clientId}/jwks",
    operation_id = "setApplicationKeys",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    request_body = SetClientKeysBody,
    responses(
        (status = 200, description = "The keys as set", body = ClientKeysBody),
        (status = 400, description = "Not exactly one of keys and jwks_uri, an unusable or private key, or a jwks_uri that cannot be fetched", body = ErrorBody),
        (status = 404, description = "No such application in this tenant", body = ErrorBody),
        (status = 409, description = "The application has federated credentials", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn set_client_keys(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
    ApiJson(Object(body)): ApiJson<Object<SetClientKeys>>,
) -> Result<Json<ClientKeysBody>, ApiError> {
    let input = match (body.keys, body.jwks_uri) {
        (Some(keys), None) => ClientKeysInput::Jwks(serde_json::json!({ "keys": keys }).to_string()),
        (None, Some(uri)) => ClientKeysInput::JwksUri(uri),
        _ => return Err(domain::Error::validation("give exactly one of keys and jwks_uri").into()),
    };
    let keys = state.services.set_client_keys(&scope, &client_id, input, state.services.now()).await?;
    Ok(Json(keys.try_into()?))
}

/// Get an application's public keys
#[utoipa::path(
    get,
    path = "/applications/{clientId}/jwks",
    operation_id = "getApplicationKeys",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    responses(
        (status = 200, description = "Its keys", body = ClientKeysBody),
        (status = 404, description = "No such application in this tenant, or it has no keys", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:read"]))
)]
pub(super) async fn get_client_keys(
    State(state): State<AppState>,
    Reader(scope): Reader,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
) -> Result<Json<ClientKeysBody>, ApiError> {
    let keys = state.services.client_keys(&scope, &client_id).await?;
    Ok(Json(keys.try_into()?))
}

/// Remove an application's public keys
///
/// It is then left with no credential until its secret is rotated.
#[utoipa::path(
    delete,
    path = "/applications/{clientId}/jwks",
    operation_id = "deleteApplicationKeys",
    tag = TAG,
    params(("tenantId" = String, Path, description = "Tenant ID"), ("clientId" = String, Path, description = "Client ID")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such application in this tenant, or it has no keys", body = ErrorBody),
    ),
    security(("bearer" = ["clavis:management:write"]))
)]
pub(super) async fn delete_client_keys(
    State(state): State<AppState>,
    Writer(scope): Writer,
    ApiPath((_, client_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_client_keys(&scope, &client_id, state.services.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
