//! The command line's JSON: what scripts read from `clavis … | jq`.
//! Applications and rotated secrets print exactly as the management API
//! returns them, so one script can use either; tenants and members have
//! shapes of their own.

use domain::services::{Member as DomainMember, TenantInfo};
use serde::Serialize;

use crate::wire::rfc3339;

/// A tenant, as `tenant create` and `tenant list` print it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Tenant {
    pub tenant_id: String,
    pub name: String,
    #[serde(rename = "oAuthServerUrl")]
    pub oauth_server_url: String,
    pub discovery_endpoint: String,
    pub management_url: String,
    pub signing_alg: &'static str,
    pub token_lifetime_secs: i64,
    pub default_scope: String,
    pub created_at: String,
}

impl From<TenantInfo> for Tenant {
    fn from(info: TenantInfo) -> Self {
        Self {
            tenant_id: info.tenant_id,
            name: info.name,
            oauth_server_url: info.oauth_server_url,
            discovery_endpoint: info.discovery_endpoint,
            management_url: info.management_url,
            signing_alg: info.signing_alg.name(),
            token_lifetime_secs: info.token_lifetime_secs,
            default_scope: info.default_scope,
            created_at: rfc3339(info.created_at),
        }
    }
}

/// A member, as `member add` and `member list` print it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Member {
    pub user_id: String,
    pub email: String,
    pub role: domain::Role,
    pub added_at: String,
}

impl From<DomainMember> for Member {
    fn from(member: DomainMember) -> Self {
        Self { user_id: member.user_id, email: member.email, role: member.role, added_at: rfc3339(member.added_at) }
    }
}
