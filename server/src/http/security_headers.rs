//! Browser security headers on every answer: no MIME sniffing, no
//! referrer, no framing of the dashboard (clickjacking), HSTS when the
//! public URL is https, `no-store` on server-function answers (several
//! carry secrets), and on dashboard pages a script policy that runs only
//! the scripts this render emitted (a per-render nonce).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::use_context;

/// Where the dashboard's server functions answer (see `super::router`).
const SERVER_FN_PREFIX: &str = "/api/";
/// One year, the value HSTS preload lists ask for.
const HSTS: &str = "max-age=31536000; includeSubDomains";
/// What answers other than pages get: they run no script, so only the
/// framing rule matters.
const NON_PAGE_POLICY: &str = "frame-ancestors 'none'";

/// Adds the headers; `https` says whether the public URL is https.
pub(super) async fn add(https: bool, request: Request, next: Next) -> Response {
    let server_fn = request.uri().path().starts_with(SERVER_FN_PREFIX);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A page set its own nonce policy while it rendered (`page_policy`).
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(NON_PAGE_POLICY));
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if server_fn {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The policy of a dashboard page whose inline scripts carry `nonce`.
///
/// `'wasm-unsafe-eval'` lets the page compile its own WebAssembly (loaded
/// from `'self'`); it allows no JavaScript `eval`. Styles come only from
/// the stylesheet: the markup carries no `style` attribute.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'; object-src 'none'"
    )
}

/// Runs in the context of every page render: Leptos has generated this
/// render's nonce (128 random bits) and put it on each inline script it
/// emits (hydration bootstrap, resource chunks, the dev reload script);
/// this sends the policy that trusts exactly that nonce.
pub(super) fn provide_page_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    // A nonce is URL-safe base64, so the header value is always valid.
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
