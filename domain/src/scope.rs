//! Who is acting, in which tenant, with which rights.
//!
//! A [`TenantScope<Read>`] or [`TenantScope<Write>`] can only be built by the
//! authorisation functions of this crate (`services::auth`), so holding one
//! proves the membership and role were checked. Every method that changes a
//! tenant takes a `&TenantScope<Write>`, so a viewer's write does not compile:
//!
//! ```compile_fail
//! # async fn f(services: domain::Services, viewer: domain::TenantScope<domain::Read>) {
//! let now = services.now();
//! services.delete_application(&viewer, "client", now).await;
//! # }
//! ```
//!
//! and the capability cannot be made outside the auth layer:
//!
//! ```compile_fail
//! let scope: domain::TenantScope<domain::Write> = domain::TenantScope::new(
//!     "tenant".into(), domain::Actor::Cli, None,
//! );
//! ```

use std::marker::PhantomData;

pub use clavis_types::MemberRole as Role;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Read {}
    impl Sealed for super::Write {}
}

/// The right to read a tenant (every member has it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {}

/// The right to change a tenant (admins, write-enabled applications, the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {}

/// [`Read`] or [`Write`]; sealed, so no other level can be invented.
pub trait AccessLevel: sealed::Sealed + Send + Sync + 'static {
    /// Whether this level may change the tenant.
    const WRITES: bool;
}

impl AccessLevel for Read {
    const WRITES: bool = false;
}

impl AccessLevel for Write {
    const WRITES: bool = true;
}

/// The party behind a call, as written to the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    User {
        id: String,
        email: String,
    },
    Application {
        client_id: String,
    },
    /// The `clavis` command line, run by whoever controls the host.
    Cli,
    /// Clavis itself, acting on a tenant's schedule (key rotation).
    Schedule,
}

impl Actor {
    pub fn label(&self) -> &str {
        match self {
            Actor::User { email, .. } => email,
            Actor::Application { client_id } => client_id,
            Actor::Cli => "cli",
            Actor::Schedule => "schedule",
        }
    }
}

/// Proof that `actor` may act in `tenant_id` with the rights of `A`.
#[derive(Clone, Debug)]
pub struct TenantScope<A: AccessLevel> {
    tenant_id: String,
    actor: Actor,
    source_addr: Option<String>,
    level: PhantomData<fn() -> A>,
}

impl<A: AccessLevel> TenantScope<A> {
    pub(crate) fn new(tenant_id: String, actor: Actor, source_addr: Option<String>) -> Self {
        Self { tenant_id, actor, source_addr, level: PhantomData }
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn source_addr(&self) -> Option<&str> {
        self.source_addr.as_deref()
    }
}

impl TenantScope<Write> {
    /// The same caller with read rights only.
    pub fn to_read(&self) -> TenantScope<Read> {
        TenantScope::new(self.tenant_id.clone(), self.actor.clone(), self.source_addr.clone())
    }
}

/// What the auth layer found a caller may do in a tenant: the capability
/// itself, so an adapter that needs to know (the dashboard shows write
/// controls only to writers) holds the proof, not a flag.
#[derive(Clone, Debug)]
pub enum GrantedScope {
    Read(TenantScope<Read>),
    Write(TenantScope<Write>),
}

impl GrantedScope {
    pub fn can_write(&self) -> bool {
        matches!(self, GrantedScope::Write(_))
    }

    pub fn tenant_id(&self) -> &str {
        match self {
            GrantedScope::Read(scope) => scope.tenant_id(),
            GrantedScope::Write(scope) => scope.tenant_id(),
        }
    }

    /// Read rights, which every granted scope includes.
    pub fn into_read(self) -> TenantScope<Read> {
        match self {
            GrantedScope::Read(scope) => scope,
            GrantedScope::Write(scope) => scope.to_read(),
        }
    }

    /// Write rights, or `None` for a reader.
    pub fn into_write(self) -> Option<TenantScope<Write>> {
        match self {
            GrantedScope::Read(_) => None,
            GrantedScope::Write(scope) => Some(scope),
        }
    }
}
