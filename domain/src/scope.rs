//! Who is acting, in which tenant, with which rights. A [`TenantScope`] can
//! only be built by the authorisation functions of this crate, so holding one
//! proves the membership and role were checked.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A user's role in a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            _ => Err(Error::validation("role must be admin or viewer")),
        }
    }
}

/// What a scope may do: read, or read and change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
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
}

impl Actor {
    pub fn label(&self) -> &str {
        match self {
            Actor::User { email, .. } => email,
            Actor::Application { client_id } => client_id,
            Actor::Cli => "cli",
        }
    }
}

/// Proof that `actor` may act in `tenant_id` with `access`.
#[derive(Clone, Debug)]
pub struct TenantScope {
    tenant_id: String,
    actor: Actor,
    access: Access,
    source_addr: Option<String>,
}

impl TenantScope {
    pub(crate) fn new(tenant_id: String, actor: Actor, access: Access, source_addr: Option<String>) -> Self {
        Self { tenant_id, actor, access, source_addr }
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn access(&self) -> Access {
        self.access
    }

    pub fn source_addr(&self) -> Option<&str> {
        self.source_addr.as_deref()
    }

    pub fn can_write(&self) -> bool {
        self.access == Access::Write
    }

    pub(crate) fn require_write(&self) -> Result<()> {
        if self.can_write() { Ok(()) } else { Err(Error::Forbidden) }
    }
}
