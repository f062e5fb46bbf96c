//! The services handle shared by every adapter (REST, dashboard, CLI).

mod applications;
mod audit;
mod auth;
mod clients;
mod keyring;
mod members;
mod tenants;
mod throttle;
mod tokens;
mod users;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::crypto::MasterKey;

pub use applications::{
    ApplicationPage, ApplicationView, DEFAULT_GRACE_SECS, ListQuery, MAX_APPLICATION_NAME_CHARS, MAX_GRACE_SECS,
    ManagementAccess, PreviousSecret, RotatedSecret,
};
pub use applications::MAX_PAGE as MAX_APPLICATION_PAGE;
pub use audit::{AuditEntry, AuditPage, AuditRecord, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};
pub use auth::OperatorScope;
pub use clients::{AuthenticatedClient, CLIENT_CACHE_TTL_SECS};
pub use tokens::TokenResponse;
pub use keyring::TenantRuntime;
pub use members::Member;
pub use tenants::{NewTenant, TenantInfo};
pub use throttle::LoginThrottle;
pub use users::{BootstrapAdmin, DEFAULT_BOOTSTRAP_EMAIL, SessionUser, TenantMembership};

/// Everything a service call needs: the database, the clock, the master key
/// and the process-local caches. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    master_key: MasterKey,
    public_url: String,
    login_throttle: LoginThrottle,
    keyrings: keyring::KeyringCache,
    clients: clients::ClientCache,
    usage: clients::UsageCounters,
}

impl Services {
    /// `public_url` is the externally visible base URL, e.g. `https://id.example.com`.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, master_key: MasterKey, public_url: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                clock,
                master_key,
                public_url: public_url.trim_end_matches('/').to_owned(),
                login_throttle: LoginThrottle::default(),
                keyrings: keyring::KeyringCache::default(),
                clients: clients::ClientCache::default(),
                usage: clients::UsageCounters::default(),
            }),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// The current time from the injected clock; adapters pass it on.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// A tenant's `oAuthServerUrl`, which is also its token issuer.
    pub fn oauth_server_url(&self, tenant_id: &str) -> String {
        format!("{}/oauth/v4/{}", self.inner.public_url, tenant_id)
    }

    pub(crate) fn master_key(&self) -> &MasterKey {
        &self.inner.master_key
    }

    /// Whether the database answers a trivial query.
    pub async fn database_ready(&self) -> bool {
        use sea_orm::ConnectionTrait;
        self.inner.db.execute_unprepared("SELECT 1").await.is_ok()
    }
}
