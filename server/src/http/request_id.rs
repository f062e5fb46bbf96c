//! `X-Request-Id` on every request and response, and the tracing span that
//! puts it (with the method and the route template) on every log line of
//! the request.
//!
//! An incoming ID is kept only from a trusted proxy (`CLAVIS_TRUSTED_PROXIES`)
//! and only when it is a sane token (at most 128 of `[A-Za-z0-9._-]`), so a
//! client can neither forge log correlation nor smuggle text into the logs;
//! every other request gets a fresh random ID. The span never holds the URI
//! (its query may carry secrets) nor any header.

use std::net::SocketAddr;

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use tower::{Service, ServiceBuilder};
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use super::client_addr::TrustedProxies;

/// The header, lower-case as HTTP/2 sends it.
pub const X_REQUEST_ID: &str = "x-request-id";

/// The longest incoming ID that is kept.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The request's span, on every route (inside the router, so that it
/// names the matched route template on every line, the first included).
pub(super) fn trace<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(request_span)
        .on_response(DefaultOnResponse::new().latency_unit(LatencyUnit::Micros));
    router.layer(trace)
}

/// Wraps the whole router, once, outside it (not on every route, where each
/// layer is boxed and cloned per request): outermost the check of an
/// incoming ID, then a fresh ID where none is kept, and its echo on the
/// response.
pub(super) fn wrap<S>(
    service: S,
    trusted: TrustedProxies,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static> + Clone + Send + Sync + 'static
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    ServiceBuilder::new()
        .map_request(move |request| screen(&trusted, request))
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
        .layer(PropagateRequestIdLayer::x_request_id())
        .service(service)
}

/// Drops an incoming ID unless a trusted proxy sent exactly one sane one.
fn screen(trusted: &TrustedProxies, mut request: Request) -> Request {
    if request.headers().contains_key(X_REQUEST_ID) {
        let from_trusted = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| trusted.trusts(peer.ip()));
        if !(from_trusted && single_sane_id(request.headers())) {
            request.headers_mut().remove(X_REQUEST_ID);
        }
    }
    request
}

fn single_sane_id(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(X_REQUEST_ID).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => is_sane(value.as_bytes()),
        _ => false,
    }
}

/// 1 to 128 characters of `[A-Za-z0-9._-]`.
pub fn is_sane(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id.iter().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// A random (version 4) UUID from the thread's CSPRNG: no system call per
/// request, unlike asking the OS for every ID.
#[derive(Clone, Copy, Debug, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let bytes: [u8; 16] = rand::random();
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)).ok().map(RequestId::new)
    }
}

/// The span of one request: its ID, method and route template, never the URI.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request.headers().get(X_REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-");
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", request_id, method = %request.method(), route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_tokens_are_sane() {
        assert!(is_sane(b"abc-123_x.y"));
        assert!(is_sane("a".repeat(128).as_bytes()));
        assert!(!is_sane("a".repeat(129).as_bytes()));
        assert!(!is_sane(b""));
        assert!(!is_sane(b"with space"));
        assert!(!is_sane(b"line\nbreak"));
        assert!(!is_sane("caf\u{e9}".as_bytes()));
    }

    #[test]
    fn fresh_ids_are_distinct_uuids() {
        let request = axum::http::Request::new(());
        let first = RandomRequestId.make_request_id(&request).unwrap();
        let second = RandomRequestId.make_request_id(&request).unwrap();
        assert_ne!(first.header_value(), second.header_value());
        let text = first.header_value().to_str().unwrap();
        assert!(uuid::Uuid::parse_str(text).is_ok(), "{text}");
        assert!(is_sane(text.as_bytes()));
    }
}
