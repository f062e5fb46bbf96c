//! Building scopes: the only place that decides who may act where.

use chrono::{DateTime, Utc};
use clavis_oauth::scope::{MANAGEMENT_READ, MANAGEMENT_WRITE};
use clavis_types::ManagementAccess;
use sea_orm::EntityTrait;

use super::Services;
use super::ids::could_exist;
use crate::entities::{membership, tenant, user};
use crate::scope::{AccessLevel, Actor, GrantedScope, Role, TenantScope, Write};
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

/// The authority of whoever runs the `clavis` command line: they control the
/// host, its database and its master key, so they may act in every tenant.
///
/// Only [`Services::for_cli`] hands one out, and the server's `serve` path
/// builds its services with [`Services::new`], so no HTTP handler can ever
/// hold one.
pub struct CliAuthority {
    _private: (),
}

impl std::fmt::Debug for CliAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CliAuthority")
    }
}

impl CliAuthority {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }

    /// Full rights in `tenant_id`; `NotFound("tenant")` when there is none.
    pub async fn tenant_scope(&self, services: &Services, tenant_id: &str) -> Result<TenantScope<Write>> {
        if !services.tenant_exists(tenant_id).await? {
            return Err(Error::NotFound("tenant"));
        }
        Ok(TenantScope::new(tenant_id.to_owned(), Actor::Cli, None))
    }

    /// Operator rights: create and list tenants.
    pub fn operator_scope(&self) -> OperatorScope {
        OperatorScope { actor: Actor::Cli, source_addr: None }
    }
}

/// Narrows what a caller was granted to the level the adapter asks for;
/// `Forbidden` when it asks for more than the caller holds.
fn narrow<A: AccessLevel>(granted: GrantedScope) -> Result<TenantScope<A>> {
    if A::WRITES && !granted.can_write() {
        return Err(Error::Forbidden);
    }
    let scope = granted.into_read();
    Ok(TenantScope::new(scope.tenant_id().to_owned(), scope.actor().clone(), scope.source_addr().map(str::to_owned)))
}

impl Services {
    async fn tenant_exists(&self, tenant_id: &str) -> Result<bool> {
        if !could_exist(tenant_id) {
            return Ok(false);
        }
        Ok(tenant::Entity::find_by_id(tenant_id.to_owned()).one(self.db()).await?.is_some())
    }

    /// What a signed-in dashboard user may do in `tenant_id`. A tenant the
    /// user cannot see is reported as not found, so its existence leaks not.
    pub async fn granted_scope_for_user(
        &self,
        user_id: &str,
        tenant_id: &str,
        source_addr: Option<String>,
    ) -> Result<GrantedScope> {
        let user = user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)?;
        let actor = Actor::User { id: user.id.clone(), email: user.email.clone() };
        if !self.tenant_exists(tenant_id).await? {
            return Err(Error::NotFound("tenant"));
        }
        if user.is_operator {
            self.check_admin_second_factor(&user.id, tenant_id).await?;
            return Ok(GrantedScope::Write(TenantScope::new(tenant_id.to_owned(), actor, source_addr)));
        }
        let membership = membership::Entity::find_by_id((user.id.clone(), tenant_id.to_owned()))
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let role = Role::parse(&membership.role).map_err(|_| Error::internal("stored member role is unknown"))?;
        let tenant_id = tenant_id.to_owned();
        if role == Role::Admin {
            // Viewers are not held to the tenant's second-factor rule.
            self.check_admin_second_factor(&user.id, &tenant_id).await?;
        }
        Ok(match role {
            Role::Admin => GrantedScope::Write(TenantScope::new(tenant_id, actor, source_addr)),
            Role::Viewer => GrantedScope::Read(TenantScope::new(tenant_id, actor, source_addr)),
        })
    }

    /// The signed-in user's scope at level `A` in `tenant_id`; `Forbidden`
    /// when a viewer asks for [`Write`].
    pub async fn scope_for_user<A: AccessLevel>(
        &self,
        user_id: &str,
        tenant_id: &str,
        source_addr: Option<String>,
    ) -> Result<TenantScope<A>> {
        narrow(self.granted_scope_for_user(user_id, tenant_id, source_addr).await?)
    }

    /// The operator scope of a signed-in user, if they are an operator.
    pub async fn operator_scope_for_user(&self, user_id: &str, source_addr: Option<String>) -> Result<OperatorScope> {
        let user = user::Entity::find_by_id(user_id.to_owned()).one(self.db()).await?.ok_or(Error::Unauthenticated)?;
        if !user.is_operator {
            return Err(Error::Forbidden);
        }
        Ok(OperatorScope { actor: Actor::User { id: user.id, email: user.email }, source_addr })
    }

    /// What an application calling the management API of `tenant_id` with a
    /// bearer access token may do.
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
    pub async fn granted_scope_for_application(
        &self,
        tenant_id: &str,
        bearer_token: &str,
        source_addr: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<GrantedScope> {
        if !could_exist(tenant_id) {
            return Err(Error::NotFound("tenant"));
        }
        let runtime = self.tenant_runtime(tenant_id, now).await?.ok_or(Error::NotFound("tenant"))?;
        let claims = self.active_token(&runtime, bearer_token, now).await?.ok_or(Error::Unauthenticated)?;
        // A token minted for another audience (a downstream API that could
        // replay it) never opens the management API.
        if !claims.aud.iter().any(|aud| *aud == runtime.management_url) {
            return Err(Error::Unauthenticated);
        }
        let held =
            self.client_access(&runtime.tenant_id, &claims.client_id, now).await?.ok_or(Error::Unauthenticated)?;
        // The write scope includes read (see `management_scopes`), so a
        // token asked for with only the write scope may still read.
        let token_writes = claims.has_scope(MANAGEMENT_WRITE);
        let token_reads = token_writes || claims.has_scope(MANAGEMENT_READ);
        let actor = Actor::Application { client_id: claims.client_id };
        let scope_tenant = runtime.tenant_id.clone();
        match held {
            ManagementAccess::Write if token_writes => {
                Ok(GrantedScope::Write(TenantScope::new(scope_tenant, actor, source_addr)))
            }
            ManagementAccess::Write | ManagementAccess::Read if token_reads => {
                Ok(GrantedScope::Read(TenantScope::new(scope_tenant, actor, source_addr)))
            }
            _ => Err(Error::Forbidden),
        }
    }
}

/// The scopes an application with `access` is entitled to.
pub(crate) fn management_scopes(access: ManagementAccess) -> &'static [&'static str] {
    match access {
        ManagementAccess::None => &[],
        ManagementAccess::Read => &[MANAGEMENT_READ],
        ManagementAccess::Write => &[MANAGEMENT_READ, MANAGEMENT_WRITE],
    }
}
