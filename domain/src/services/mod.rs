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
mod usage;
mod users;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::crypto::MasterKey;

pub use applications::MAX_PAGE as MAX_APPLICATION_PAGE;
pub use applications::{
    ApplicationPage, ApplicationView, DEFAULT_GRACE_SECS, ListQuery, MAX_APPLICATION_NAME_CHARS, MAX_GRACE_SECS,
    ManagementAccess, PreviousSecret, RotatedSecret,
};
pub use audit::{AuditEntry, AuditPage, AuditRecord, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};
pub use auth::OperatorScope;
pub use clients::{AuthenticatedClient, CLIENT_CACHE_TTL_SECS, oauth_failure};
pub use keyring::TenantRuntime;
pub use members::Member;
pub use tenants::{MAX_TENANT_NAME_CHARS, NewTenant, TenantInfo};
pub use throttle::FailureThrottle;
pub use tokens::TokenResponse;
pub use usage::{DEFAULT_USAGE_MINUTES, MAX_USAGE_MINUTES, TokenUsage, UsageMinute};
pub use users::{BootstrapAdmin, DEFAULT_BOOTSTRAP_EMAIL, SessionUser, TenantMembership};

/// Failed client authentications allowed before each attempt is delayed:
/// generous, because a misconfigured service retrying is the usual cause.
const CLIENT_FREE_FAILURES: u32 = 10;

fn client_throttle_key(client_id: &str, source: IpAddr) -> String {
    format!("{client_id}|{source}")
}

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
    login_throttle: FailureThrottle,
    client_auth_throttle: FailureThrottle,
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
                login_throttle: FailureThrottle::new(5),
                client_auth_throttle: FailureThrottle::new(CLIENT_FREE_FAILURES),
                keyrings: keyring::KeyringCache::default(),
                clients: clients::ClientCache::default(),
                usage: clients::UsageCounters::default(),
            }),
        }
    }

    /// Seconds a client must wait before authenticating again from `source`
    /// after repeated failures, if any. Keyed by client and address so that a
    /// stranger's wrong guesses cannot lock a working client out.
    pub fn client_auth_wait(&self, client_id: &str, source: IpAddr, now: DateTime<Utc>) -> Option<u64> {
        let throttle = &self.inner.client_auth_throttle;
        if throttle.is_idle() {
            return None;
        }
        throttle.wait_required(&client_throttle_key(client_id, source), now)
    }

    pub fn record_client_auth_failure(&self, client_id: &str, source: IpAddr, now: DateTime<Utc>) {
        self.inner.client_auth_throttle.record_failure(&client_throttle_key(client_id, source), now);
    }

    pub fn record_client_auth_success(&self, client_id: &str, source: IpAddr) {
        let throttle = &self.inner.client_auth_throttle;
        if !throttle.is_idle() {
            throttle.record_success(&client_throttle_key(client_id, source));
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
