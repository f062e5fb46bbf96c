//! Wire types of access control, in App ID's shapes: a protected
//! application's scopes, roles, the roles of a caller, token settings.

use clavis_types::{MAX_SCOPE_CHARS, MAX_SCOPES_PER_APPLICATION};
use domain::services::{Role as DomainRole, RoleAccess as DomainRoleAccess, RoleInput, RoleRef as DomainRoleRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Type};

/// The scopes a protected application defines.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scopes {
    /// Lowercase letters, digits, `.` and `_`; 1 to 49 characters; not
    /// starting with `appid` or `openid`; at most 50, no duplicates.
    #[schema(schema_with = scope_list)]
    pub scopes: Vec<String>,
}

/// The schema of a scope list: every rule `clavis_types::validate_scope_list`
/// applies, so that a list the document allows is a list the API accepts.
fn scope_list() -> Array {
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_SCOPE_CHARS))
        .pattern(Some(format!("^(?!appid|openid)[a-z0-9._]{{1,{MAX_SCOPE_CHARS}}}$")));
    ArrayBuilder::new()
        .items(name)
        .max_items(Some(MAX_SCOPES_PER_APPLICATION))
        .unique_items(true)
        .description(Some(
            "Lowercase letters, digits, `.` and `_`; 1 to 49 characters; not starting with `appid` or \
             `openid`; at most 50, no duplicates.",
        ))
        .examples([serde_json::json!(["read", "write"])])
        .build()
}

/// The scopes a role grants on one protected application.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleAccess {
    /// The protected application's client ID.
    pub application_id: String,
    /// Scopes that application defines.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl From<DomainRoleAccess> for RoleAccess {
    fn from(access: DomainRoleAccess) -> Self {
        Self { application_id: access.application_id, scopes: access.scopes }
    }
}

impl From<RoleAccess> for DomainRoleAccess {
    fn from(access: RoleAccess) -> Self {
        Self { application_id: access.application_id, scopes: access.scopes }
    }
}

/// A role: a named set of scopes on protected applications.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Role {
    pub id: String,
    #[schema(example = "inventory-reader")]
    pub name: String,
    pub description: String,
    pub access: Vec<RoleAccess>,
}

impl From<DomainRole> for Role {
    fn from(role: DomainRole) -> Self {
        Self {
            id: role.id,
            name: role.name,
            description: role.description,
            access: role.access.into_iter().map(Into::into).collect(),
        }
    }
}

/// App ID's body for creating or replacing a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleBody {
    /// 1 to 50 characters after trimming, unique in the tenant.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub access: Vec<RoleAccess>,
}

impl From<RoleBody> for RoleInput {
    fn from(body: RoleBody) -> Self {
        Self {
            name: body.name,
            description: body.description,
            access: body.access.into_iter().map(Into::into).collect(),
        }
    }
}

/// Every role of the tenant.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleList {
    pub roles: Vec<Role>,
}

/// A role as a caller's role list names it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleRef {
    pub id: String,
    pub name: String,
}

impl From<DomainRoleRef> for RoleRef {
    fn from(role: DomainRoleRef) -> Self {
        Self { id: role.id, name: role.name }
    }
}

/// The roles a calling application holds.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApplicationRoles {
    pub roles: Vec<RoleRef>,
}

/// The role IDs of `PUT /applications/{clientId}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleIds {
    pub ids: Vec<String>,
}

/// App ID's body for replacing a caller's roles: `{"roles": {"ids": [...]}}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetApplicationRoles {
    pub roles: RoleIds,
}

/// Access-token settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessTokenConfig {
    /// Lifetime of new access tokens in seconds: 300 to 86400.
    #[schema(minimum = 300, maximum = 86400, example = 3600)]
    #[serde(deserialize_with = "super::integral")]
    pub expires_in: i64,
}

/// Refresh-token settings of the password grant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshTokenConfig {
    /// Whether the password grant issues refresh tokens; turning it off
    /// makes every outstanding one fail.
    pub enabled: bool,
    /// Lifetime of new refresh tokens in seconds: 60 to 7776000 (90 days).
    #[schema(minimum = 60, maximum = 7776000, example = 2592000)]
    #[serde(deserialize_with = "super::integral")]
    pub expires_in: i64,
}

/// App ID's token configuration:
/// `{"access": {"expires_in": 3600}, "refresh": {"enabled": true, "expires_in": 2592000}}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenConfig {
    #[serde(deserialize_with = "super::directory::object")]
    pub access: AccessTokenConfig,
    /// Always in answers; a `PUT` without it keeps the refresh settings.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "super::directory::optional_object")]
    pub refresh: Option<RefreshTokenConfig>,
}
