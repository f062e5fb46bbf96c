//! Building scopes: the only place that decides who may act where.

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

use super::Services;
use super::applications::ManagementAccess;
use crate::entities::{membership, tenant, user};
use crate::oauth::scope::{MANAGEMENT_READ, MANAGEMENT_WRITE};
use crate::scope::{Access, Actor, Role, TenantScope};
use crate::{Error, Result};

/// Proof that the caller is an operator (may create and list tenants).
#[derive(Clone, Debug)]
pub struct OperatorScope {
    actor: Actor,
    source_addr: Option<String>,
}

impl OperatorScope {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn source_addr(&self) -> Option<&str> {
        self.source_addr.as_deref()
    }
}

impl Services {
    /// The scope of a signed-in dashboard user in `tenant_id`. A tenant the
    /// user cannot see is reported as not found, so its existence leaks not.
    pub async fn scope_for_user(
        &self,
        user_id: &str,
        tenant_id: &str,
        source_addr: Option<String>,
    ) -> Result<TenantScope> {
        let user = user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)?;
        let actor = Actor::User { id: user.id.clone(), email: user.email.clone() };
        if tenant::Entity::find_by_id(tenant_id.to_owned()).one(self.db()).await?.is_none() {
            return Err(Error::NotFound("tenant"));
        }
        if user.is_operator {
            return Ok(TenantScope::new(tenant_id.to_owned(), actor, Access::Write, source_addr));
        }
        let membership = membership::Entity::find_by_id((user.id.clone(), tenant_id.to_owned()))
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let access = match Role::parse(&membership.role)? {
            Role::Admin => Access::Write,
            Role::Viewer => Access::Read,
        };
        Ok(TenantScope::new(tenant_id.to_owned(), actor, access, source_addr))
    }

    /// The operator scope of a signed-in user, if they are an operator.
    pub async fn operator_scope_for_user(&self, user_id: &str, source_addr: Option<String>) -> Result<OperatorScope> {
        let user = user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)?;
        if !user.is_operator {
            return Err(Error::Forbidden);
        }
        Ok(OperatorScope { actor: Actor::User { id: user.id, email: user.email }, source_addr })
    }

    /// Full rights in `tenant_id` for the `clavis` command line, whose user
    /// already controls the host and its database.
    pub async fn scope_for_cli(&self, tenant_id: &str) -> Result<TenantScope> {
        if tenant::Entity::find_by_id(tenant_id.to_owned()).one(self.db()).await?.is_none() {
            return Err(Error::NotFound("tenant"));
        }
        Ok(TenantScope::new(tenant_id.to_owned(), Actor::Cli, Access::Write, None))
    }

    /// Operator rights for the `clavis` command line.
    pub fn operator_scope_for_cli(&self) -> OperatorScope {
        OperatorScope { actor: Actor::Cli, source_addr: None }
    }

    /// The scope of an application calling the management API of
    /// `tenant_id` with a bearer access token.
    ///
    /// Fails with `NotFound("tenant")` for an unknown tenant,
    /// `Unauthenticated` for a token that is malformed, expired, revoked,
    /// of another tenant or of a deleted application (RFC 6750
    /// `invalid_token`), and `Forbidden` for a valid token without
    /// management access (`insufficient_scope`).
    ///
    /// The access is the lesser of what the token's scopes say and what the
    /// application holds now: taking access away, or deleting the
    /// application, ends its unexpired tokens' powers on this process at
    /// once (the client cache is dropped on every such change) and on other
    /// processes within the cache lifetime.
    pub async fn scope_for_application(
        &self,
        tenant_id: &str,
        bearer_token: &str,
        source_addr: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<TenantScope> {
        // Tenant IDs are UUIDs; anything else cannot exist, so skip the query.
        if uuid::Uuid::parse_str(tenant_id).is_err() {
            return Err(Error::NotFound("tenant"));
        }
        let runtime = self.tenant_runtime(tenant_id, now).await?.ok_or(Error::NotFound("tenant"))?;
        let claims = self.active_token(&runtime, bearer_token, now).await?.ok_or(Error::Unauthenticated)?;
        let held =
            self.client_access(&runtime.tenant_id, &claims.client_id, now).await?.ok_or(Error::Unauthenticated)?;
        // The write scope includes read (see `ManagementAccess::scopes`), so a
        // token asked for with only the write scope may still read.
        let token_writes = claims.has_scope(MANAGEMENT_WRITE);
        let token_reads = token_writes || claims.has_scope(MANAGEMENT_READ);
        let access = match held {
            ManagementAccess::Write if token_writes => Access::Write,
            ManagementAccess::Write | ManagementAccess::Read if token_reads => Access::Read,
            _ => return Err(Error::Forbidden),
        };
        let actor = Actor::Application { client_id: claims.client_id };
        Ok(TenantScope::new(runtime.tenant_id.clone(), actor, access, source_addr))
    }
}
