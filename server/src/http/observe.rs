//! What every request leaves behind: its `request` span (request ID, method
//! and route template on every log line it writes), its access line, and
//! its HTTP metrics under the route template.
//!
//! One layer on every route, written as a plain tower service: the route
//! template (`MatchedPath`) exists only inside the router, and a layer there
//! is paid per request, so span, access line and metrics share one wrapper,
//! one clock read at each end, no boxed future and no wrapped body.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use tower::{Layer, Service};

use super::metrics::{HttpMetrics, RouteMetrics};
use super::request_id::X_REQUEST_ID;

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
        Observed { inner, metrics: self.metrics.clone() }
    }
}

#[derive(Clone)]
pub(super) struct Observed<S> {
    inner: S,
    metrics: HttpMetrics,
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
        let route = self.metrics.route(route);
        let span = request_span(&request, route.template());
        let started = Instant::now();
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        ObservedFuture { inner, span, route, started }
    }
}

pin_project_lite::pin_project! {
    pub(super) struct ObservedFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
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
        let _entered = this.span.enter();
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

/// The span of one request: its ID, method and route template, never the
/// URI (its query may carry secrets) nor any other header.
fn request_span(request: &Request, route: &str) -> tracing::Span {
    let request_id = request.headers().get(X_REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", request_id, method = %request.method(), route)
}
