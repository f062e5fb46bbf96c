//! The token endpoint's view of applications: an in-memory cache of client
//! digests (kept until a write invalidates them, see `invalidation`), constant-time
//! secret checks, and usage counters flushed in batches.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use clavis_oauth::client_auth::{AuthMethod, ClientCredentials, ClientProof};
use clavis_oauth::{ErrorCode, OAuthError};
use clavis_types::ManagementAccess;

use super::Services;
use super::ids::could_exist;
use super::keyring::TenantRuntime;
use super::usage_counts::UsageCell;
use crate::Result;
use crate::crypto::{digests_match, hex_decode_32, secret_digest};
use crate::entities::{application, application_role, client_secret, federated_credential, role_scope};

/// The most clients one process keeps: a bound on memory whatever client IDs
/// callers make up. Past it, single entries are evicted (quick_cache's
/// S3-FIFO keeps the clients in use), never the whole cache. Twice the
/// 100,000 active applications the benchmark drives: the bound is split
/// among the cache's shards, and a cache filled to it would evict clients
/// in use and send them back to the database. An application with one
/// secret takes about 600 bytes here.
pub(crate) const MAX_CACHED_CLIENTS: usize = 200_000;

/// The grants of a client with no roles, most of them: one allocation for
/// the process, not one per cached client.
fn no_grants() -> Arc<[Grant]> {
    static NONE: std::sync::LazyLock<Arc<[Grant]>> = std::sync::LazyLock::new(|| Arc::from(Vec::new()));
    NONE.clone()
}

fn client_throttle_key(client_id: &str, source: IpAddr) -> String {
    format!("{client_id}|{}", super::throttle::address_key(source))
}

#[derive(Debug)]
struct CachedSecret {
    /// Its tokens' counts, and its ID.
    usage: Arc<UsageCell>,
    digest: [u8; 32],
    expires_at: Option<i64>,
}

#[derive(Debug)]
pub(super) struct CachedClient {
    /// The cache's key, shared with each authentication of the client.
    pub(super) client_id: Arc<str>,
    pub(super) tenant_id: String,
    pub(super) management_access: ManagementAccess,
    /// Exactly as many as it has: a collected `Vec` would keep the
    /// allocation of the rows it came from, about a kilobyte per client.
    secrets: Box<[CachedSecret]>,
    pub(super) grants: Arc<[Grant]>,
    tokens_revoked_before: Option<i64>,
    /// Its tokens must be DPoP-bound.
    pub(super) dpop_required: bool,
    /// Its `private_key_jwt` keys; an application with keys has no secret.
    pub(super) keys: Option<super::client_assertion::ClientKeys>,
    /// Its federated credentials: which trusted issuers' tokens stand for it.
    pub(super) federated: Box<[super::federated_auth::FederatedMatch]>,
}

/// What the services need to know of a client that holds a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientStanding {
    pub(crate) management_access: ManagementAccess,
    /// Its tokens issued at or before this Unix second are revoked.
    pub(crate) tokens_revoked_before: Option<i64>,
}

/// What a caller's roles grant on one protected application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The protected application's client ID.
    pub(crate) audience: String,
    pub(crate) scopes: Vec<String>,
}

#[derive(Clone)]
struct CacheSlot {
    /// `None` remembers that the client does not exist.
    client: Option<Arc<CachedClient>>,
    loaded_at: DateTime<Utc>,
}

/// A client whose secret checked out (of the runtime's tenant). Its members
/// are shared with the cached client, so an authentication copies no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthenticatedClient {
    pub(crate) client_id: Arc<str>,
    pub(crate) management_access: ManagementAccess,
    pub(crate) grants: Arc<[Grant]>,
    /// Its tokens must be DPoP-bound (a request without a proof is refused).
    pub(crate) dpop_required: bool,
}

impl CachedClient {
    /// This client as authenticated, whatever proved it.
    pub(super) fn authenticated(&self) -> AuthenticatedClient {
        AuthenticatedClient {
            client_id: self.client_id.clone(),
            management_access: self.management_access,
            grants: self.grants.clone(),
            dpop_required: self.dpop_required,
        }
    }
}

/// An authenticated client and the credential it used (whose usage a token counts).
#[derive(Debug)]
pub(crate) struct AuthenticatedCaller {
    pub(crate) client: AuthenticatedClient,
    pub(crate) usage: Arc<UsageCell>,
}

pub(crate) struct ClientCache {
    slots: crate::metrics::CountedCache<Arc<str>, CacheSlot>,
}

impl Default for ClientCache {
    fn default() -> Self {
        Self { slots: crate::metrics::counted_cache(MAX_CACHED_CLIENTS, crate::metrics::CLIENT_CACHE_EVICTIONS) }
    }
}

impl ClientCache {
    /// Entries held now (for the bound's test).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

fn generic_failure() -> OAuthError {
    OAuthError::invalid_client("client authentication failed")
}

impl Services {
    pub(super) fn forget_client(&self, client_id: &str) {
        self.inner.clients.slots.remove(client_id);
    }

    /// Drops the cached clients of one tenant: after a change to its roles
    /// or scopes, which may alter what any of its callers is granted. Such
    /// changes are rare, so visiting every entry once is acceptable; a
    /// remembered unknown client belongs to no tenant and stays.
    pub(super) fn forget_tenant_clients(&self, tenant_id: &str) {
        self.inner
            .clients
            .slots
            .retain(|_, slot| slot.client.as_ref().is_none_or(|client| client.tenant_id != tenant_id));
    }

    pub(super) fn forget_all_clients(&self) {
        self.inner.clients.slots.clear();
    }

    async fn cached_client(&self, client_id: &str, now: DateTime<Utc>) -> Result<Option<Arc<CachedClient>>> {
        if let Some(slot) = self.inner.clients.slots.get(client_id)
            && self.cache_entry_fresh(slot.loaded_at, now)
        {
            crate::metrics::client_cache_hit();
            return Ok(slot.client.clone());
        }
        metrics::counter!(crate::metrics::CLIENT_CACHE_MISSES).increment(1);
        let generation = self.inner.invalidation.generation();
        // Boxed: the database read is the cold path, and kept inline its state
        // would make every token request's future larger.
        let key: Arc<str> = Arc::from(client_id);
        let client = Box::pin(self.load_client(&key)).await?.map(Arc::new);
        self.inner.clients.slots.insert(key, CacheSlot { client: client.clone(), loaded_at: now });
        self.keep_if_current(generation, || {
            self.inner.clients.slots.remove(client_id);
        });
        Ok(client)
    }

    async fn load_client(&self, client_id: &Arc<str>) -> Result<Option<CachedClient>> {
        if !could_exist(client_id) {
            return Ok(None);
        }
        let Some(app) = application::Entity::find_by_id(client_id.to_string()).one(self.db()).await? else {
            return Ok(None);
        };
        let secrets = client_secret::Entity::find()
            .filter(client_secret::Column::ClientId.eq(&**client_id))
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(CachedSecret {
                    digest: hex_decode_32(&row.digest)?,
                    usage: UsageCell::new(row.id.into(), client_id.clone()),
                    expires_at: row.expires_at,
                })
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        let grants = self.load_grants(client_id).await?;
        let federated = federated_credential::Entity::find()
            .filter(federated_credential::Column::ClientId.eq(&**client_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| super::federated_auth::FederatedMatch {
                issuer_id: row.issuer_id,
                subject: row.subject,
                audience: row.audience,
                usage: UsageCell::new(row.id.into(), client_id.clone()),
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        let keys = super::client_assertion::ClientKeys::of(&app, client_id);
        Ok(Some(CachedClient {
            client_id: client_id.clone(),
            tenant_id: app.tenant_id,
            management_access: ManagementAccess::parse(&app.management_access).unwrap_or_default(),
            secrets,
            grants,
            tokens_revoked_before: app.tokens_revoked_before,
            dpop_required: app.dpop_required,
            keys,
            federated,
        }))
    }

    /// What the roles of `client_id` grant, per protected application, in
    /// the order each application lists its scopes.
    async fn load_grants(&self, client_id: &str) -> Result<Arc<[Grant]>> {
        let roles: Vec<String> = application_role::Entity::find()
            .filter(application_role::Column::ClientId.eq(client_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.role_id)
            .collect();
        if roles.is_empty() {
            return Ok(no_grants());
        }
        let rows = role_scope::Entity::find().filter(role_scope::Column::RoleId.is_in(roles)).all(self.db()).await?;
        let mut audiences: Vec<String> = rows.iter().map(|row| row.client_id.clone()).collect();
        audiences.sort();
        audiences.dedup();
        let apps =
            application::Entity::find().filter(application::Column::ClientId.is_in(audiences)).all(self.db()).await?;
        let mut grants = Vec::with_capacity(apps.len());
        for app in apps {
            let defined = super::protected::stored_scopes(&app)?;
            let scopes: Vec<String> = defined
                .into_iter()
                .filter(|scope| rows.iter().any(|row| row.client_id == app.client_id && &row.scope == scope))
                .collect();
            if !scopes.is_empty() {
                grants.push(Grant { audience: app.client_id, scopes });
            }
        }
        Ok(Arc::from(grants))
    }

    /// The OAuth endpoints' view of a tenant: its runtime, or the error to
    /// answer with (404 for an unknown tenant, 503 when the store is away).
    pub(crate) async fn oauth_tenant(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> std::result::Result<Arc<TenantRuntime>, OAuthError> {
        if !could_exist(tenant_id) {
            return Err(OAuthError::unknown_tenant());
        }
        match self.tenant_runtime(tenant_id, now).await {
            Ok(Some(runtime)) => Ok(runtime),
            Ok(None) => Err(OAuthError::unknown_tenant()),
            Err(err) => Err(oauth_failure(&err)),
        }
    }

    /// Client authentication for every OAuth endpoint, with a throttle on
    /// failures per client and source address: while the client has failed
    /// too often from `source`, a wrong secret is answered 429 (with
    /// `Retry-After`) instead of 401. The right secret always succeeds, so
    /// nobody who knows only a client ID (it is in every token's `sub`) can
    /// lock a working service out.
    pub(crate) async fn authenticate_throttled(
        &self,
        runtime: &TenantRuntime,
        credentials: &ClientCredentials,
        source: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> std::result::Result<AuthenticatedCaller, OAuthError> {
        let used_basic = credentials.method == AuthMethod::ClientSecretBasic;
        let client_id = credentials.client_id.as_str();
        // A made-up ID never reaches the cache or the throttle, so it can
        // grow neither.
        if !could_exist(client_id) {
            return Err(generic_failure().with_basic_challenge(used_basic));
        }
        let outcome = self
            .authenticate_client(runtime, credentials, now)
            .await
            .map_err(|err| err.with_basic_challenge(used_basic));
        let Some(source) = source else { return outcome };
        // The throttle is consulted only once the secret has failed: the
        // right secret always succeeds, so a working client costs one atomic
        // load here (its key is not even written), and no statement even
        // when the counts are shared.
        let throttle = &self.inner.client_auth_throttle;
        match outcome {
            Ok(caller) => {
                if !throttle.is_idle() {
                    Box::pin(throttle.record_success(&client_throttle_key(client_id, source))).await;
                }
                Ok(caller)
            }
            Err(err) if err.code == ErrorCode::InvalidClient => {
                let key = client_throttle_key(client_id, source);
                // Only a client that exists has a secret to guess: its
                // failures are shared with every replica; an unknown ID's
                // stay in this bounded map.
                let wait = if self.is_known_client(client_id) {
                    // Boxed like every cold path: the failure's statements
                    // do not enlarge the future of each token request.
                    Box::pin(async {
                        let wait = throttle.wait_required(&key, now).await;
                        throttle.record_failure(&key, now).await;
                        wait
                    })
                    .await
                } else {
                    let wait = throttle.local_wait(&key, now);
                    throttle.record_local_failure(&key, now);
                    wait
                };
                match wait {
                    Some(wait) => {
                        crate::metrics::throttled(crate::metrics::THROTTLE_CLIENT_AUTHENTICATION);
                        Err(OAuthError::too_many_failures(wait))
                    }
                    None => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Whether `client_id` is a client this process has loaded.
    fn is_known_client(&self, client_id: &str) -> bool {
        self.inner.clients.slots.get(client_id).is_some_and(|slot| slot.client.is_some())
    }

    /// Checks a client's credentials for `tenant_id`. Every failure is the
    /// same `invalid_client`, whatever the cause.
    async fn authenticate_client(
        &self,
        runtime: &TenantRuntime,
        credentials: &ClientCredentials,
        now: DateTime<Utc>,
    ) -> std::result::Result<AuthenticatedCaller, OAuthError> {
        let client = self
            .cached_client(&credentials.client_id, now)
            .await
            .map_err(|err| oauth_failure(&err))?
            .ok_or_else(generic_failure)?;
        if client.tenant_id != runtime.tenant_id {
            return Err(generic_failure());
        }
        let secret = match &credentials.proof {
            // A key-authenticated application has no secret: none works.
            ClientProof::Secret(_) if client.keys.is_some() => return Err(generic_failure()),
            ClientProof::Secret(secret) => secret,
            ClientProof::Assertion(assertion) => {
                return Box::pin(self.authenticate_assertion(runtime, &credentials.client_id, &client, assertion, now))
                    .await;
            }
        };
        let now_unix = now.timestamp();
        // Hashed once, however many secrets are live during a rotation.
        let presented = secret_digest(secret);
        let matched = client
            .secrets
            .iter()
            .filter(|secret| secret.expires_at.is_none_or(|expires| expires > now_unix))
            .find(|secret| digests_match(&presented, &secret.digest))
            .ok_or_else(generic_failure)?;
        Ok(AuthenticatedCaller { client: client.authenticated(), usage: matched.usage.clone() })
    }

    /// The current management access of a client, `None` if it is gone.
    pub(crate) async fn client_access(
        &self,
        tenant_id: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ManagementAccess>> {
        Ok(self.client_standing(tenant_id, client_id, now).await?.map(|standing| standing.management_access))
    }

    /// The client's current access and token kill switch, `None` if it is gone.
    pub(crate) async fn client_standing(
        &self,
        tenant_id: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ClientStanding>> {
        Ok(self.cached_client(client_id, now).await?.filter(|client| client.tenant_id == tenant_id).map(|client| {
            ClientStanding {
                management_access: client.management_access,
                tokens_revoked_before: client.tokens_revoked_before,
            }
        }))
    }
}

/// The OAuth answer to a failure of the store: `temporarily_unavailable`
/// (503) when the database is away, `server_error` otherwise; the detail
/// goes to the log only.
pub(crate) fn oauth_failure(err: &crate::Error) -> OAuthError {
    match err {
        crate::Error::Unavailable(detail) => {
            tracing::warn!(%detail, "database unavailable during an OAuth request");
            OAuthError::temporarily_unavailable()
        }
        other => {
            tracing::error!(error = %other, "OAuth request failed");
            OAuthError::server_error()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_cache_evicts_single_entries_past_its_bound() {
        let cache = ClientCache::default();
        let now = Utc::now();
        for i in 0..(MAX_CACHED_CLIENTS + MAX_CACHED_CLIENTS / 2) {
            cache.slots.insert(Arc::from(format!("{i:036}")), CacheSlot { client: None, loaded_at: now });
        }
        assert!(cache.len() <= MAX_CACHED_CLIENTS, "{} entries", cache.len());
        // Eviction takes single entries: the cache is far from wiped.
        assert!(cache.len() > MAX_CACHED_CLIENTS / 2, "{} entries", cache.len());
    }
}
