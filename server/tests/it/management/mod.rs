//! The management REST API over HTTP, with tokens from the real token
//! endpoint: every route's successes and failures, bearer-token rules,
//! tenant isolation, the audit log and the OpenAPI document.

// Fixtures and helpers are test code even where they are not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod applications;
mod audit;
mod cloud_directory;
mod cloud_directory_config;
mod keys;
mod openapi;
mod roles;
mod schema_findings;
mod usage;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use clavis_types::ManagementAccess;
use domain::services::{ApplicationView, TenantInfo};
use domain::{TenantScope, Write};

use super::support::{Reply, TestServer};

/// The address every test request comes from, as the audit log records it.
pub const CALLER_IP: &str = "203.0.113.7";

/// A tenant with an application that holds write access, and its token.
pub struct Fixture {
    pub tenant: TenantInfo,
    pub scope: TenantScope<Write>,
    pub admin: ApplicationView,
    pub token: String,
}

impl Fixture {
    pub async fn new(s: &TestServer, name: &str) -> Fixture {
        let (tenant, scope) = s.tenant(name).await;
        let admin = s.app(&scope, "automation", ManagementAccess::Write).await;
        let token = s.management_token_for(&admin).await;
        Fixture { tenant, scope, admin, token }
    }

    /// `/management/v4/{tenantId}` + `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/management/v4/{}{rest}", self.tenant.tenant_id)
    }

    pub fn app_path(&self, client_id: &str, rest: &str) -> String {
        self.path(&format!("/applications/{client_id}{rest}"))
    }
}

/// Sends `method uri` with an optional bearer token and JSON body.
pub async fn call(
    s: &TestServer,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).expect("request");
    let addr: SocketAddr = format!("{CALLER_IP}:40000").parse().expect("addr");
    request.extensions_mut().insert(ConnectInfo(addr));
    s.send(request).await
}

/// Sends a request with a raw body and content type.
pub async fn call_raw(
    s: &TestServer,
    method: Method,
    uri: &str,
    token: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    s.send(request.body(body.into()).expect("request")).await
}

/// The reply is the API's one error shape with `status` and `code`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["error"], code, "{}", reply.text());
    let message = json["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "a message for people: {}", reply.text());
    assert_eq!(json.as_object().map(|o| o.len()), Some(2), "only error and message: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

/// The reply is a 401 with RFC 6750's `invalid_token` challenge.
#[track_caller]
pub fn assert_invalid_token(reply: &Reply) {
    assert_error(reply, StatusCode::UNAUTHORIZED, "invalid_token");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// The reply is a 403 with RFC 6750's `insufficient_scope` challenge.
#[track_caller]
pub fn assert_insufficient_scope(reply: &Reply, scope: &str) {
    assert_error(reply, StatusCode::FORBIDDEN, "insufficient_scope");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains(&format!("scope=\"{scope}\"")), "{challenge}");
}

/// How many audit records the tenant has.
pub async fn audit_count(s: &TestServer, tenant_id: &str) -> usize {
    audit_actions(s, tenant_id).await.len()
}

/// The tenant's audit actions, oldest first, read through the audit service
/// with the command line's rights (whatever the API under test allows).
pub async fn audit_actions(s: &TestServer, tenant_id: &str) -> Vec<String> {
    let scope = s.cli.tenant_scope(&s.services, tenant_id).await.expect("scope");
    let page = s.services.list_audit(&scope, Some(domain::services::MAX_AUDIT_PAGE), None).await.expect("audit");
    page.entries.into_iter().rev().map(|entry| entry.action).collect()
}

/// `POST /oauth/v4/{tenant}/token` for `client_id`/`secret`; the status and
/// the token or error code.
pub async fn try_token(
    s: &TestServer,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    extra: &str,
) -> (StatusCode, String) {
    let reply = s
        .post_form(
            &format!("/oauth/v4/{tenant_id}/token"),
            Some((client_id, secret)),
            &format!("grant_type=client_credentials{extra}"),
        )
        .await;
    let json = reply.json();
    let value = json["access_token"].as_str().or_else(|| json["error"].as_str()).unwrap_or_default();
    (reply.status, value.to_owned())
}

/// A token for a client ID and secret, which must succeed.
pub async fn token_of(s: &TestServer, tenant_id: &str, client_id: &str, secret: &str) -> String {
    let (status, token) = try_token(s, tenant_id, client_id, secret, "").await;
    assert_eq!(status, StatusCode::OK, "{token}");
    token
}
