//! A tenant's trusted workload-identity issuers (a Kubernetes cluster,
//! GitHub Actions, any OpenID provider): whose tokens may stand for an
//! application through its federated credentials, and where their keys come
//! from (a `jwks_uri`, static keys, or the issuer's discovery document).
//! The token path reads them from a per-tenant cache dropped on every change.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clavis_oauth::jose::client_keys::import_jwks;
use clavis_oauth::jose::client_verify::ClientKeySet;
use clavis_oauth::jose::jwk::JwkSet;
use clavis_types::MAX_APPLICATION_NAME_CHARS;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use super::Services;
use super::audit::AuditRecord;
use super::invalidation::Invalidation;
use super::remote_jwks::check_fetch_url;
use super::tenants::validate_display_name;
use crate::entities::{federated_credential, trusted_issuer};
use crate::scope::{AccessLevel, TenantScope, Write};
use crate::{Error, Result};

/// The most trusted issuers one tenant may have.
pub const MAX_TRUSTED_ISSUERS: u64 = 50;

/// Tenants whose trusted issuers one process keeps.
const MAX_CACHED_TENANTS: usize = 10_000;

/// A trusted issuer to create. Give `jwks_uri`, or `jwks` (a JWKS as JSON
/// text, public keys only), or neither: then the keys come from the
/// issuer's OpenID discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrustedIssuer {
    pub name: String,
    pub issuer: String,
    pub jwks_uri: Option<String>,
    pub jwks: Option<String>,
}

/// A trusted issuer as the adapters show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuerView {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub jwks_uri: Option<String>,
    pub jwks: Option<JwkSet>,
    pub created_at: DateTime<Utc>,
}

/// Where the token path finds an issuer's keys.
pub(super) enum IssuerKeys {
    Static(ClientKeySet),
    JwksUri(String),
    Discovery,
}

/// One trusted issuer as the token path needs it.
pub(super) struct CachedIssuer {
    pub(super) id: String,
    pub(super) keys: IssuerKeys,
}

#[derive(Clone)]
struct Slot {
    /// By `issuer`, exactly as stored.
    issuers: Arc<std::collections::HashMap<String, Arc<CachedIssuer>>>,
    loaded_at: DateTime<Utc>,
}

/// Each tenant's trusted issuers, until a change drops them.
pub(crate) struct IssuerCache {
    tenants: quick_cache::sync::Cache<String, Slot>,
}

impl Default for IssuerCache {
    fn default() -> Self {
        Self { tenants: quick_cache::sync::Cache::new(MAX_CACHED_TENANTS) }
    }
}

/// The issuer as stored: trimmed, an https URL (http only on loopback),
/// without query or fragment (OpenID Connect Discovery 1.0 §3: "a case
/// sensitive URL using the https scheme that contains scheme, host, and
/// optionally, port number and path components and no query or fragment
/// components").
fn validate_issuer(issuer: &str) -> Result<String> {
    let issuer = issuer.trim();
    let parsed = check_fetch_url(issuer).map_err(|err| Error::validation(format!("issuer: {err}")))?;
    if parsed.query().is_some() {
        return Err(Error::validation("issuer: URL must not have a query"));
    }
    Ok(issuer.to_owned())
}

fn view(model: trusted_issuer::Model) -> TrustedIssuerView {
    TrustedIssuerView {
        jwks: model.jwks.as_deref().and_then(|text| serde_json::from_str(text).ok()),
        created_at: DateTime::from_timestamp(model.created_at, 0).unwrap_or_default(),
        id: model.id,
        name: model.name,
        issuer: model.issuer,
        jwks_uri: model.jwks_uri,
    }
}

impl Services {
    /// Trusts `new.issuer` for the tenant; `(tenant, issuer)` is unique
    /// (409). Static keys are checked like an application's (public keys
    /// only); a `jwks_uri` must be https (http on loopback). Nothing is
    /// fetched here: keys are fetched when a token of the issuer comes.
    pub async fn create_trusted_issuer(
        &self,
        scope: &TenantScope<Write>,
        new: NewTrustedIssuer,
        now: DateTime<Utc>,
    ) -> Result<TrustedIssuerView> {
        let name = validate_display_name(&new.name, "name", MAX_APPLICATION_NAME_CHARS)?;
        let issuer = validate_issuer(&new.issuer)?;
        let jwks_uri = new.jwks_uri.map(|uri| uri.trim().to_owned()).filter(|uri| !uri.is_empty());
        let jwks = new.jwks.filter(|text| !text.trim().is_empty());
        if jwks_uri.is_some() && jwks.is_some() {
            return Err(Error::validation("give jwks_uri or jwks, not both"));
        }
        if let Some(uri) = &jwks_uri {
            check_fetch_url(uri).map_err(|err| Error::validation(format!("jwks_uri: {err}")))?;
        }
        let jwks = match jwks {
            Some(text) => {
                let set = import_jwks(&text).map_err(|err| Error::validation(format!("jwks: {err}")))?;
                Some(serde_json::to_string(&set).map_err(Error::internal)?)
            }
            None => None,
        };
        let txn = self.begin_write().await?;
        let tenant_issuers =
            trusted_issuer::Entity::find().filter(trusted_issuer::Column::TenantId.eq(scope.tenant_id()));
        if tenant_issuers.clone().count(&txn).await? >= MAX_TRUSTED_ISSUERS {
            return Err(Error::Conflict(format!("a tenant may trust at most {MAX_TRUSTED_ISSUERS} issuers")));
        }
        if tenant_issuers.filter(trusted_issuer::Column::Issuer.eq(&issuer)).one(&txn).await?.is_some() {
            return Err(Error::Conflict("this issuer is already trusted".to_owned()));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let model = trusted_issuer::ActiveModel {
            id: Set(id.clone()),
            tenant_id: Set(scope.tenant_id().to_owned()),
            name: Set(name.clone()),
            issuer: Set(issuer.clone()),
            jwks_uri: Set(jwks_uri.clone()),
            jwks: Set(jwks.clone()),
            created_at: Set(now.timestamp()),
        }
        .insert(&txn)
        .await
        .map_err(|err| match err.sql_err() {
            // Another admin trusted the same issuer at the same moment.
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                Error::Conflict("this issuer is already trusted".to_owned())
            }
            _ => Error::from(err),
        })?;
        let keys = match (&jwks_uri, &jwks) {
            (Some(_), _) => "jwks_uri",
            (None, Some(_)) => "jwks",
            (None, None) => "discovery",
        };
        AuditRecord::in_scope(scope, "trusted_issuer.create", &id)
            .with_details(serde_json::json!({"name": name, "issuer": issuer, "jwksUri": jwks_uri, "keys": keys}))
            .write(&txn, now)
            .await?;
        self.commit_invalidating(txn, &[Invalidation::TrustedIssuers(scope.tenant_id().to_owned())]).await?;
        Ok(view(model))
    }

    /// The tenant's trusted issuers, oldest first.
    pub async fn list_trusted_issuers(&self, scope: &TenantScope<impl AccessLevel>) -> Result<Vec<TrustedIssuerView>> {
        let rows = trusted_issuer::Entity::find()
            .filter(trusted_issuer::Column::TenantId.eq(scope.tenant_id()))
            .order_by_asc(trusted_issuer::Column::CreatedAt)
            .order_by_asc(trusted_issuer::Column::Id)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Stops trusting an issuer; the federated credentials that name it go
    /// with it, in the same transaction, so its tokens stop working at once.
    pub async fn delete_trusted_issuer(&self, scope: &TenantScope<Write>, id: &str, now: DateTime<Utc>) -> Result<()> {
        let txn = self.begin_write().await?;
        let issuer = trusted_issuer::Entity::find_by_id(id.to_owned())
            .filter(trusted_issuer::Column::TenantId.eq(scope.tenant_id()))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("trusted issuer"))?;
        let credentials = federated_credential::Entity::find()
            .filter(federated_credential::Column::IssuerId.eq(id))
            .filter(federated_credential::Column::TenantId.eq(scope.tenant_id()))
            .all(&txn)
            .await?;
        federated_credential::Entity::delete_many()
            .filter(federated_credential::Column::IssuerId.eq(id))
            .exec(&txn)
            .await?;
        trusted_issuer::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
        AuditRecord::in_scope(scope, "trusted_issuer.delete", id)
            .with_details(serde_json::json!({
                "name": issuer.name,
                "issuer": issuer.issuer,
                "federatedCredentialsDeleted": credentials.len(),
            }))
            .write(&txn, now)
            .await?;
        let mut changes = vec![Invalidation::TrustedIssuers(scope.tenant_id().to_owned())];
        let mut clients: Vec<String> = credentials.into_iter().map(|row| row.client_id).collect();
        clients.sort();
        clients.dedup();
        changes.extend(clients.into_iter().map(Invalidation::Client));
        self.commit_invalidating(txn, &changes).await
    }

    pub(super) fn forget_trusted_issuers(&self, tenant_id: &str) {
        self.inner.trusted_issuers.tenants.remove(tenant_id);
    }

    pub(super) fn forget_all_trusted_issuers(&self) {
        self.inner.trusted_issuers.tenants.clear();
    }

    /// The tenant's trusted issuer whose `issuer` is `iss` exactly, from the
    /// cache (loaded on a miss, kept until a change drops it).
    pub(super) async fn trusted_issuer_for(
        &self,
        tenant_id: &str,
        iss: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<CachedIssuer>>> {
        let cache = &self.inner.trusted_issuers.tenants;
        if let Some(slot) = cache.get(tenant_id)
            && self.cache_entry_fresh(slot.loaded_at, now)
        {
            return Ok(slot.issuers.get(iss).cloned());
        }
        let generation = self.inner.invalidation.generation();
        let rows = trusted_issuer::Entity::find()
            .filter(trusted_issuer::Column::TenantId.eq(tenant_id))
            .all(self.db())
            .await?;
        let mut issuers = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let keys = match (row.jwks_uri, row.jwks) {
                (Some(uri), _) => IssuerKeys::JwksUri(uri),
                (None, Some(text)) => {
                    let parsed = serde_json::from_str::<JwkSet>(&text).ok().map(|set| ClientKeySet::from_jwks(&set));
                    match parsed {
                        Some(Ok(keys)) => IssuerKeys::Static(keys),
                        // Checked when stored; a row changed by hand is left out.
                        _ => {
                            tracing::warn!(issuer_id = %row.id, "a trusted issuer's stored keys do not parse");
                            continue;
                        }
                    }
                }
                (None, None) => IssuerKeys::Discovery,
            };
            issuers.insert(row.issuer, Arc::new(CachedIssuer { id: row.id, keys }));
        }
        let issuers = Arc::new(issuers);
        let found = issuers.get(iss).cloned();
        cache.insert(tenant_id.to_owned(), Slot { issuers, loaded_at: now });
        self.keep_if_current(generation, || {
            cache.remove(tenant_id);
        });
        Ok(found)
    }
}
