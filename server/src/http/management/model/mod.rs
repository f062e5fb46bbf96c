//! The management API's wire types. They are what the handlers serialize,
//! so the OpenAPI schemas derived from them describe the real responses.

use clavis_types::ManagementAccess;
use domain::services::{ApplicationView, AuditEntry as DomainAuditEntry, CredentialKind, PreviousSecret};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::wire::rfc3339;

mod access;
mod directory;
mod keys;

pub(crate) use access::{
    AccessTokenConfig, ApplicationRoles, RefreshTokenConfig, Role, RoleBody, RoleList, Scopes, SetApplicationRoles,
    TokenConfig,
};
pub(crate) use directory::{
    ChangePassword, EmailInput, ListUsersParams, NameInput, Object, PasswordPolicy, SignUpBody, SignUpParams, User,
    UserBody, UserList, UserRoles,
};
pub(crate) use keys::{KeyRotationConfig, RotateKey, SigningAlg, SigningKey, SigningKeyList};

/// What an application may do with the management API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    None,
    Read,
    Write,
}

impl From<ManagementAccess> for Access {
    fn from(access: ManagementAccess) -> Self {
        match access {
            ManagementAccess::None => Access::None,
            ManagementAccess::Read => Access::Read,
            ManagementAccess::Write => Access::Write,
        }
    }
}

impl From<Access> for ManagementAccess {
    fn from(access: Access) -> Self {
        match access {
            Access::None => ManagementAccess::None,
            Access::Read => ManagementAccess::Read,
            Access::Write => ManagementAccess::Write,
        }
    }
}

/// The secret that still works during its grace period after a rotation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PreviousSecret)]
pub(crate) struct PreviousSecretInfo {
    /// The last four characters, to tell secrets apart.
    pub last_four: String,
    /// RFC 3339 time when it stops working.
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

impl From<PreviousSecret> for PreviousSecretInfo {
    fn from(previous: PreviousSecret) -> Self {
        Self {
            last_four: previous.last_four,
            expires_at: rfc3339(previous.expires_at),
            last_used_at: previous.last_used_at.map(rfc3339),
        }
    }
}

/// How an application authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CredentialType {
    Secret,
    Keys,
    Federated,
}

impl From<CredentialKind> for CredentialType {
    fn from(kind: CredentialKind) -> Self {
        match kind {
            CredentialKind::Secret => Self::Secret,
            CredentialKind::Keys => Self::Keys,
            CredentialKind::Federated => Self::Federated,
        }
    }
}

/// An application (OAuth client) in App ID's shape, plus Clavis's fields.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Application {
    #[schema(example = "5f7c1f8e-0d1c-4a63-9d4e-2b1f0c7d9a10")]
    pub client_id: String,
    pub tenant_id: String,
    /// The client secret: only in the answer to the request that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[schema(example = "billing-service")]
    pub name: String,
    /// The tenant's OAuth server; also the `iss` of its tokens.
    #[serde(rename = "oAuthServerUrl")]
    pub oauth_server_url: String,
    pub profiles_url: String,
    pub discovery_endpoint: String,
    /// RFC 3339.
    pub created_at: String,
    pub management_access: Access,
    pub last_used_at: Option<String>,
    pub tokens_issued: i64,
    pub secret_last_four: String,
    pub secret_created_at: String,
    pub previous_secret: Option<PreviousSecretInfo>,
    /// How it authenticates: a client secret, its public keys
    /// (`private_key_jwt`), or federated credentials.
    pub credential_type: CredentialType,
    /// Auth0's API identifier of a protected application: a token request
    /// may name it as `audience` (absent when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "https://inventory.example.com")]
    pub identifier: Option<String>,
    /// The tenant's management API, and the `audience` of management tokens.
    pub management_url: String,
    /// Its tokens must be DPoP-bound (`PUT .../dpop`).
    pub dpop_required: bool,
}

impl From<ApplicationView> for Application {
    fn from(view: ApplicationView) -> Self {
        Self {
            client_id: view.client_id,
            tenant_id: view.tenant_id,
            secret: view.secret,
            name: view.name,
            oauth_server_url: view.oauth_server_url,
            profiles_url: view.profiles_url,
            discovery_endpoint: view.discovery_endpoint,
            created_at: rfc3339(view.created_at),
            management_access: view.management_access.into(),
            last_used_at: view.last_used_at.map(rfc3339),
            tokens_issued: view.tokens_issued,
            secret_last_four: view.secret_last_four,
            secret_created_at: view.secret_created_at.map(rfc3339).unwrap_or_default(),
            previous_secret: view.previous_secret.map(Into::into),
            credential_type: view.credential.into(),
            identifier: view.identifier,
            management_url: view.management_url,
            dpop_required: view.dpop_required,
        }
    }
}

/// A page of applications, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationList {
    pub applications: Vec<Application>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How many applications the tenant has in all.
    pub total: u64,
}

/// Paging of the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListApplicationsParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `nextCursor` of the previous page; empty or absent for the first.
    #[param(pattern = r"^([0-9]{1,18}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$")]
    pub cursor: Option<String>,
}

/// App ID's body for registering an application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateApplication {
    /// 1 to 50 characters after trimming.
    #[schema(example = "billing-service")]
    pub name: String,
    /// Management API access of the new application; `none` by default.
    #[serde(default)]
    pub management_access: Option<Access>,
    /// Makes it a protected application callers can name by this URI: an
    /// absolute `https://` URI (`http://` only on loopback), unique in the tenant.
    #[serde(default)]
    pub identifier: Option<String>,
}

/// App ID's body for renaming an application, with its identifier.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RenameApplication {
    /// 1 to 50 characters after trimming.
    #[schema(example = "billing-service")]
    pub name: String,
    /// A new identifier; `null` removes it; absent leaves it unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub identifier: Option<Option<String>>,
}

/// Tells an absent field (`None`, by `default`) from an explicit `null`
/// (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// An integer the way JSON Schema counts one, as the document's `integer`
/// promises: `3600.0` is 3600 (JSON libraries may write whole numbers with
/// a fraction part), `3600.5` is not an integer.
fn integral<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    whole(serde_json::Number::deserialize(deserializer)?)
}

/// [`integral`] for an optional field (`null` or absent is `None`).
fn optional_integral<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<serde_json::Number>::deserialize(deserializer)?.map(whole).transpose()
}

fn whole<E: serde::de::Error>(number: serde_json::Number) -> Result<i64, E> {
    // Within ±2^53 every whole f64 is exact and converts without loss.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    number
        .as_i64()
        .or_else(|| number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT).map(|f| f as i64))
        .ok_or_else(|| E::custom(format!("{number} is not an integer within range")))
}

/// Options of a secret rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RotateSecret {
    /// How long the previous secret keeps working: 0 (ends it at once) to
    /// 2592000 seconds (30 days). Default 86400.
    #[schema(minimum = 0, maximum = 2592000, example = 3600)]
    #[serde(default, deserialize_with = "optional_integral")]
    pub grace_seconds: Option<i64>,
    /// Also revoke every token issued to the application so far (for a
    /// leaked secret: pair it with `graceSeconds: 0`).
    #[serde(default)]
    pub revoke_tokens: bool,
}

/// The moment before which an application's tokens were revoked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RevokedTokens {
    pub client_id: String,
    /// RFC 3339; tokens issued up to this second fail introspection and
    /// this API.
    pub revoked_before: String,
}

/// The outcome of a signing key's revocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RevokedKey {
    pub revoked_kid: String,
    /// The key that signs from now on.
    pub active_kid: String,
}

/// A new client secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RotatedSecret {
    pub client_id: String,
    /// The new secret; shown only in this answer.
    pub secret: String,
    /// RFC 3339 time when the previous secret stops working; null when it
    /// stopped at once.
    pub previous_secret_expires_at: Option<String>,
}

impl From<domain::services::RotatedSecret> for RotatedSecret {
    fn from(rotated: domain::services::RotatedSecret) -> Self {
        Self {
            client_id: rotated.client_id,
            secret: rotated.secret,
            previous_secret_expires_at: rotated.previous_secret_expires_at.map(rfc3339),
        }
    }
}

/// An application's management API access.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetManagementAccess {
    pub access: Access,
}

/// One administrative act.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEntry {
    /// Grows with every record; pass as `before` to page back.
    pub id: i64,
    pub tenant_id: Option<String>,
    /// A user's email, an application's client ID, or `cli`.
    pub actor: String,
    #[schema(example = "application.create")]
    pub action: String,
    /// What the act changed, e.g. a client ID.
    pub target: String,
    pub source_addr: Option<String>,
    /// Particulars of the act (never a secret).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<DomainAuditEntry> for AuditEntry {
    fn from(entry: DomainAuditEntry) -> Self {
        Self {
            id: entry.id,
            tenant_id: entry.tenant_id,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            source_addr: entry.source_addr,
            details: entry.details,
            created_at: rfc3339(entry.created_at),
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditLog {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` to get the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// Only entries older than this entry ID (the previous page's `nextBefore`).
    pub before: Option<i64>,
}

/// Query of `GET /applications/{clientId}/usage`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsageParams {
    /// How many minutes, ending with the current one: 1 to 1440 (default 60).
    #[param(minimum = 1, maximum = 1440)]
    pub minutes: Option<u32>,
}

/// Tokens issued to an application, minute by minute.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenUsage {
    pub client_id: String,
    /// RFC 3339 start of the first minute of `perMinute`.
    #[schema(example = "2026-11-22T13:00:00Z")]
    pub from: String,
    /// The sum of `perMinute`.
    pub tokens_issued: i64,
    /// Tokens issued in each minute from `from` on, oldest first.
    pub per_minute: Vec<i64>,
}
