//! Building scopes: the only place that decides who may act where.

use sea_orm::EntityTrait;

use super::Services;
use crate::entities::{membership, tenant, user};
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
    pub async fn scope_for_user(&self, user_id: &str, tenant_id: &str, source_addr: Option<String>) -> Result<TenantScope> {
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
}
