//! The HTTP surface: dashboard (Leptos), OAuth endpoints, management API,
//! probes.

mod client_addr;
pub mod health;
pub mod management;
pub mod metrics;
pub mod oauth;
mod observe;
pub mod origin;
pub mod request_id;
mod security_headers;
pub mod session_store;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::response::IntoResponse;
use axum::routing::get;
use domain::Services;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::{App, shell};

pub use client_addr::TrustedProxies;

/// Shared by every handler.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    /// `scheme://host[:port]` of the public URL, for the Origin check.
    pub public_origin: String,
}

/// What the router needs beyond the services.
pub struct RouterConfig {
    pub site_root: String,
    pub site_addr: std::net::SocketAddr,
    pub secure_cookies: bool,
    /// Whose forwarding headers name the client (see [`TrustedProxies`]).
    pub trusted_proxies: TrustedProxies,
    /// `Some`: `GET /metrics` on this router; `None` when it has a listener
    /// of its own (`CLAVIS_METRICS_ADDR`) or is off.
    pub metrics: Option<metrics::Metrics>,
}

pub fn leptos_options(config: &RouterConfig) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("clavis")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .env(leptos::config::Env::PROD)
        .build()
}

/// The whole HTTP surface as one service: the router inside the request-ID
/// handling, behind the trailing-slash trim, so `…/applications/` reaches
/// `…/applications` (scripts written for other servers often add one).
/// Plain types, not a boxed service: `axum::serve` clones the service for
/// every request.
pub type App = tower_http::normalize_path::NormalizePath<request_id::RequestIds>;

pub fn app(services: Services, config: &RouterConfig) -> App {
    // Outside the client-address layer: whether an incoming request ID is
    // kept depends on the peer itself, not on the client it names.
    let ids = request_id::RequestIds::new(router(services, config), config.trusted_proxies.clone());
    tower_http::normalize_path::NormalizePath::trim_trailing_slash(ids)
}

pub fn router(services: Services, config: &RouterConfig) -> Router {
    let leptos_options = leptos_options(config);
    let public_origin =
        url::Url::parse(services.public_url()).map(|url| url.origin().ascii_serialization()).unwrap_or_default();
    let state = AppState { services: services.clone(), leptos_options: leptos_options.clone(), public_origin };

    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(services.clone()))
        .with_name("clavis_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));

    let routes = generate_route_list(App);
    let dashboard = Router::new()
        .route("/api/{*fn_name}", get(server_fn_handler).post(server_fn_handler))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let services = services.clone();
                move || {
                    provide_context(services.clone());
                    security_headers::provide_page_policy();
                }
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            security_headers::provide_page_policy,
            shell,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), origin::require_same_origin))
        .layer(sessions);

    // Browser security headers on what browsers load (the dashboard, the
    // probes, the management API); the OAuth endpoints, the hot path, set
    // their own `no-store` and serve machines.
    let https = services.public_url().starts_with("https://");
    let headers = axum::middleware::from_fn(move |request, next| security_headers::add(https, request, next));
    let browsed = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(management::routes())
        .merge(dashboard)
        .layer(headers);
    // The OAuth endpoints get only the services as state: the dashboard's
    // whole `AppState` is not cloned per token request.
    let router = Router::new().merge(oauth::routes().with_state(services.clone())).merge(browsed);
    let router = match &config.metrics {
        Some(recorder) => router.merge(metrics::routes(recorder.clone(), services.clone())),
        None => router,
    };
    // Without trusted proxies the peer is the client: no layer, no cost.
    let router = if config.trusted_proxies.is_empty() {
        router
    } else {
        let trusted = config.trusted_proxies.clone();
        router
            .layer(axum::middleware::from_fn(move |request, next| client_addr::resolve(trusted.clone(), request, next)))
    };
    // Outermost on every route, so the span and the metrics see everything.
    router.layer(observe::Observe::default()).with_state(state)
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    let services = state.services.clone();
    handle_server_fns_with_context(move || provide_context(services.clone()), request).await
}
