//! Each tenant's signing state, held in memory: the tenant's settings, the
//! active signer (parsed once per process) and the published JWKS.
//!
//! Entries live at most [`KEYRING_TTL_SECS`]; a change made on this process
//! drops the entry at once, a change made by another process is seen when the
//! entry expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::DecodingKey;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::Services;
use super::audit::AuditRecord;
use crate::entities::{signing_key, tenant};
use crate::keys::{self, Signer, SigningAlg};
use crate::scope::TenantScope;
use crate::{Error, Result};

pub const KEYRING_TTL_SECS: i64 = 5;
/// Allowance for clocks of resource servers that run a little behind.
const PUBLISH_SLACK_SECS: i64 = 300;

/// One tenant's settings and keys, as the OAuth endpoints need them.
pub struct TenantRuntime {
    pub tenant_id: String,
    pub issuer: String,
    pub default_scope: String,
    pub token_lifetime_secs: i64,
    pub signer: Arc<Signer>,
    /// The JWKS document, serialized once.
    pub jwks_json: String,
    /// Algorithms of the published keys, for the metadata document.
    pub published_algs: Vec<&'static str>,
    verification_keys: Vec<(String, jsonwebtoken::Algorithm, DecodingKey)>,
    loaded_at: DateTime<Utc>,
}

impl TenantRuntime {
    pub fn verification_key(&self, kid: &str) -> Option<(jsonwebtoken::Algorithm, &DecodingKey)> {
        self.verification_keys.iter().find(|(known, _, _)| known == kid).map(|(_, alg, key)| (*alg, key))
    }
}

#[derive(Default)]
pub(crate) struct KeyringCache {
    tenants: RwLock<HashMap<String, Arc<TenantRuntime>>>,
    /// Parsed private keys by kid; kept across refreshes so no key is parsed twice.
    signers: Mutex<HashMap<String, Arc<Signer>>>,
}

fn jwt_algorithm(alg: SigningAlg) -> jsonwebtoken::Algorithm {
    match alg {
        SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
        SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
        SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
    }
}

impl Services {
    /// The signing state of `tenant_id`, or `None` when there is no such tenant.
    pub async fn tenant_runtime(&self, tenant_id: &str, now: DateTime<Utc>) -> Result<Option<Arc<TenantRuntime>>> {
        if let Ok(tenants) = self.inner.keyrings.tenants.read()
            && let Some(entry) = tenants.get(tenant_id)
            && now - entry.loaded_at < Duration::seconds(KEYRING_TTL_SECS)
            && now >= entry.loaded_at
        {
            return Ok(Some(entry.clone()));
        }
        let Some(runtime) = self.load_runtime(tenant_id, now).await? else {
            self.forget_runtime(tenant_id);
            return Ok(None);
        };
        let runtime = Arc::new(runtime);
        if let Ok(mut tenants) = self.inner.keyrings.tenants.write() {
            tenants.insert(tenant_id.to_owned(), runtime.clone());
        }
        Ok(Some(runtime))
    }

    pub(crate) fn forget_runtime(&self, tenant_id: &str) {
        if let Ok(mut tenants) = self.inner.keyrings.tenants.write() {
            tenants.remove(tenant_id);
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
                    .add(signing_key::Column::Status.eq("active"))
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
        let mut jwks = Vec::with_capacity(keys.len());
        let mut verification_keys = Vec::with_capacity(keys.len());
        let mut published_algs = Vec::new();
        for key in &keys {
            let jwk_value: serde_json::Value = serde_json::from_str(&key.public_jwk).map_err(Error::internal)?;
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk_value.clone()).map_err(Error::internal)?;
            let alg = SigningAlg::parse(&key.alg)?;
            let decoding = DecodingKey::from_jwk(&jwk).map_err(Error::internal)?;
            verification_keys.push((key.kid.clone(), jwt_algorithm(alg), decoding));
            if !published_algs.contains(&alg.as_str()) {
                published_algs.push(alg.as_str());
            }
            jwks.push(jwk_value);
        }
        Ok(Some(TenantRuntime {
            issuer: self.oauth_server_url(tenant_id),
            tenant_id: tenant.id,
            default_scope: tenant.default_scope,
            token_lifetime_secs: tenant.token_lifetime_secs,
            signer,
            jwks_json: serde_json::json!({ "keys": jwks }).to_string(),
            published_algs,
            verification_keys,
            loaded_at: now,
        }))
    }

    fn signer_for(&self, key: &signing_key::Model) -> Result<Arc<Signer>> {
        if let Ok(signers) = self.inner.keyrings.signers.lock()
            && let Some(signer) = signers.get(&key.kid)
        {
            return Ok(signer.clone());
        }
        let der = self.master_key().open(&signing_key_context(&key.kid), &key.sealed_private_key)?;
        let signer = Arc::new(Signer::from_pkcs8(&key.kid, SigningAlg::parse(&key.alg)?, &der)?);
        if let Ok(mut signers) = self.inner.keyrings.signers.lock() {
            signers.insert(key.kid.clone(), signer.clone());
        }
        Ok(signer)
    }

    pub(crate) async fn insert_signing_key<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant_id: &str,
        alg: SigningAlg,
        now: DateTime<Utc>,
    ) -> Result<String> {
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        let generated = tokio::task::spawn_blocking(move || keys::generate(alg)).await.map_err(Error::internal)??;
        let sealed = self.master_key().seal(&signing_key_context(&generated.kid), &generated.pkcs8_der)?;
        signing_key::ActiveModel {
            kid: Set(generated.kid.clone()),
            tenant_id: Set(tenant_id.to_owned()),
            alg: Set(alg.as_str().to_owned()),
            status: Set("active".to_owned()),
            sealed_private_key: Set(sealed),
            public_jwk: Set(generated.public_jwk.to_string()),
            created_at: Set(now.timestamp()),
            retired_at: Set(None),
            publish_until: Set(None),
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
        scope: &TenantScope,
        alg: Option<SigningAlg>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        scope.require_write()?;
        let txn = self.db().begin().await?;
        let tenant = tenant::Entity::find_by_id(scope.tenant_id().to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let alg = match alg {
            Some(alg) => alg,
            None => SigningAlg::parse(&tenant.signing_alg)?,
        };
        // A token signed just before now may have been issued under a longer
        // lifetime than today's setting, so publish for the longest allowed one.
        let publish_until = now.timestamp() + super::tenants::MAX_TOKEN_LIFETIME_SECS + PUBLISH_SLACK_SECS;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value("retired"))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now.timestamp()))
            .col_expr(signing_key::Column::PublishUntil, Expr::value(publish_until))
            .filter(signing_key::Column::TenantId.eq(scope.tenant_id()))
            .filter(signing_key::Column::Status.eq("active"))
            .exec(&txn)
            .await?;
        let kid = self.insert_signing_key(&txn, scope.tenant_id(), alg, now).await?;
        if tenant.signing_alg != alg.as_str() {
            let mut active: tenant::ActiveModel = tenant.into();
            active.signing_alg = Set(alg.as_str().to_owned());
            active.updated_at = Set(now.timestamp());
            active.update(&txn).await?;
        }
        AuditRecord::in_scope(scope, "signing_key.rotate", &kid)
            .with_details(serde_json::json!({"alg": alg.as_str()}))
            .write(&txn, now)
            .await?;
        txn.commit().await?;
        self.forget_runtime(scope.tenant_id());
        Ok(kid)
    }
}

fn signing_key_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}
