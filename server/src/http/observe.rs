//! What every request leaves behind: the route template on its `request`
//! span (opened by `request_id.rs`, around the router), its access line,
//! and its HTTP metrics under the route template.
//!
//! One layer on every route, written as a plain tower service: the route
//! template (`MatchedPath`) exists only inside the router, and a layer there
//! is paid per request, so route, access line and metrics share one
//! wrapper, one clock read at each end, no boxed future and no wrapped body.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use tower::{Layer, Service};

use super::metrics::{HttpMetrics, RouteMetrics};

/// The target of the access lines: `RUST_LOG=info,clavis::access=debug`
/// adds one per request.
const ACCESS_TARGET: &str = "clavis::access";

/// The label of requests that matched no route (static files, 404s).
const UNMATCHED_ROUTE: &str = "unmatched";

/// The layer: one [`HttpMetrics`] shared by every route.
#[derive(Clone, Default)]
pub(super) struct Observe {
    metrics: HttpMetrics,
}

impl<S> Layer<S> for Observe {
    type Service = Observed<S>;

    fn layer(&self, inner: S) -> Observed<S> {
        Observed { inner, metrics: self.metrics.clone(), this_route: Arc::default() }
    }
}

#[derive(Clone)]
pub(super) struct Observed<S> {
    inner: S,
    metrics: HttpMetrics,
    /// The layer wraps each route on its own, so one instance sees one
    /// template: its handles, remembered on the first request, spare each
    /// later one the lookup by name. Checked against the template anyway
    /// (the fallback's instance serves every unmatched path).
    this_route: Arc<OnceLock<Arc<RouteMetrics>>>,
}

impl<S> Service<Request> for Observed<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
        let route = match self.this_route.get() {
            Some(known) if known.template() == route => known.clone(),
            _ => {
                let found = self.metrics.route(route);
                self.this_route.get_or_init(|| found.clone());
                found
            }
        };
        // The request's span is current: `RequestIds` enters it around the
        // router. Spans are off below `info`, and then nothing is recorded.
        if tracing::level_enabled!(tracing::Level::INFO) {
            tracing::Span::current().record("route", route.template());
        }
        let started = Instant::now();
        ObservedFuture { inner: self.inner.call(request), route, started }
    }
}

pin_project_lite::pin_project! {
    pub(super) struct ObservedFuture<F> {
        #[pin]
        inner: F,
        route: Arc<RouteMetrics>,
        started: Instant,
    }
}

impl<F, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let elapsed = this.started.elapsed();
        if let Ok(response) = &result {
            let status = response.status();
            this.route.record(status, elapsed);
            let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            if status.is_server_error() {
                tracing::error!(target: ACCESS_TARGET, status = status.as_u16(), latency_us, "request failed");
            } else {
                tracing::debug!(target: ACCESS_TARGET, status = status.as_u16(), latency_us, "request answered");
            }
        }
        Poll::Ready(result)
    }
}
