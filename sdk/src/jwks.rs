//! The issuer's signing keys: discovery, JWKS fetch, cache and rate-limited refetch.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use clavis_oauth::jose::jwk::JwkSet;
use clavis_oauth::jose::verify::KeySet;
use serde::Deserialize;

use crate::clock::Clock;
use crate::error::is_allowed_url;
use crate::http::{BodyError, MAX_BODY_BYTES, read_capped};

/// The keys as of one fetch. Replaced whole, never mutated.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) keys: KeySet,
    /// Bumped by every successful fetch.
    pub(crate) generation: u64,
    fetched_at: Option<SystemTime>,
}

/// Why keys could not be refreshed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("key refresh skipped: the last attempt was less than the minimum interval ago")]
    RateLimited,
    #[error("request to {url} failed: {reason}")]
    Http { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} returned an unreadable document: {reason}")]
    Document { url: String, reason: String },
    #[error("discovery names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    #[error("discovery names jwks_uri {0:?}, which is not https (nor http to a loopback host)")]
    InsecureJwksUri(String),
}

#[derive(Debug, Default)]
struct RefreshState {
    jwks_uri: Option<String>,
    last_attempt: Option<SystemTime>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Settings of a [`KeyCache`].
#[derive(Debug, Clone)]
pub(crate) struct KeyCacheConfig {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) min_refresh_interval: Duration,
    pub(crate) max_age: Duration,
}

/// Shared by every clone of a validator.
#[derive(Debug)]
pub(crate) struct KeyCache {
    config: KeyCacheConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    current: RwLock<Arc<Snapshot>>,
    /// Held while fetching: one refresh at a time, shared by all waiters.
    refresh: tokio::sync::Mutex<RefreshState>,
}

impl KeyCache {
    pub(crate) fn new(config: KeyCacheConfig, http: reqwest::Client, clock: Arc<dyn Clock>) -> Self {
        let state = RefreshState { jwks_uri: config.jwks_uri.clone(), last_attempt: None };
        Self {
            config,
            http,
            clock,
            current: RwLock::new(Arc::new(Snapshot::default())),
            refresh: tokio::sync::Mutex::new(state),
        }
    }

    /// The current keys (no I/O).
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether the keys are older than the maximum age.
    pub(crate) fn is_stale(&self, snapshot: &Snapshot, now: SystemTime) -> bool {
        snapshot.fetched_at.is_some_and(|at| now.duration_since(at).unwrap_or(Duration::ZERO) > self.config.max_age)
    }

    /// Refetches the keys unless another caller already did since `seen`
    /// (the generation the caller looked at), or the last attempt was less
    /// than the minimum interval ago.
    pub(crate) async fn refresh(&self, seen: u64) -> Result<Arc<Snapshot>, FetchError> {
        let mut state = self.refresh.lock().await;
        let current = self.snapshot();
        if current.generation != seen {
            return Ok(current);
        }
        let now = self.clock.now();
        if let Some(last) = state.last_attempt {
            let since = now.duration_since(last).unwrap_or(Duration::ZERO);
            if since < self.config.min_refresh_interval {
                return Err(FetchError::RateLimited);
            }
        }
        state.last_attempt = Some(now);
        match self.fetch(&mut state).await {
            Ok(keys) => {
                tracing::debug!(issuer = %self.config.issuer, keys = keys.len(), "fetched signing keys");
                let generation = current.generation.saturating_add(1);
                let next = Arc::new(Snapshot { keys, generation, fetched_at: Some(now) });
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&next);
                Ok(next)
            }
            Err(err) => {
                tracing::warn!(issuer = %self.config.issuer, error = %err, "could not fetch signing keys");
                // Discover again next time, in case the JWKS moved.
                if self.config.jwks_uri.is_none() {
                    state.jwks_uri = None;
                }
                Err(err)
            }
        }
    }

    /// Refreshes stale keys in the background; requests keep using the
    /// current keys meanwhile.
    pub(crate) fn refresh_in_background(self: &Arc<Self>, seen: u64) {
        let Ok(state) = self.refresh.try_lock() else {
            return; // a refresh is under way
        };
        let now = self.clock.now();
        if state
            .last_attempt
            .is_some_and(|last| now.duration_since(last).unwrap_or(Duration::ZERO) < self.config.min_refresh_interval)
        {
            return; // tried recently (and failed, or the keys would not be stale)
        }
        drop(state);
        let cache = Arc::clone(self);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = cache.refresh(seen).await;
            });
        }
    }

    async fn fetch(&self, state: &mut RefreshState) -> Result<KeySet, FetchError> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = self.discover().await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let body = self.get(&jwks_uri).await?;
        let jwks: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Document { url: jwks_uri.clone(), reason: e.to_string() })?;
        let keys = KeySet::from_jwks(&jwks);
        for (kid, why) in keys.skipped() {
            tracing::warn!(kid, why, "skipping unusable JWK");
        }
        Ok(keys)
    }

    async fn discover(&self) -> Result<String, FetchError> {
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let body = self.get(&url).await?;
        let doc: Discovery = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Document { url: url.clone(), reason: e.to_string() })?;
        if doc.issuer != self.config.issuer {
            return Err(FetchError::IssuerMismatch { expected: self.config.issuer.clone(), found: doc.issuer });
        }
        // The keys decide which tokens are trusted: fetched over plain http
        // from the network, anyone on the path could substitute their own.
        if !is_allowed_url(&doc.jwks_uri) {
            return Err(FetchError::InsecureJwksUri(doc.jwks_uri));
        }
        Ok(doc.jwks_uri)
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let http_err = |e: reqwest::Error| FetchError::Http { url: url.to_owned(), reason: e.to_string() };
        let response =
            self.http.get(url).header(reqwest::header::ACCEPT, "application/json").send().await.map_err(http_err)?;
        if !response.status().is_success() {
            return Err(FetchError::Status { url: url.to_owned(), status: response.status().as_u16() });
        }
        read_capped(response, MAX_BODY_BYTES).await.map_err(|err| match err {
            BodyError::Http(e) => http_err(e),
            BodyError::TooLarge => {
                FetchError::Document { url: url.to_owned(), reason: format!("larger than {MAX_BODY_BYTES} bytes") }
            }
        })
    }
}
