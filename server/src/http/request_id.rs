//! `X-Request-Id` on every response, and the `request` span that puts it,
//! with the method and (recorded by `observe.rs`) the route template, on
//! every log line of the request.
//!
//! An incoming ID is kept only from a trusted proxy (`CLAVIS_TRUSTED_PROXIES`)
//! and only when it is a sane token (at most 128 of `[A-Za-z0-9._-]`), so a
//! client can neither forge log correlation nor smuggle text into the logs;
//! every other request gets a fresh random ID. The span never holds the URI
//! (its query may carry secrets) nor any header.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use tower::Service;

use super::client_addr::TrustedProxies;

/// The header, lower-case as HTTP/2 sends it; a `HeaderName`, so the four
/// uses per request do not each parse the text.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming ID that is kept.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The router behind the request-ID handling: outermost the check of an
/// incoming ID, then a fresh ID where none is kept, and its echo on the
/// response. One plain service around the whole router rather than a stack
/// of layers: a clone per request is a clone of the router's `Arc`.
#[derive(Clone)]
pub struct RequestIds {
    router: Router,
    trusted: TrustedProxies,
}

impl RequestIds {
    pub(super) fn new(router: Router, trusted: TrustedProxies) -> Self {
        Self { router, trusted }
    }
}

impl Service<Request> for RequestIds {
    type Response = Response;
    type Error = Infallible;
    type Future = EchoRequestId;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> EchoRequestId {
        let request = screen(&self.trusted, request);
        // A kept ID stays on the request; a fresh one goes only to the span
        // and the response (the request's headers need not grow for it).
        let id = request.headers().get(X_REQUEST_ID).cloned().unwrap_or_else(fresh_id);
        let span = request_span(&id, request.method());
        let inner = {
            let _entered = span.enter();
            self.router.call(request)
        };
        EchoRequestId { inner, id: Some(id), span }
    }
}

pin_project_lite::pin_project! {
    /// The router's answer, with the request's ID added.
    pub struct EchoRequestId {
        #[pin]
        inner: RouteFuture<Infallible>,
        id: Option<HeaderValue>,
        span: tracing::Span,
    }
}

impl Future for EchoRequestId {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        if let Some(id) = this.id.take() {
            response.headers_mut().insert(X_REQUEST_ID, id);
        }
        Poll::Ready(Ok(response))
    }
}

/// The span of one request: its ID and method, and the route template once
/// the router has matched it; never the URI (its query may carry secrets)
/// nor any other header. Its fields are written only when spans are on.
fn request_span(id: &HeaderValue, method: &Method) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or("-"),
        method = %method,
        route = tracing::field::Empty
    )
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
fn fresh_id() -> HeaderValue {
    let bytes: [u8; 16] = rand::random();
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)).unwrap_or(HeaderValue::from_static("-"))
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
        let first = fresh_id();
        let second = fresh_id();
        assert_ne!(first, second);
        let text = first.to_str().unwrap();
        assert!(uuid::Uuid::parse_str(text).is_ok(), "{text}");
        assert!(is_sane(text.as_bytes()));
    }
}
