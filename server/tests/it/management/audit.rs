//! The audit log: one record per administrative act, none for a failed
//! one, and `GET /audit` newest first, page by page.

use axum::http::{Method, StatusCode};
use clavis_types::ManagementAccess;
use serde_json::json;

use super::super::support::{servers, t0};
use super::{CALLER_IP, Fixture, assert_error, audit_actions, call, call_raw};

#[tokio::test]
async fn every_administrative_act_leaves_exactly_one_record() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let created =
            call(&s, Method::POST, &f.path("/applications"), Some(&f.token), Some(json!({"name": "billing"}))).await;
        let client_id = created.json()["clientId"].as_str().unwrap().to_owned();
        let app = |rest: &str| f.app_path(&client_id, rest);
        let acts: Vec<(&str, Method, String, Option<serde_json::Value>)> = vec![
            ("application.rename", Method::PUT, app(""), Some(json!({"name": "invoicing"}))),
            ("application.management_access", Method::PUT, app("/management"), Some(json!({"access": "read"}))),
            ("secret.rotate", Method::POST, app("/secret"), Some(json!({"graceSeconds": 600}))),
            ("secret.revoke_previous", Method::DELETE, app("/secret/previous"), None),
            ("application.delete", Method::DELETE, app(""), None),
        ];
        let mut expected = audit_actions(&s, &f.tenant.tenant_id).await;
        assert_eq!(expected.last().map(String::as_str), Some("application.create"), "creation was recorded");
        let newest = |reply: &super::super::support::Reply| reply.json()["entries"][0].clone();
        let log = call(&s, Method::GET, &f.path("/audit?limit=1"), Some(&f.token), None).await;
        let entry = newest(&log);
        assert_eq!(entry["action"], "application.create");
        assert_eq!(entry["target"], client_id.as_str());
        assert_eq!(entry["details"]["name"], "billing");

        for (action, method, path, body) in acts {
            let reply = call(&s, method.clone(), &path, Some(&f.token), body).await;
            assert!(reply.status.is_success(), "{action}: {}", reply.text());
            expected.push(action.to_owned());
            assert_eq!(audit_actions(&s, &f.tenant.tenant_id).await, expected, "{} after {action}", s.backend);

            let log = call(&s, Method::GET, &f.path("/audit?limit=1"), Some(&f.token), None).await;
            assert_eq!(log.status, StatusCode::OK, "{}", log.text());
            let entry = newest(&log);
            assert_eq!(entry["action"], action);
            assert_eq!(entry["target"], client_id.as_str());
            assert_eq!(entry["actor"], f.admin.client_id.as_str(), "the acting application");
            assert_eq!(entry["tenantId"], f.tenant.tenant_id.as_str());
            assert_eq!(entry["sourceAddr"], CALLER_IP);
            assert_eq!(entry["createdAt"], t0().to_rfc3339_opts(chrono::SecondsFormat::Secs, true).as_str());
            assert!(entry["id"].is_i64());
        }
        // Reading the log is not an administrative act.
        assert_eq!(audit_actions(&s, &f.tenant.tenant_id).await, expected);
        // No record carries a secret.
        let log = call(&s, Method::GET, &f.path("/audit?limit=200"), Some(&f.token), None).await;
        assert!(!log.text().contains(created.json()["secret"].as_str().unwrap()));
    }
}

/// A failing request: label, method, path, token (`None`: the fixture's
/// write token; `Some("")`: no token), body, expected status.
type Failure<'a> = (&'static str, Method, String, Option<&'a str>, Option<serde_json::Value>, StatusCode);

#[tokio::test]
async fn a_failed_change_leaves_no_record() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let other = s.app(&f.scope, "other", ManagementAccess::None).await;
        let reader = s.app(&f.scope, "reader", ManagementAccess::Read).await;
        let read_token = s.management_token_for(&reader).await;
        let before = audit_actions(&s, &f.tenant.tenant_id).await;
        let unknown = uuid::Uuid::new_v4().to_string();
        let failures: Vec<Failure> = vec![
            (
                "invalid name",
                Method::POST,
                f.path("/applications"),
                None,
                Some(json!({"name": ""})),
                StatusCode::BAD_REQUEST,
            ),
            (
                "rename unknown",
                Method::PUT,
                f.app_path(&unknown, ""),
                None,
                Some(json!({"name": "x"})),
                StatusCode::NOT_FOUND,
            ),
            (
                "invalid rename",
                Method::PUT,
                f.app_path(&other.client_id, ""),
                None,
                Some(json!({"name": " "})),
                StatusCode::BAD_REQUEST,
            ),
            ("delete unknown", Method::DELETE, f.app_path(&unknown, ""), None, None, StatusCode::NOT_FOUND),
            ("delete itself", Method::DELETE, f.app_path(&f.admin.client_id, ""), None, None, StatusCode::CONFLICT),
            (
                "bad grace",
                Method::POST,
                f.app_path(&other.client_id, "/secret"),
                None,
                Some(json!({"graceSeconds": -5})),
                StatusCode::BAD_REQUEST,
            ),
            ("rotate unknown", Method::POST, f.app_path(&unknown, "/secret"), None, None, StatusCode::NOT_FOUND),
            (
                "no previous secret",
                Method::DELETE,
                f.app_path(&other.client_id, "/secret/previous"),
                None,
                None,
                StatusCode::NOT_FOUND,
            ),
            (
                "bad access",
                Method::PUT,
                f.app_path(&other.client_id, "/management"),
                None,
                Some(json!({"access": "root"})),
                StatusCode::BAD_REQUEST,
            ),
            (
                "own access",
                Method::PUT,
                f.app_path(&f.admin.client_id, "/management"),
                None,
                Some(json!({"access": "none"})),
                StatusCode::CONFLICT,
            ),
            (
                "read token",
                Method::DELETE,
                f.app_path(&other.client_id, ""),
                Some(&read_token),
                None,
                StatusCode::FORBIDDEN,
            ),
            (
                "no token",
                Method::POST,
                f.path("/applications"),
                Some(""),
                Some(json!({"name": "x"})),
                StatusCode::UNAUTHORIZED,
            ),
        ];
        for (what, method, path, token, body, status) in failures {
            let token = match token {
                Some("") => None,
                Some(token) => Some(token),
                None => Some(f.token.as_str()),
            };
            let reply = call(&s, method, &path, token, body).await;
            assert_eq!(reply.status, status, "{what}: {}", reply.text());
        }
        let oversized = json!({"name": "x".repeat(70_000)}).to_string();
        let reply =
            call_raw(&s, Method::POST, &f.path("/applications"), &f.token, Some("application/json"), oversized).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        let reply = call_raw(&s, Method::POST, &f.path("/applications"), &f.token, Some("text/plain"), "name").await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(audit_actions(&s, &f.tenant.tenant_id).await, before, "{}", s.backend);
    }
}

#[tokio::test]
async fn the_log_reads_newest_first_page_by_page() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        for n in 0..4 {
            let reply = call(
                &s,
                Method::POST,
                &f.path("/applications"),
                Some(&f.token),
                Some(json!({"name": format!("app-{n}")})),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED);
        }
        let total = audit_actions(&s, &f.tenant.tenant_id).await.len();
        assert_eq!(total, 6, "tenant, automation app, four apps");

        let reader = s.app(&f.scope, "auditor", ManagementAccess::Read).await;
        let read_token = s.management_token_for(&reader).await;
        let mut ids = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let query = before.map_or("?limit=3".to_owned(), |id| format!("?limit=3&before={id}"));
            let page = call(&s, Method::GET, &f.path(&format!("/audit{query}")), Some(&read_token), None).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            let page = page.json();
            let entries = page["entries"].as_array().unwrap();
            assert!(entries.len() <= 3);
            ids.extend(entries.iter().map(|entry| entry["id"].as_i64().unwrap()));
            match page["nextBefore"].as_i64() {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        assert_eq!(ids.len(), total + 1, "every record once, the auditor's creation included");
        assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "newest first: {ids:?}");

        let first = call(&s, Method::GET, &f.path("/audit"), Some(&read_token), None).await.json();
        assert_eq!(first["entries"][0]["action"], "application.create");
        assert_eq!(first["entries"][0]["target"], reader.client_id.as_str());
        assert_eq!(first["entries"].as_array().unwrap().last().unwrap()["action"], "tenant.create");
        assert!(first["nextBefore"].is_null());

        for bad in ["?limit=0", "?limit=201", "?limit=x", "?before=x", "?after=3"] {
            let reply = call(&s, Method::GET, &f.path(&format!("/audit{bad}")), Some(&read_token), None).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        let none = s.app(&f.scope, "nobody", ManagementAccess::None).await;
        let none_token = s.token_for(&none).await;
        let reply = call(&s, Method::GET, &f.path("/audit"), Some(&none_token), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", s.backend);
    }
}
