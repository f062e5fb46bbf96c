//! `GET /metrics` in the Prometheus text format, and the per-request HTTP
//! metrics behind it.
//!
//! The recorder is `metrics-exporter-prometheus` without its own HTTP
//! listener: Clavis renders it from an axum route, on the main listener or
//! on `CLAVIS_METRICS_ADDR`. HTTP requests are labelled by their route
//! template (`MatchedPath`), never the path itself, so no tenant or client
//! ID becomes a label.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use domain::Services;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests answered, by `route` template and `status` class.
pub const HTTP_REQUESTS: &str = "clavis_http_requests_total";
/// Time to answer an HTTP request, by `route` template.
pub const HTTP_DURATION: &str = "clavis_http_request_duration_seconds";
/// Always 1, labelled with the running `version`.
pub const BUILD_INFO: &str = "clavis_build_info";
/// Database connections open, by `state` (`idle`, `in_use`).
pub const DB_POOL_CONNECTIONS: &str = "clavis_db_pool_connections";
/// The most connections the database pool opens.
pub const DB_POOL_MAX: &str = "clavis_db_pool_max_connections";

/// Bucket bounds in seconds: a cached token request answers in well under a
/// millisecond, a sign-in (argon2id) in a few hundred.
const LATENCY_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// How often histogram samples are folded into their buckets when nobody
/// scrapes, so memory stays bounded between scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process's metrics recorder, installed once.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

static INSTALLED: OnceLock<Metrics> = OnceLock::new();

/// The process-wide recorder, installed on first use (later calls, as in
/// tests that build many routers, share it).
pub fn install() -> Metrics {
    INSTALLED.get_or_init(build).clone()
}

fn build() -> Metrics {
    let builder = PrometheusBuilder::new();
    let builder = match builder.set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &LATENCY_BUCKETS) {
        Ok(builder) => builder,
        // Only an empty bucket list fails; the summary it falls back to still works.
        Err(_) => PrometheusBuilder::new(),
    };
    let handle = match builder.install_recorder() {
        Ok(handle) => handle,
        Err(err) => {
            // Another recorder was installed first: render this one anyway,
            // with what the server records itself.
            tracing::warn!(error = %err, "could not install the metrics recorder globally");
            PrometheusBuilder::new().build_recorder().handle()
        }
    };
    describe();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    // Series that exist from the start, so that alerts and rates see a 0
    // rather than no data.
    for name in [
        domain::metrics::CLIENT_CACHE_HITS,
        domain::metrics::CLIENT_CACHE_MISSES,
        domain::metrics::CLIENT_CACHE_EVICTIONS,
        domain::metrics::KEYRING_CACHE_HITS,
        domain::metrics::KEYRING_CACHE_MISSES,
        domain::metrics::CACHE_INVALIDATIONS,
    ] {
        metrics::counter!(name).increment(0);
    }
    for kind in [domain::metrics::THROTTLE_CLIENT_AUTHENTICATION, domain::metrics::THROTTLE_SIGN_IN] {
        metrics::counter!(domain::metrics::THROTTLED_REQUESTS, "kind" => kind).increment(0);
    }
    // Installed (or not) for good: the token path's counters can be kept.
    domain::metrics::resolve_hot_counters();
    Metrics { handle }
}

fn describe() {
    use domain::metrics as m;
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template and status class.");
    metrics::describe_histogram!(HTTP_DURATION, metrics::Unit::Seconds, "Time to answer an HTTP request, by route.");
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version label names the running build.");
    metrics::describe_gauge!(DB_POOL_CONNECTIONS, "Database connections open, by state (idle, in_use).");
    metrics::describe_gauge!(DB_POOL_MAX, "The most connections the database pool opens.");
    metrics::describe_counter!(m::TOKEN_REQUESTS, "Token requests, by grant type and outcome (ok or the error code).");
    metrics::describe_counter!(m::CLIENT_CACHE_HITS, "Application lookups answered from the cache.");
    metrics::describe_counter!(m::CLIENT_CACHE_MISSES, "Application lookups that went to the database.");
    metrics::describe_counter!(m::CLIENT_CACHE_EVICTIONS, "Cached applications dropped because the cache was full.");
    metrics::describe_counter!(m::KEYRING_CACHE_HITS, "Tenant keyring lookups answered from the cache.");
    metrics::describe_counter!(m::KEYRING_CACHE_MISSES, "Tenant keyring lookups that went to the database.");
    metrics::describe_counter!(m::THROTTLED_REQUESTS, "Requests refused after repeated failures, by kind.");
    metrics::describe_counter!(m::CACHE_INVALIDATIONS, "Cache invalidations received from other replicas.");
}

impl Metrics {
    /// Folds histogram samples into buckets every few seconds, for as long
    /// as the process runs.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                interval.tick().await;
                handle.run_upkeep();
            }
        })
    }

    /// The exposition text, with the pool sampled now.
    pub fn render(&self, services: &Services) -> String {
        if let Some(pool) = services.database_pool() {
            let idle = f64::from(pool.idle);
            metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
            metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(pool.open) - idle);
            metrics::gauge!(DB_POOL_MAX).set(f64::from(pool.max));
        }
        self.handle.render()
    }
}

/// `GET /metrics`, for the main router or a listener of its own.
pub fn routes<S: Clone + Send + Sync + 'static>(metrics: Metrics, services: Services) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.render(&services);
            async move {
                let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
                (StatusCode::OK, [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, no_store())], text)
                    .into_response()
            }
        }),
    )
}

fn no_store() -> HeaderValue {
    HeaderValue::from_static("no-store")
}

/// The HTTP metric handles of each route template, resolved on a route's
/// first request: the recorder's lookup by name and labels (and the label
/// string it copies) is not paid again per request. Route templates are few
/// and fixed, so the map stays small.
#[derive(Clone, Default)]
pub(super) struct HttpMetrics(Arc<RwLock<HashMap<Box<str>, Arc<RouteMetrics>>>>);

/// One route's latency histogram and its request counters by status class
/// (each made on its first use, so no series of zeros appears for classes
/// the route never answered).
pub(super) struct RouteMetrics {
    route: metrics::SharedString,
    duration: Histogram,
    requests: [OnceLock<Counter>; 5],
}

impl HttpMetrics {
    pub(super) fn route(&self, route: &str) -> Arc<RouteMetrics> {
        if let Some(found) = self.0.read().unwrap_or_else(PoisonError::into_inner).get(route) {
            return found.clone();
        }
        let mut routes = self.0.write().unwrap_or_else(PoisonError::into_inner);
        routes
            .entry(route.into())
            .or_insert_with(|| {
                let label = metrics::SharedString::from(route.to_owned());
                Arc::new(RouteMetrics {
                    duration: metrics::histogram!(HTTP_DURATION, "route" => label.clone()),
                    route: label,
                    requests: Default::default(),
                })
            })
            .clone()
    }
}

impl RouteMetrics {
    /// The route template this route's series are labelled with.
    pub(super) fn template(&self) -> &str {
        &self.route
    }

    /// Counts one answer and its latency.
    pub(super) fn record(&self, status: StatusCode, elapsed: Duration) {
        self.duration.record(elapsed.as_secs_f64());
        self.requests(status).increment(1);
    }

    fn requests(&self, status: StatusCode) -> &Counter {
        let class = status_class(status);
        let index = usize::from(class.as_bytes()[0] - b'1').min(4);
        self.requests[index]
            .get_or_init(|| metrics::counter!(HTTP_REQUESTS, "route" => self.route.clone(), "status" => class))
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_their_classes() {
        assert_eq!(status_class(StatusCode::OK), "2xx");
        assert_eq!(status_class(StatusCode::TOO_MANY_REQUESTS), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
        assert_eq!(status_class(StatusCode::SWITCHING_PROTOCOLS), "1xx");
    }
}
