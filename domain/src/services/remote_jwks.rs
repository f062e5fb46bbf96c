//! Public keys fetched over HTTP for the token path: the JWKS at a
//! `jwks_uri` an admin stored (an application's keys, a trusted issuer's
//! keys) and the `jwks_uri` an issuer's OpenID discovery document names.
//!
//! Every URL fetched here comes from what an admin stored, never from a
//! request: a trusted issuer's discovery URL is built from the issuer row an
//! assertion's `iss` matched exactly, and the `jwks_uri` it yields must pass
//! [`check_fetch_url`] like any stored one. Fetches run on the token path,
//! which holds no database transaction; nothing here touches the database.
//!
//! Parsed key sets are cached per URL (bounded). A `kid` the cached set lacks
//! triggers a refetch, at most once a minute per URL, so tokens naming
//! made-up keys cannot turn Clavis into a flood against the key host. A
//! failed fetch keeps the last good keys in service and is logged with the
//! URL's host only.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clavis_oauth::jose::client_verify::ClientKeySet;
use clavis_oauth::jose::jwk::JwkSet;
use serde::Deserialize;
use url::Url;

use super::Services;

/// Largest JWKS or discovery document read: real ones are a few kilobytes.
pub(crate) const MAX_REMOTE_BODY_BYTES: usize = 64 * 1024;

/// Connect and whole-request timeout of one fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The shortest time between two fetches of one URL, whatever `kid`s callers
/// present (RFC 7517 leaves refetching to the relying party; a minute keeps
/// a key rotation at the issuer visible quickly without letting callers
/// drive traffic to it).
pub(crate) const MIN_REFETCH_INTERVAL_SECS: i64 = 60;

/// How long fetched keys are used without asking again: a key the issuer
/// withdrew stops working within this time (if the issuer answers).
pub(crate) const MAX_KEY_AGE_SECS: i64 = 300;

/// Longest URL accepted, the width of the columns that store them.
pub(crate) const MAX_FETCH_URL_CHARS: usize = 2048;

/// URLs whose keys (or discovered `jwks_uri`) one process keeps.
const MAX_CACHED_URLS: usize = 10_000;

const MAX_REDIRECTS: usize = 3;

/// Why keys could not be had. The descriptions are fixed strings, safe for
/// an `error_description`: they echo nothing of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFetchError {
    /// The keys were fetched, and none has the token's `kid`.
    UnknownKid,
    /// No keys could be fetched (and none were cached).
    Unavailable,
    /// Discovery failed: no document, or one for another issuer, or one
    /// without a usable `jwks_uri`.
    Discovery,
}

impl KeyFetchError {
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::UnknownKid => "the assertion is signed with an unknown key",
            Self::Unavailable => "the signing keys could not be fetched",
            Self::Discovery => "the issuer's discovery document could not be used",
        }
    }
}

/// Checks that `url` may be fetched: an absolute https URL, or http to a
/// loopback host (127.0.0.0/8, ::1, localhost) for tests and local
/// development, without credentials and at most [`MAX_FETCH_URL_CHARS`] long.
/// The error says which rule failed.
pub(crate) fn check_fetch_url(url: &str) -> crate::Result<Url> {
    if url.chars().count() > MAX_FETCH_URL_CHARS {
        return Err(crate::Error::validation(format!("URL must be at most {MAX_FETCH_URL_CHARS} characters")));
    }
    let parsed = Url::parse(url).map_err(|_| crate::Error::validation("URL is not a valid absolute URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(crate::Error::validation("URL must not carry credentials"));
    }
    if parsed.fragment().is_some() {
        return Err(crate::Error::validation("URL must not have a fragment"));
    }
    let Some(host) = parsed.host_str().filter(|host| !host.is_empty()) else {
        return Err(crate::Error::validation("URL must name a host"));
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(host) => Ok(parsed),
        "http" => Err(crate::Error::validation("URL must use https (http only for a loopback host)")),
        _ => Err(crate::Error::validation("URL must use https")),
    }
}

/// `host` as the URL parser gives it: domains lowercased, IPv6 in brackets.
fn is_loopback(host: &str) -> bool {
    let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match unbracketed.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_canonical().is_loopback(),
        Err(_) => matches!(host, "localhost" | "localhost."),
    }
}

/// What one URL last gave, and when it was last asked.
struct SlotState<T> {
    value: Option<Arc<T>>,
    fetched_at: i64,
    attempted_at: Option<i64>,
}

/// One URL's cache entry. `fetching` makes concurrent callers that all need
/// a refetch wait for one fetch instead of each making their own.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
    fetching: tokio::sync::Mutex<()>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(SlotState { value: None, fetched_at: 0, attempted_at: None }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> Slot<T> {
    /// The cached value, when it answers the caller as it is: `satisfies`
    /// holds and it is younger than [`MAX_KEY_AGE_SECS`]; otherwise whether a
    /// fetch is allowed now.
    fn lookup(&self, now: i64, satisfies: &impl Fn(&T) -> bool) -> Lookup<T> {
        let Ok(state) = self.state.lock() else { return Lookup::Fetch };
        match &state.value {
            Some(value) if satisfies(value) && now - state.fetched_at < MAX_KEY_AGE_SECS => {
                Lookup::Fresh(value.clone())
            }
            value => {
                if state.attempted_at.is_some_and(|at| now - at < MIN_REFETCH_INTERVAL_SECS && now >= at) {
                    Lookup::Wait(value.clone())
                } else {
                    Lookup::Fetch
                }
            }
        }
    }

    fn record(&self, now: i64, fetched: Option<T>) -> Option<Arc<T>> {
        let Ok(mut state) = self.state.lock() else { return None };
        state.attempted_at = Some(now);
        if let Some(value) = fetched {
            state.value = Some(Arc::new(value));
            state.fetched_at = now;
        }
        state.value.clone()
    }
}

enum Lookup<T> {
    Fresh(Arc<T>),
    /// Fetched less than a minute ago: the last good value, if any.
    Wait(Option<Arc<T>>),
    Fetch,
}

type SlotCache<T> = quick_cache::sync::Cache<String, Arc<Slot<T>>>;

/// The fetcher and its caches, one per process.
pub(crate) struct RemoteJwks {
    client: OnceLock<Result<reqwest::Client, String>>,
    key_sets: SlotCache<ClientKeySet>,
    discovered: SlotCache<String>,
}

impl Default for RemoteJwks {
    fn default() -> Self {
        Self {
            client: OnceLock::new(),
            key_sets: SlotCache::new(MAX_CACHED_URLS),
            discovered: SlotCache::new(MAX_CACHED_URLS),
        }
    }
}

impl RemoteJwks {
    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client.get_or_init(build_client).as_ref().map_err(Clone::clone)
    }

    fn slot<T>(cache: &SlotCache<T>, url: &str) -> Arc<Slot<T>> {
        match cache.get_or_insert_with(url, || Ok::<_, std::convert::Infallible>(Arc::new(Slot::default()))) {
            Ok(slot) => slot,
            Err(never) => match never {},
        }
    }

    /// `url`'s value from the cache, or fetched with `fetch` when the cached
    /// one does not satisfy the caller and the last attempt is over a minute
    /// old. Returns the best value there is (possibly one that still does
    /// not satisfy), `None` when nothing was ever fetched.
    async fn cached_or_fetched<T, F, Fut>(
        &self,
        cache: &SlotCache<T>,
        url: &str,
        now: i64,
        satisfies: impl Fn(&T) -> bool,
        fetch: F,
    ) -> Option<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let slot = Self::slot(cache, url);
        match slot.lookup(now, &satisfies) {
            Lookup::Fresh(value) => return Some(value),
            Lookup::Wait(value) => return value,
            Lookup::Fetch => {}
        }
        let _one_fetch = slot.fetching.lock().await;
        // Someone else may have fetched while this caller waited.
        match slot.lookup(now, &satisfies) {
            Lookup::Fresh(value) => return Some(value),
            Lookup::Wait(value) => return value,
            Lookup::Fetch => {}
        }
        match fetch().await {
            Ok(value) => slot.record(now, Some(value)),
            Err(reason) => {
                let host = Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
                tracing::warn!(%host, %reason, "fetching remote keys failed; the last good ones stay in use");
                slot.record(now, None)
            }
        }
    }

    /// GETs `url` (already checked) and returns its body, read up to the cap.
    async fn get(&self, url: &Url) -> Result<Vec<u8>, String> {
        let client = self.client()?;
        let response = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| err.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status().as_u16()));
        }
        read_capped(response, MAX_REMOTE_BODY_BYTES).await
    }

    async fn fetch_key_set(&self, jwks_uri: &str) -> Result<ClientKeySet, String> {
        let url = check_fetch_url(jwks_uri).map_err(|err| err.to_string())?;
        let body = self.get(&url).await?;
        let jwks: JwkSet = serde_json::from_slice(&body).map_err(|_| "the body is not a JWKS".to_owned())?;
        let keys = ClientKeySet::from_jwks_lenient(&jwks);
        if keys.is_empty() {
            return Err("the JWKS holds no usable signing key".to_owned());
        }
        Ok(keys)
    }

    async fn fetch_discovery(&self, issuer: &str) -> Result<String, String> {
        let url = check_fetch_url(&discovery_url(issuer)).map_err(|err| err.to_string())?;
        let body = self.get(&url).await?;
        let document: DiscoveryDocument =
            serde_json::from_slice(&body).map_err(|_| "the discovery document is not valid".to_owned())?;
        // OpenID Connect Discovery 1.0 §4.3: the issuer value returned "MUST
        // be identical to the Issuer URL that was used as the prefix".
        if document.issuer != issuer {
            return Err("the discovery document names another issuer".to_owned());
        }
        let jwks_uri = document.jwks_uri.ok_or_else(|| "the discovery document has no jwks_uri".to_owned())?;
        check_fetch_url(&jwks_uri).map_err(|err| format!("its jwks_uri: {err}"))?;
        Ok(jwks_uri)
    }
}

/// OpenID Connect Discovery 1.0 §4: `{issuer}/.well-known/openid-configuration`,
/// with a trailing `/` of the issuer removed first.
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    #[serde(default)]
    jwks_uri: Option<String>,
}

/// Timeouts on connecting and on the whole request, and redirects followed
/// only to URLs [`check_fetch_url`] allows, so a redirect cannot downgrade a
/// fetch to plain http.
fn build_client() -> Result<reqwest::Client, String> {
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if check_fetch_url(attempt.url().as_str()).is_ok() {
            attempt.follow()
        } else {
            attempt.error("redirect to a URL that is not https (nor http to a loopback host)")
        }
    });
    reqwest::Client::builder()
        .connect_timeout(FETCH_TIMEOUT)
        .timeout(FETCH_TIMEOUT)
        .redirect(redirects)
        .build()
        .map_err(|err| format!("building the HTTP client: {err}"))
}

/// Reads the body, refusing at once a `Content-Length` over `limit` and
/// otherwise stopping as soon as the bytes received pass it, so a body that
/// never ends costs at most `limit` bytes.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let too_large = || format!("the body is over {limit} bytes");
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| err.without_url().to_string())? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Services {
    /// The key set at `jwks_uri` (an admin-stored URL) that holds `kid`.
    ///
    /// Served from the cache while it holds `kid` and is under
    /// [`MAX_KEY_AGE_SECS`] old; otherwise fetched, at most once per
    /// [`MIN_REFETCH_INTERVAL_SECS`] per URL. A failed fetch keeps the last
    /// good set. Call it with no database transaction open: it may wait up
    /// to the fetch timeout. The caller verifies with the returned set.
    pub(crate) async fn remote_key_set(
        &self,
        jwks_uri: &str,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<ClientKeySet>, KeyFetchError> {
        let remote = &self.inner.remote_jwks;
        let keys = remote
            .cached_or_fetched(
                &remote.key_sets,
                jwks_uri,
                now.timestamp(),
                |keys: &ClientKeySet| keys.has_kid(kid),
                || remote.fetch_key_set(jwks_uri),
            )
            .await
            .ok_or(KeyFetchError::Unavailable)?;
        if keys.has_kid(kid) { Ok(keys) } else { Err(KeyFetchError::UnknownKid) }
    }

    /// The `jwks_uri` of `issuer` (an admin-stored trusted issuer) from its
    /// OpenID discovery document, whose `issuer` must equal it exactly.
    /// Cached like key sets: refreshed after [`MAX_KEY_AGE_SECS`], at most
    /// once a minute, the last good answer kept when discovery fails. Call it
    /// with no database transaction open.
    pub(crate) async fn discovered_jwks_uri(
        &self,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<String>, KeyFetchError> {
        let remote = &self.inner.remote_jwks;
        remote
            .cached_or_fetched(&remote.discovered, issuer, now.timestamp(), |_| true, || remote.fetch_discovery(issuer))
            .await
            .ok_or(KeyFetchError::Discovery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://issuer.example/keys",
            "https://token.actions.githubusercontent.com",
            "http://127.0.0.1:8080/jwks",
            "http://127.9.9.9/jwks",
            "http://[::1]:9000/jwks",
            "http://localhost/jwks",
        ] {
            assert!(check_fetch_url(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://issuer.example/keys", "https"),
            ("http://10.0.0.1/keys", "https"),
            ("ftp://issuer.example/keys", "https"),
            ("file:///etc/passwd", "host"),
            ("/relative", "absolute"),
            ("https://user:pw@issuer.example/keys", "credentials"),
            ("https://issuer.example/keys#x", "fragment"),
        ] {
            match check_fetch_url(bad) {
                Err(crate::Error::Validation(message)) => assert!(message.contains(why), "{bad}: {message}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        let long = format!("https://issuer.example/{}", "a".repeat(MAX_FETCH_URL_CHARS));
        assert!(check_fetch_url(&long).is_err());
    }

    #[test]
    fn discovery_is_under_the_issuer() {
        assert_eq!(discovery_url("https://a.example"), "https://a.example/.well-known/openid-configuration");
        assert_eq!(discovery_url("https://a.example/t/"), "https://a.example/t/.well-known/openid-configuration");
    }

    #[test]
    fn a_slot_refetches_an_unknown_kid_at_most_once_a_minute() {
        let slot: Slot<u32> = Slot::default();
        let wants_two = |v: &u32| *v == 2;
        assert!(matches!(slot.lookup(1000, &wants_two), Lookup::Fetch));
        slot.record(1000, Some(1));
        assert!(matches!(slot.lookup(1000, &|_: &u32| true), Lookup::Fresh(_)));
        assert!(matches!(slot.lookup(1059, &wants_two), Lookup::Wait(Some(_))));
        assert!(matches!(slot.lookup(1060, &wants_two), Lookup::Fetch));
        // A failed attempt keeps the last good value and waits again.
        assert_eq!(slot.record(1060, None).as_deref(), Some(&1));
        assert!(matches!(slot.lookup(1100, &wants_two), Lookup::Wait(Some(_))));
        // Known keys are used until they are old, then asked for again.
        assert!(matches!(slot.lookup(1000 + MAX_KEY_AGE_SECS - 1, &|_: &u32| true), Lookup::Fresh(_)));
        assert!(matches!(slot.lookup(1000 + MAX_KEY_AGE_SECS + 60, &|_: &u32| true), Lookup::Fetch));
    }
}
