//! The services handle shared by every adapter (REST, dashboard, CLI).

mod applications;
mod audit;
mod auth;
mod client_assertion;
mod client_credentials;
mod client_keys;
mod clients;
mod directory;
mod discovery;
mod dpop_binding;
mod dpop_nonce;
mod dpop_settings;
mod federated_auth;
mod federated_credentials;
mod ids;
mod invalidation;
mod invalidation_listener;
mod invitations;
mod key_schedule;
mod keyring;
mod members;
mod one_time;
mod paging;
mod password_policy;
mod passwords;
mod protected;
mod recovery_codes;
mod remote_jwks;
mod replay;
mod reseal;
mod roles;
mod second_factor;
mod secrets;
mod sessions;
mod shared_throttle;
mod sign_in_throttle;
mod tenants;
mod throttle;
mod token_calls;
mod token_config;
mod token_endpoint;
mod tokens;
mod totp;
mod trusted_issuers;
mod usage;
mod usage_counts;
mod users;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait};

use crate::Result;
use crate::clock::Clock;
use crate::crypto::MasterKey;

pub use applications::{
    ApplicationPage, ApplicationUpdate, ApplicationView, ListQuery, MAX_PAGE as MAX_APPLICATION_PAGE, NewApplication,
    PreviousSecret,
};
pub use audit::{AuditEntry, AuditPage, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};
pub use auth::{CliAuthority, OperatorScope};
pub use client_credentials::TokenResponse;
pub use client_keys::{ClientKeySummary, ClientKeys, ClientKeysInput, CredentialKind};
pub use directory::{
    DEFAULT_DIRECTORY_MIN_PASSWORD_CHARS, DEFAULT_DIRECTORY_PAGE, DEFAULT_REFRESH_LIFETIME_SECS, DirectoryPage,
    DirectoryPasswordPolicy, DirectoryQuery, DirectoryUser, DirectoryUserUpdate, MAX_DIRECTORY_MIN_PASSWORD_CHARS,
    MAX_DIRECTORY_PAGE, MAX_DIRECTORY_QUERY_CHARS, MAX_REFRESH_LIFETIME_SECS, MIN_DIRECTORY_MIN_PASSWORD_CHARS,
    NewDirectoryUser, PasswordWork, RefreshConfig, UserInfo, UserStatus,
};
pub use dpop_settings::DpopConfig;
pub use federated_auth::MAX_FEDERATED_TOKEN_AGE_SECS;
pub use federated_credentials::{
    FederatedCredentialView, MAX_FEDERATED_AUDIENCE_CHARS, MAX_FEDERATED_CREDENTIALS, MAX_FEDERATED_SUBJECT_CHARS,
    NewFederatedCredential,
};
pub use invalidation::FALLBACK_CACHE_TTL_SECS;
pub use invitations::{INVITATION_LIFETIME_HOURS, Invitation, InvitationDetails, NewInvitation};
pub use key_schedule::{
    DEFAULT_KEY_ROTATION_DAYS, KeyRotation, KeyScheduleRun, MAX_KEY_ROTATION_DAYS, MIN_KEY_ROTATION_DAYS,
    NEXT_KEY_LEAD_SECS,
};
pub use keyring::{SigningKeyInfo, SigningKeyState};
pub use members::Member;
pub use one_time::OneTimeLink;
pub use password_policy::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_new_password, is_common_password};
pub use passwords::PASSWORD_RESET_LIFETIME_MINUTES;
pub use recovery_codes::{RECOVERY_CODE_COUNT, RecoveryCodes};
pub use reseal::{DEFAULT_RESEAL_BATCH, MasterKeyInfo, ResealReport, SealedCounts};
pub use roles::{Role, RoleAccess, RoleInput, RoleRef};
pub use second_factor::{PENDING_SIGN_IN_SECS, PendingSignIn, SignIn, TenantSecurity};
pub use secrets::RotatedSecret;
pub use sessions::{SESSION_MAX_LIFETIME_SECS, SessionRecord};
pub use shared_throttle::MAX_SHARED_KEYS;
pub use sign_in_throttle::MAX_SIGN_IN_DELAY;
pub use tenants::{NewTenant, TenantInfo};
pub use token_config::TokenConfig;
pub use totp::{SecondFactorStatus, TotpEnrolment};
pub use trusted_issuers::{MAX_TRUSTED_ISSUERS, NewTrustedIssuer, TrustedIssuerView};
pub use usage::TokenUsage;
pub use usage_counts::{FLUSH_EVERY_AT_LEAST, pause_after_flush};
pub use users::{BootstrapAdmin, DEFAULT_BOOTSTRAP_EMAIL, SessionUser, TenantMembership};

/// Failed client authentications allowed before each attempt is delayed:
/// generous, because a misconfigured service retrying is the usual cause.
const CLIENT_FREE_FAILURES: u32 = 10;

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
    login_throttle: sign_in_throttle::SignInThrottle,
    client_auth_throttle: throttle::FailureThrottle,
    /// Failed password grants of Cloud Directory users.
    directory_sign_ins: sign_in_throttle::SignInThrottle,
    /// Where the password grant's argon2id verifications run.
    password_work: directory::PasswordWork,
    keyrings: keyring::KeyringCache,
    clients: clients::ClientCache,
    usage: usage_counts::UsageCounters,
    invalidation: invalidation::InvalidationState,
    replay: replay::ReplayState,
    /// Keys fetched from admin-stored URLs (`jwks_uri`s, discovery).
    remote_jwks: remote_jwks::RemoteJwks,
    /// Each tenant's trusted issuers, for federated client authentication.
    trusted_issuers: trusted_issuers::IssuerCache,
}

impl Services {
    /// `public_url` is the externally visible base URL, e.g. `https://id.example.com`.
    /// The services of a serving process: no [`CliAuthority`] exists in it.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, master_key: MasterKey, public_url: &str) -> Self {
        let login_throttle = sign_in_throttle::SignInThrottle::new(&db);
        let directory_sign_ins = sign_in_throttle::SignInThrottle::for_password_grant(&db);
        let client_auth_throttle = throttle::FailureThrottle::on(&db, "client", CLIENT_FREE_FAILURES);
        Self {
            inner: Arc::new(Inner {
                db,
                clock,
                master_key,
                public_url: public_url.trim_end_matches('/').to_owned(),
                login_throttle,
                client_auth_throttle,
                directory_sign_ins,
                password_work: directory::password_work_for_this_machine(),
                keyrings: keyring::KeyringCache::default(),
                clients: clients::ClientCache::default(),
                usage: usage_counts::UsageCounters::default(),
                invalidation: invalidation::InvalidationState::default(),
                replay: replay::ReplayState::default(),
                remote_jwks: remote_jwks::RemoteJwks::default(),
                trusted_issuers: trusted_issuers::IssuerCache::default(),
            }),
        }
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock before anything else: a deferred transaction that reads and then
    /// writes fails at once with "database is locked" whenever another
    /// connection (the usage flush, a second admin) holds the lock, because
    /// SQLite never waits on a read-to-write upgrade; asking for the lock
    /// first waits out the busy timeout instead, like any single statement.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction> {
        let txn = self.inner.db.begin().await?;
        if txn.get_database_backend() == DbBackend::Sqlite {
            // A write that matches no row: it changes nothing and takes the lock.
            txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 0").await?;
        }
        Ok(txn)
    }

    /// Closes the database pool: at shutdown, after the last usage flush.
    /// Every later call that needs the database fails as unavailable.
    pub async fn close_database(&self) -> Result<()> {
        Ok(self.inner.db.clone().close().await?)
    }

    /// The services of the `clavis` command line, with the authority of
    /// whoever controls the host (see [`CliAuthority`]).
    pub fn for_cli(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        master_key: MasterKey,
        public_url: &str,
    ) -> (Self, CliAuthority) {
        (Self::new(db, clock, master_key, public_url), CliAuthority::new())
    }

    /// The current time from the injected clock; adapters pass it on.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// A tenant's management API: `{PUBLIC}/management/v4/{tenantId}`, also
    /// the audience a management token must be requested for.
    pub fn management_url(&self, tenant_id: &str) -> String {
        format!("{}/management/v4/{}", self.inner.public_url, tenant_id)
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
