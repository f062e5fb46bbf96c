//! The token endpoint's view of applications: an in-memory cache of client
//! digests (bounded lifetime, dropped locally on every write), constant-time
//! secret checks, and usage counters flushed in batches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::Services;
use super::applications::ManagementAccess;
use crate::Result;
use crate::crypto::{digests_match, hex_decode_32, secret_digest};
use crate::entities::{application, application_usage, client_secret};
use crate::oauth::OAuthError;
use crate::oauth::client_auth::ClientCredentials;

/// How long another process's change may go unseen here.
pub const CLIENT_CACHE_TTL_SECS: i64 = 5;
const MAX_CACHED_CLIENTS: usize = 200_000;

#[derive(Debug)]
struct CachedSecret {
    id: String,
    digest: [u8; 32],
    expires_at: Option<i64>,
}

#[derive(Debug)]
struct CachedClient {
    tenant_id: String,
    management_access: ManagementAccess,
    secrets: Vec<CachedSecret>,
}

struct CacheSlot {
    /// `None` remembers that the client does not exist.
    client: Option<Arc<CachedClient>>,
    loaded_at: DateTime<Utc>,
}

/// A client whose secret checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    pub client_id: String,
    pub tenant_id: String,
    pub management_access: ManagementAccess,
}

#[derive(Default)]
pub(crate) struct ClientCache {
    slots: RwLock<HashMap<String, CacheSlot>>,
}

#[derive(Default)]
struct Usage {
    last_used: i64,
    tokens: i64,
    client_id: String,
    /// (start of minute, tokens) in time order; one entry per minute in use.
    minutes: Vec<(i64, i64)>,
}

/// Per-secret usage since the last flush.
#[derive(Default)]
pub(crate) struct UsageCounters {
    pending: Mutex<HashMap<String, Usage>>,
}

fn generic_failure() -> OAuthError {
    OAuthError::invalid_client("client authentication failed")
}

impl Services {
    pub(crate) fn forget_client(&self, client_id: &str) {
        if let Ok(mut slots) = self.inner.clients.slots.write() {
            slots.remove(client_id);
        }
    }

    async fn cached_client(&self, client_id: &str, now: DateTime<Utc>) -> Result<Option<Arc<CachedClient>>> {
        if let Ok(slots) = self.inner.clients.slots.read()
            && let Some(slot) = slots.get(client_id)
            && now >= slot.loaded_at
            && now - slot.loaded_at < Duration::seconds(CLIENT_CACHE_TTL_SECS)
        {
            return Ok(slot.client.clone());
        }
        let client = self.load_client(client_id).await?.map(Arc::new);
        if let Ok(mut slots) = self.inner.clients.slots.write() {
            if slots.len() >= MAX_CACHED_CLIENTS {
                slots.clear();
            }
            slots.insert(client_id.to_owned(), CacheSlot { client: client.clone(), loaded_at: now });
        }
        Ok(client)
    }

    async fn load_client(&self, client_id: &str) -> Result<Option<CachedClient>> {
        // Client IDs are UUIDs; anything else cannot exist, so skip the query.
        if uuid::Uuid::parse_str(client_id).is_err() {
            return Ok(None);
        }
        let Some(app) = application::Entity::find_by_id(client_id.to_owned()).one(self.db()).await? else {
            return Ok(None);
        };
        let secrets = client_secret::Entity::find()
            .filter(client_secret::Column::ClientId.eq(client_id))
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|row| {
                Some(CachedSecret { digest: hex_decode_32(&row.digest)?, id: row.id, expires_at: row.expires_at })
            })
            .collect();
        Ok(Some(CachedClient {
            tenant_id: app.tenant_id,
            management_access: ManagementAccess::parse(&app.management_access).unwrap_or_default(),
            secrets,
        }))
    }

    /// Checks a client's credentials for `tenant_id`. Every failure is the
    /// same `invalid_client`, whatever the cause.
    pub async fn authenticate_client(
        &self,
        tenant_id: &str,
        credentials: &ClientCredentials,
        now: DateTime<Utc>,
    ) -> std::result::Result<AuthenticatedClient, OAuthError> {
        let client = self
            .cached_client(&credentials.client_id, now)
            .await
            .map_err(|err| oauth_failure(&err))?
            .ok_or_else(generic_failure)?;
        if client.tenant_id != tenant_id {
            return Err(generic_failure());
        }
        let now_unix = now.timestamp();
        // Hashed once, however many secrets are live during a rotation.
        let presented = secret_digest(&credentials.client_secret);
        let matched = client
            .secrets
            .iter()
            .filter(|secret| secret.expires_at.is_none_or(|expires| expires > now_unix))
            .find(|secret| digests_match(&presented, &secret.digest))
            .ok_or_else(generic_failure)?;
        self.record_usage(&matched.id, &credentials.client_id, now_unix);
        Ok(AuthenticatedClient {
            client_id: credentials.client_id.clone(),
            tenant_id: client.tenant_id.clone(),
            management_access: client.management_access,
        })
    }

    /// The current management access of a client, `None` if it is gone.
    pub async fn client_access(
        &self,
        tenant_id: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ManagementAccess>> {
        Ok(self
            .cached_client(client_id, now)
            .await?
            .filter(|client| client.tenant_id == tenant_id)
            .map(|client| client.management_access))
    }

    fn record_usage(&self, secret_id: &str, client_id: &str, now_unix: i64) {
        if let Ok(mut pending) = self.inner.usage.pending.lock() {
            // Look up before inserting, so a known secret costs no allocation.
            let usage = match pending.get_mut(secret_id) {
                Some(usage) => usage,
                None => pending
                    .entry(secret_id.to_owned())
                    .or_insert_with(|| Usage { client_id: client_id.to_owned(), ..Usage::default() }),
            };
            usage.last_used = usage.last_used.max(now_unix);
            usage.tokens += 1;
            let minute = super::usage::minute_start(now_unix);
            match usage.minutes.last_mut() {
                Some((start, count)) if *start == minute => *count += 1,
                _ => usage.minutes.push((minute, 1)),
            }
        }
    }

    /// Writes the usage counted since the last flush; the server calls this
    /// every few seconds and at shutdown. Returns the number of secrets updated.
    pub async fn flush_usage(&self) -> Result<usize> {
        let batch: HashMap<String, Usage> = match self.inner.usage.pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return Ok(0),
        };
        let mut per_app: HashMap<String, (i64, i64)> = HashMap::new();
        let mut per_minute: HashMap<(&str, i64), i64> = HashMap::new();
        for (secret_id, usage) in &batch {
            for (minute, count) in &usage.minutes {
                *per_minute.entry((usage.client_id.as_str(), *minute)).or_insert(0) += count;
            }
            client_secret::Entity::update_many()
                .col_expr(client_secret::Column::LastUsedAt, Expr::value(usage.last_used))
                .filter(client_secret::Column::Id.eq(secret_id.as_str()))
                .exec(self.db())
                .await?;
            let entry = per_app.entry(usage.client_id.clone()).or_insert((0, 0));
            entry.0 = entry.0.max(usage.last_used);
            entry.1 += usage.tokens;
        }
        for (client_id, (last_used, tokens)) in per_app {
            application::Entity::update_many()
                .col_expr(application::Column::LastUsedAt, Expr::value(last_used))
                .col_expr(application::Column::TokensIssued, Expr::col(application::Column::TokensIssued).add(tokens))
                .filter(application::Column::ClientId.eq(client_id))
                .exec(self.db())
                .await?;
        }
        for ((client_id, minute), tokens) in per_minute {
            application_usage::Entity::insert(application_usage::ActiveModel {
                client_id: Set(client_id.to_owned()),
                minute: Set(minute),
                tokens: Set(tokens),
            })
            .on_conflict(
                OnConflict::columns([application_usage::Column::ClientId, application_usage::Column::Minute])
                    .value(
                        application_usage::Column::Tokens,
                        Expr::col((application_usage::Entity, application_usage::Column::Tokens))
                            .add(Expr::col((Alias::new("excluded"), application_usage::Column::Tokens))),
                    )
                    .to_owned(),
            )
            .exec(self.db())
            .await?;
        }
        Ok(batch.len())
    }
}

/// The OAuth answer to a failure of the store: `temporarily_unavailable`
/// (503) when the database is away, `server_error` otherwise; the detail
/// goes to the log only.
pub fn oauth_failure(err: &crate::Error) -> OAuthError {
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
