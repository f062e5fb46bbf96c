//! Each tenant's signing state, held in memory: the tenant's settings, the
//! active signer (parsed once per process) and the published JWKS.
//!
//! An entry lives until a write invalidates it (see `invalidation`) or until
//! a key it publishes is due to leave the JWKS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use clavis_oauth::jose::Algorithm;
use clavis_oauth::jose::jwk::{Jwk, JwkSet};
use clavis_oauth::jose::sign::{self, Signer};
use clavis_oauth::jose::verify::KeySet;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use crate::crypto::SealContext;
use crate::entities::{application, signing_key, tenant};
use crate::scope::{TenantScope, Write};
use crate::{Error, Result};

/// Allowance for clocks of resource servers that run a little behind.
pub(super) const PUBLISH_SLACK_SECS: i64 = 300;

/// Until when a key that stops signing at `now` stays in the JWKS. A token
/// signed just before now may have been issued under a longer lifetime than
/// today's setting, so this covers the longest allowed one.
pub(super) fn publish_until_after_signing(now: DateTime<Utc>) -> i64 {
    now.timestamp() + clavis_types::MAX_TOKEN_LIFETIME_SECS + PUBLISH_SLACK_SECS
}

/// One tenant's settings and keys, as the OAuth endpoints need them.
pub(crate) struct TenantRuntime {
    pub tenant_id: String,
    pub issuer: String,
    pub default_scope: String,
    pub token_lifetime_secs: i64,
    pub signer: Arc<Signer>,
    /// The JWKS document, serialized once.
    pub jwks_json: String,
    /// Algorithms of the published keys, for the metadata document.
    pub published_algs: Vec<&'static str>,
    /// The published keys, parsed once, for verifying the tenant's own tokens.
    pub(crate) verification_keys: KeySet,
    /// The audience of the tenant's management tokens.
    pub(crate) management_url: String,
    /// Protected applications by identifier, and identifiers by client ID.
    pub(crate) by_identifier: HashMap<String, String>,
    pub(crate) identifier_of: HashMap<String, String>,
    /// DPoP proofs must carry a server nonce (RFC 9449 §8).
    pub(crate) dpop_nonce_required: bool,
    loaded_at: DateTime<Utc>,
    /// The Unix second at which a retired key it publishes leaves the JWKS,
    /// so the entry must be rebuilt then even if nothing is written.
    stale_at: Option<i64>,
}

#[derive(Default)]
pub(crate) struct KeyringCache {
    /// Looked up on every OAuth request, by IDs of tenants that exist:
    /// foldhash, seeded per process, is several times cheaper than SipHash.
    tenants: RwLock<foldhash::HashMap<String, Arc<TenantRuntime>>>,
    /// Parsed private keys by kid; kept across refreshes so no key is parsed twice.
    signers: Mutex<HashMap<String, Arc<Signer>>>,
}

/// Parses a signing algorithm named by a caller or stored in a row.
pub(crate) fn parse_signing_alg(text: &str) -> Result<Algorithm> {
    Algorithm::from_name(text).ok_or_else(|| Error::validation("signing algorithm must be RS256, ES256 or EdDSA"))
}

impl Services {
    /// The signing state of `tenant_id`, or `None` when there is no such tenant.
    pub(crate) async fn tenant_runtime(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<TenantRuntime>>> {
        if let Ok(tenants) = self.inner.keyrings.tenants.read()
            && let Some(entry) = tenants.get(tenant_id)
            && entry.stale_at.is_none_or(|stale_at| now.timestamp() < stale_at)
            && self.cache_entry_fresh(entry.loaded_at, now)
        {
            crate::metrics::keyring_cache_hit();
            return Ok(Some(entry.clone()));
        }
        metrics::counter!(crate::metrics::KEYRING_CACHE_MISSES).increment(1);
        let generation = self.inner.invalidation.generation();
        // Boxed: the cold path's state stays out of every token request's future.
        let Some(runtime) = Box::pin(self.load_runtime(tenant_id, now)).await? else {
            self.forget_runtime(tenant_id);
            return Ok(None);
        };
        let runtime = Arc::new(runtime);
        if let Ok(mut tenants) = self.inner.keyrings.tenants.write() {
            tenants.insert(tenant_id.to_owned(), runtime.clone());
        }
        self.keep_if_current(generation, || self.forget_runtime(tenant_id));
        Ok(Some(runtime))
    }

    pub(super) fn forget_runtime(&self, tenant_id: &str) {
        if let Ok(mut tenants) = self.inner.keyrings.tenants.write() {
            tenants.remove(tenant_id);
        }
    }

    pub(super) fn forget_all_runtimes(&self) {
        if let Ok(mut tenants) = self.inner.keyrings.tenants.write() {
            tenants.clear();
        }
    }

    async fn load_runtime(&self, tenant_id: &str, now: DateTime<Utc>) -> Result<Option<TenantRuntime>> {
        let Some(tenant) = tenant::Entity::find_by_id(tenant_id.to_owned()).one(self.db()).await? else {
            return Ok(None);
        };
        let keys = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(tenant_id))
            .filter(
                Condition::any()
                    .add(signing_key::Column::Status.is_in(["active", "next"]))
                    .add(signing_key::Column::PublishUntil.gt(now.timestamp())),
            )
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(self.db())
            .await?;
        let active = keys
            .iter()
            .find(|key| key.status == "active")
            .ok_or_else(|| Error::internal(format!("tenant {tenant_id} has no active signing key")))?;
        let signer = self.signer_for(active)?;
        let mut jwks = JwkSet { keys: Vec::with_capacity(keys.len()) };
        let mut published_algs = Vec::new();
        for key in &keys {
            let jwk: Jwk = serde_json::from_str(&key.public_jwk).map_err(Error::internal)?;
            let alg = parse_signing_alg(&key.alg)?;
            if !published_algs.contains(&alg.name()) {
                published_algs.push(alg.name());
            }
            jwks.keys.push(jwk);
        }
        let verification_keys = KeySet::from_jwks(&jwks);
        let named = application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant_id))
            .filter(application::Column::Identifier.is_not_null())
            .all(self.db())
            .await?;
        let mut by_identifier = HashMap::with_capacity(named.len());
        let mut identifier_of = HashMap::with_capacity(named.len());
        for app in named {
            if let Some(identifier) = app.identifier {
                by_identifier.insert(identifier.clone(), app.client_id.clone());
                identifier_of.insert(app.client_id, identifier);
            }
        }
        if let Some((kid, why)) = verification_keys.skipped().first() {
            return Err(Error::internal(format!("published key {kid} of tenant {tenant_id} is unusable: {why}")));
        }
        Ok(Some(TenantRuntime {
            issuer: self.oauth_server_url(tenant_id),
            tenant_id: tenant.id,
            default_scope: tenant.default_scope,
            token_lifetime_secs: tenant.token_lifetime_secs,
            signer,
            jwks_json: serde_json::to_string(&jwks).map_err(Error::internal)?,
            published_algs,
            verification_keys,
            management_url: self.management_url(tenant_id),
            by_identifier,
            identifier_of,
            dpop_nonce_required: tenant.dpop_nonce_required,
            loaded_at: now,
            stale_at: keys.iter().filter_map(|key| key.publish_until).min(),
        }))
    }

    fn signer_for(&self, key: &signing_key::Model) -> Result<Arc<Signer>> {
        if let Ok(signers) = self.inner.keyrings.signers.lock()
            && let Some(signer) = signers.get(&key.kid)
        {
            return Ok(signer.clone());
        }
        let der =
            self.master_key().open(&SealContext::signing_key(&key.tenant_id, &key.kid), &key.sealed_private_key)?;
        let signer =
            Arc::new(Signer::from_pkcs8(&key.kid, parse_signing_alg(&key.alg)?, &der).map_err(Error::internal)?);
        if let Ok(mut signers) = self.inner.keyrings.signers.lock() {
            signers.insert(key.kid.clone(), signer.clone());
        }
        Ok(signer)
    }

    pub(crate) async fn insert_signing_key<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        alg: Algorithm,
        now: DateTime<Utc>,
    ) -> Result<String> {
        self.insert_key_row(conn, tenant_id, alg, None, now).await
    }

    /// Inserts a new key: the signer, or with `activates_at` a key published
    /// ahead that the schedule makes the signer at that moment.
    pub(super) async fn insert_key_row<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        alg: Algorithm,
        activates_at: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        let generated = tokio::task::spawn_blocking(move || sign::generate(alg))
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        let sealed =
            self.master_key().seal(&SealContext::signing_key(tenant_id, &generated.kid), &generated.pkcs8_der)?;
        signing_key::ActiveModel {
            kid: Set(generated.kid.clone()),
            tenant_id: Set(tenant_id.to_owned()),
            alg: Set(alg.name().to_owned()),
            status: Set(if activates_at.is_some() { "next" } else { "active" }.to_owned()),
            sealed_private_key: Set(sealed),
            public_jwk: Set(serde_json::to_string(&generated.public_jwk).map_err(Error::internal)?),
            created_at: Set(now.timestamp()),
            retired_at: Set(None),
            publish_until: Set(None),
            activates_at: Set(activates_at),
        }
        .insert(conn)
        .await?;
        Ok(generated.kid)
    }

    /// Replaces the active signing key. The retired key stays in the JWKS
    /// until every token it signed has expired; `alg` switches the tenant's
    /// algorithm when given.
    pub async fn rotate_signing_key(
        &self,
        scope: &TenantScope<Write>,
        alg: Option<Algorithm>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let txn = self.begin_write().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let alg = match alg {
            Some(alg) => alg,
            None => parse_signing_alg(&tenant.signing_alg)?,
        };
        let publish_until = publish_until_after_signing(now);
        // A key the schedule published ahead never signed: a manual rotation
        // supersedes it, and the schedule counts from the new key.
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value("retired"))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now.timestamp()))
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .filter(signing_key::Column::Status.eq("next"))
            .exec(&txn)
            .await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value("retired"))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now.timestamp()))
            .col_expr(signing_key::Column::PublishUntil, Expr::value(publish_until))
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .filter(signing_key::Column::Status.eq("active"))
            .exec(&txn)
            .await?;
        let kid = self.insert_signing_key(&txn, scope.tenant_id(), alg, now).await?;
        if tenant.signing_alg != alg.name() {
            let mut active: tenant::ActiveModel = tenant.into();
            active.signing_alg = Set(alg.name().to_owned());
            active.updated_at = Set(now.timestamp());
            active.update(&txn).await?;
        }
        AuditRecord::in_scope(scope, "signing_key.rotate", &kid)
            .with_details(serde_json::json!({"alg": alg.name()}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Runtime(scope.tenant_id().to_owned())]).await?;
        Ok(kid)
    }

    /// The kill switch of a signing key: it leaves the JWKS at once and no
    /// token it signed verifies here any more. Revoking the active key puts
    /// a new one (same algorithm) in its place first. Returns the active kid.
    pub async fn revoke_signing_key(
        &self,
        scope: &TenantScope<Write>,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let key = signing_key::Entity::find_by_id(kid.to_owned())
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("signing key"))?;
        if key.status == "revoked" {
            return Err(Error::Conflict(format!("signing key {kid} is already revoked")));
        }
        if key.status == "active" {
            self.rotate_signing_key(scope, None, now).await?;
        }
        let txn = self.begin_write().await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value("revoked"))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now.timestamp()))
            .col_expr(signing_key::Column::PublishUntil, Expr::value(Option::<i64>::None))
            .filter(signing_key::Column::Kid.eq(kid))
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .exec(&txn)
            .await?;
        let active = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .filter(signing_key::Column::Status.eq("active"))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::internal("no active signing key after a revocation"))?;
        AuditRecord::in_scope(scope, "signing_key.revoke", kid)
            .with_details(serde_json::json!({"activeKid": active.kid}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::Runtime(scope.tenant_id().to_owned())]).await?;
        if let Ok(mut signers) = self.inner.keyrings.signers.lock() {
            signers.remove(kid);
        }
        Ok(active.kid)
    }

    /// The tenant's signing keys, newest first, with what each one does now
    /// (signs, is still published for tokens it signed, or no longer counts).
    pub async fn list_signing_keys(
        &self,
        scope: &TenantScope<impl crate::scope::AccessLevel>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SigningKeyInfo>> {
        let mut rows = signing_key::Entity::find()
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .order_by_desc(signing_key::Column::CreatedAt)
            .order_by_asc(signing_key::Column::Kid)
            .all(self.db())
            .await?;
        // Times are whole seconds: of keys made in the same second, the active one is the newest.
        rows.sort_by_key(|row| (std::cmp::Reverse(row.created_at), row.status != "active"));
        let at = |secs: i64| {
            DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(|| Error::internal("key time out of range"))
        };
        rows.into_iter()
            .map(|row| {
                let state = match (row.status.as_str(), row.publish_until) {
                    ("active", _) => SigningKeyState::Active,
                    ("next", _) => SigningKeyState::Next,
                    ("revoked", _) => SigningKeyState::Revoked,
                    (_, Some(until)) if until > now.timestamp() => SigningKeyState::Previous,
                    _ => SigningKeyState::Expired,
                };
                Ok(SigningKeyInfo {
                    algorithm: parse_signing_alg(&row.alg)?,
                    state,
                    created_at: at(row.created_at)?,
                    retired_at: row.retired_at.map(at).transpose()?,
                    activates_at: match state {
                        SigningKeyState::Next | SigningKeyState::Active => row.activates_at.map(at).transpose()?,
                        _ => None,
                    },
                    published_until: match state {
                        SigningKeyState::Previous => row.publish_until.map(at).transpose()?,
                        _ => None,
                    },
                    kid: row.kid,
                })
            })
            .collect()
    }
}

/// What a signing key does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeyState {
    /// Signs new tokens.
    Active,
    /// Published ahead by the rotation schedule; signs from `activates_at`.
    Next,
    /// Replaced, still in the JWKS until every token it signed has expired.
    Previous,
    /// Replaced long enough ago that no token it signed is still valid.
    Expired,
    /// Revoked: out of the JWKS, its tokens fail.
    Revoked,
}

/// One signing key as the adapters list it (the public facts only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub algorithm: Algorithm,
    pub state: SigningKeyState,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    /// When a scheduled key starts (or started) signing.
    pub activates_at: Option<DateTime<Utc>>,
    /// Until when a previous key stays in the JWKS.
    pub published_until: Option<DateTime<Utc>>,
}
