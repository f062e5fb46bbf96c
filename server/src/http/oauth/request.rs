//! Reading an OAuth request off the wire: the `Authorization` and
//! `Content-Type` headers and the body within the size limit. What the
//! bytes mean is decided by `clavis_oauth::request`.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, header};
use clavis_oauth::request::RawRequest;

use super::MAX_BODY_BYTES;

/// RFC 9449 §4.1's header, named once rather than parsed from text per request.
const DPOP: HeaderName = HeaderName::from_static("dpop");

/// A request's headers and body, read; the protocol code sees it as a
/// [`RawRequest`].
pub(super) struct ReadRequest {
    parts: Parts,
    /// `None` when the body was larger than [`MAX_BODY_BYTES`].
    body: Option<Bytes>,
}

impl ReadRequest {
    pub(super) async fn read(request: Request<Body>) -> Self {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.ok();
        Self { parts, body }
    }

    /// The address of the peer: the client, or the proxy in front of it.
    pub(super) fn client_addr(&self) -> Option<IpAddr> {
        self.parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())
    }

    pub(super) fn raw(&self) -> RawRequest<'_> {
        let mut authorizations = self.parts.headers.get_all(header::AUTHORIZATION).iter();
        let authorization = authorizations.next().map(HeaderValue::as_bytes);
        let mut dpops = self.parts.headers.get_all(DPOP).iter();
        let dpop = dpops.next().map(HeaderValue::as_bytes);
        RawRequest {
            authorization,
            several_authorizations: authorizations.next().is_some(),
            content_type: self.parts.headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
            body: self.body.as_deref(),
            dpop,
            several_dpops: dpops.next().is_some(),
        }
    }
}
