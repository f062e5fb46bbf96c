//! A router over fresh services for each test, on every configured backend,
//! and small helpers to drive it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use chrono::{DateTime, Utc};
pub use clavis_test_support::{postgres_url, t0};
use clavis_types::ManagementAccess;
use domain::crypto::MasterKey;
use domain::services::{ApplicationView, CliAuthority, NewTenant, TenantInfo};
use domain::{ManualClock, Services, TenantScope, Write};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const PUBLIC_URL: &str = "http://clavis.test";

/// One backend: services, the router over them, and the clock they share.
pub struct TestServer {
    pub backend: &'static str,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    /// What the `clavis` command line may do, for setting tests up.
    pub cli: Arc<CliAuthority>,
    pub router: server::http::App,
    /// Keeps a SQLite database's directory until the server is dropped.
    pub _dir: Option<tempfile::TempDir>,
}

/// A server on a SQLite file in a temporary directory, removed with the server.
pub async fn sqlite_server() -> TestServer {
    let dir = tempfile::Builder::new().prefix("clavis-http-").tempdir().expect("temp dir");
    let mut server = server_on("sqlite", &domain::db::sqlite_url(&dir.path().join("test.db"))).await;
    server._dir = Some(dir);
    server
}

pub async fn server_on(backend: &'static str, url: &str) -> TestServer {
    let db = domain::db::connect(url).await.expect("database");
    domain::db::migrate(&db).await.expect("migrate");
    let clock = Arc::new(ManualClock::new(t0()));
    // The router gets a clone of the services; the CLI authority stays with
    // the test, as it stays with the command line in a real deployment.
    let (services, cli) = Services::for_cli(db, clock.clone(), MasterKey::generate(), PUBLIC_URL);
    let router = server::http::app(
        services.clone(),
        &server::http::RouterConfig {
            site_root: "target/site".into(),
            site_addr: "127.0.0.1:0".parse().expect("addr"),
            secure_cookies: false,
            trusted_proxies: server::http::TrustedProxies::parse("10.0.0.0/8").expect("trusted proxies"),
            metrics: Some(server::http::metrics::install()),
        },
    );
    TestServer { backend, services, clock, cli: Arc::new(cli), router, _dir: None }
}

/// SQLite always; PostgreSQL too when the test command provides a cluster.
pub async fn servers() -> Vec<TestServer> {
    let mut servers = vec![sqlite_server().await];
    if let Some(url) = postgres_url().await {
        servers.push(server_on("postgres", &url).await);
    }
    servers
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestServer {
    pub fn now(&self) -> DateTime<Utc> {
        self.services.now()
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        Reply { status, headers, body }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("request")).await
    }

    pub async fn tenant(&self, name: &str) -> (TenantInfo, TenantScope<Write>) {
        self.tenant_with(NewTenant::named(name)).await
    }

    pub async fn tenant_with(&self, new: NewTenant) -> (TenantInfo, TenantScope<Write>) {
        let operator = self.cli.operator_scope();
        let tenant = self.services.create_tenant(&operator, new, self.now()).await.expect("tenant");
        let scope = self.cli.tenant_scope(&self.services, &tenant.tenant_id).await.expect("scope");
        (tenant, scope)
    }

    pub async fn app(&self, scope: &TenantScope<Write>, name: &str, access: ManagementAccess) -> ApplicationView {
        self.services.create_application(scope, name, access, self.now()).await.expect("application")
    }

    /// `POST {path}` with a form body and optional Basic credentials.
    pub async fn post_form(&self, path: &str, basic: Option<(&str, &str)>, body: &str) -> Reply {
        let mut request = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            request = request.header("authorization", basic_header(id, secret));
        }
        self.send(request.body(Body::from(body.to_owned())).expect("request")).await
    }

    /// A plain token for `app` (its own audience) through the real token endpoint.
    pub async fn token_for(&self, app: &ApplicationView) -> String {
        self.token_with(app, "grant_type=client_credentials").await
    }

    /// A token for `app` with the tenant's management API as its audience.
    pub async fn management_token_for(&self, app: &ApplicationView) -> String {
        let audience = form_urlencoded::byte_serialize(app.management_url.as_bytes()).collect::<String>();
        self.token_with(app, &format!("grant_type=client_credentials&audience={audience}")).await
    }

    async fn token_with(&self, app: &ApplicationView, body: &str) -> String {
        let reply = self
            .post_form(
                &format!("/oauth/v4/{}/token", app.tenant_id),
                Some((&app.client_id, app.secret.as_deref().expect("secret"))),
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["access_token"].as_str().expect("token").to_owned()
    }
}

pub fn basic_header(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(id), encode(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}
