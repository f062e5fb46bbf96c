//! A counting, fault-injecting HTTP proxy in front of any issuer (fake or a real Clavis).
//!
//! `http://127.0.0.1:PORT/x` forwards to `{upstream}/x`, so the proxy's
//! `/token` is the issuer's token endpoint and `/publickeys` its JWKS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(Default)]
struct Faults {
    /// Answer the next `count` requests with `status` instead of forwarding.
    fail_next: usize,
    status: u16,
    retry_after: Option<u64>,
    delay: Duration,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    counts: Mutex<HashMap<String, usize>>,
    faults: Mutex<Faults>,
}

pub struct Proxy {
    shared: Arc<Shared>,
    base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Proxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            counts: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
        });
        let app = Router::new().fallback(forward).with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { shared, base, server }
    }

    /// The proxy URL for an issuer-relative path such as `/token`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests received for `path` (forwarded or failed).
    pub fn count(&self, path: &str) -> usize {
        self.shared.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Answers the next `count` requests with `status` (and `Retry-After`).
    pub fn fail_next(&self, count: usize, status: u16, retry_after: Option<u64>) {
        let mut faults = self.shared.faults.lock().unwrap();
        faults.fail_next = count;
        faults.status = status;
        faults.retry_after = retry_after;
    }

    /// Delays every answer, so concurrent callers overlap.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.faults.lock().unwrap().delay = delay;
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    *shared.counts.lock().unwrap().entry(path.clone()).or_default() += 1;
    let (fail, delay) = {
        let mut faults = shared.faults.lock().unwrap();
        let fail = (faults.fail_next > 0).then(|| {
            faults.fail_next -= 1;
            (faults.status, faults.retry_after)
        });
        (fail, faults.delay)
    };
    tokio::time::sleep(delay).await;
    if let Some((status, retry_after)) = fail {
        let mut response = (StatusCode::from_u16(status).unwrap(), "injected failure").into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return response;
    }
    let target = match uri.query() {
        Some(q) => format!("{}{path}?{q}", shared.upstream),
        None => format!("{}{path}", shared.upstream),
    };
    let mut request = shared.client.request(method, target).body(body);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let upstream = match request.send().await {
        Ok(upstream) => upstream,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = upstream.status();
    let mut out_headers = HeaderMap::new();
    for name in [header::CONTENT_TYPE, header::WWW_AUTHENTICATE, header::CACHE_CONTROL, header::RETRY_AFTER] {
        if let Some(value) = upstream.headers().get(&name) {
            out_headers.insert(name, value.clone());
        }
    }
    let bytes = upstream.bytes().await.unwrap_or_default();
    (status, out_headers, bytes).into_response()
}
