//! Every `/applications` route: successes, bad input, unknown IDs, conflicts.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use clavis_types::ManagementAccess;
use serde_json::json;

use super::super::support::{PUBLIC_URL, servers, t0};
use super::{Fixture, assert_error, audit_count, call, call_raw, token_of, try_token};

/// What is sent (a label, content type, body) and the status and code expected.
type BodyCase = (&'static str, Option<&'static str>, Vec<u8>, StatusCode, &'static str);

fn rfc3339(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn create_like_app_id_and_the_new_application_gets_tokens_at_once() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let reply =
            call(&s, Method::POST, &f.path("/applications"), Some(&f.token), Some(json!({"name": "billing"}))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}: {}", s.backend, reply.text());
        assert_eq!(reply.header("cache-control"), Some("no-store"), "the answer carries a secret");
        let app = reply.json();
        let issuer = format!("{PUBLIC_URL}/oauth/v4/{}", f.tenant.tenant_id);
        assert_eq!(app["name"], "billing");
        assert_eq!(app["tenantId"], f.tenant.tenant_id.as_str());
        assert_eq!(app["oAuthServerUrl"], issuer.as_str());
        assert_eq!(app["discoveryEndpoint"], format!("{issuer}/.well-known/openid-configuration").as_str());
        assert_eq!(app["profilesUrl"], PUBLIC_URL);
        assert_eq!(app["createdAt"], rfc3339(t0()).as_str());
        assert_eq!(app["managementAccess"], "none");
        let client_id = app["clientId"].as_str().unwrap();
        let secret = app["secret"].as_str().unwrap();
        assert_eq!(app["secretLastFour"].as_str().unwrap(), &secret[secret.len() - 4..]);

        let token = token_of(&s, &f.tenant.tenant_id, client_id, secret).await;
        assert_eq!(token.split('.').count(), 3, "a JWT");
        // Without management access the new application cannot manage: its
        // token is its own, not one for the management API.
        let denied = call(&s, Method::GET, &f.path("/applications"), Some(&token), None).await;
        assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app["managementUrl"], format!("{PUBLIC_URL}/management/v4/{}", f.tenant.tenant_id).as_str());

        let got = call(&s, Method::GET, &f.app_path(client_id, ""), Some(&f.token), None).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.json()["name"], "billing");
        assert!(got.json().get("secret").is_none(), "the secret is shown only at creation");
        assert!(!got.text().contains(secret));

        let reader = call(
            &s,
            Method::POST,
            &f.path("/applications"),
            Some(&f.token),
            Some(json!({"name": "reporting", "managementAccess": "read"})),
        )
        .await;
        assert_eq!(reader.status, StatusCode::CREATED);
        assert_eq!(reader.json()["managementAccess"], "read");
        let reader = reader.json();
        let (status, _) = try_token(
            &s,
            &f.tenant.tenant_id,
            reader["clientId"].as_str().unwrap(),
            reader["secret"].as_str().unwrap(),
            "&scope=clavis:management:read",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn create_refuses_bad_input_with_a_clear_4xx_and_no_record() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let path = f.path("/applications");
        let before = audit_count(&s, &f.tenant.tenant_id).await;
        let cases: Vec<BodyCase> = vec![
            (
                "empty name",
                Some("application/json"),
                br#"{"name":""}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                "blank name",
                Some("application/json"),
                br#"{"name":"   "}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                "51 characters",
                Some("application/json"),
                json!({"name": "x".repeat(51)}).to_string().into_bytes(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                "control character",
                Some("application/json"),
                br#"{"name":"a\u0007b"}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            ("no name", Some("application/json"), b"{}".to_vec(), StatusCode::BAD_REQUEST, "invalid_request"),
            (
                "name is a number",
                Some("application/json"),
                br#"{"name":5}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            ("body is an array", Some("application/json"), b"[]".to_vec(), StatusCode::BAD_REQUEST, "invalid_request"),
            (
                "malformed JSON",
                Some("application/json"),
                br#"{"name":"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                "not UTF-8",
                Some("application/json"),
                b"{\"name\":\"\xff\"}".to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            ("empty body", Some("application/json"), Vec::new(), StatusCode::BAD_REQUEST, "invalid_request"),
            (
                "unknown access",
                Some("application/json"),
                br#"{"name":"a","managementAccess":"admin"}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                "text body",
                Some("text/plain"),
                br#"{"name":"a"}"#.to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                "form body",
                Some("application/x-www-form-urlencoded"),
                b"name=a".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                "no content type",
                None,
                br#"{"name":"a"}"#.to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                "oversized body",
                Some("application/json"),
                json!({"name": "a", "pad": "x".repeat(70_000)}).to_string().into_bytes(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
        ];
        for (what, content_type, body, status, code) in cases {
            let reply = call_raw(&s, Method::POST, &path, &f.token, content_type, body).await;
            assert_eq!(reply.status, status, "{what} on {}: {}", s.backend, reply.text());
            assert_error(&reply, status, code);
        }
        let reply = call(&s, Method::POST, &path, Some(&f.token), Some(json!({"name": ""}))).await;
        assert_eq!(reply.json()["message"], "name must be 1 to 50 characters");
        assert_eq!(audit_count(&s, &f.tenant.tenant_id).await, before, "failed creates leave no record");

        // Names are counted in characters after trimming.
        let crabs = "🦀".repeat(50);
        let reply = call(&s, Method::POST, &path, Some(&f.token), Some(json!({"name": format!("  {crabs} ")}))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        assert_eq!(reply.json()["name"], crabs.as_str());
    }
}

#[tokio::test]
async fn list_pages_with_limit_and_cursor() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        // All created in the same second: the cursor must break the tie.
        for n in 0..4 {
            s.app(&f.scope, &format!("app-{n}"), ManagementAccess::None).await;
        }
        s.clock.advance(Duration::seconds(1));
        let newest = s.app(&f.scope, "newest", ManagementAccess::None).await;

        let all = call(&s, Method::GET, &f.path("/applications"), Some(&f.token), None).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.text());
        let all = all.json();
        assert_eq!(all["applications"].as_array().unwrap().len(), 6);
        assert_eq!(all["total"], 6);
        assert!(all["nextCursor"].is_null());
        assert_eq!(all["applications"][0]["clientId"], newest.client_id.as_str(), "newest first");
        assert!(all["applications"].as_array().unwrap().iter().all(|app| app.get("secret").is_none()));

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &cursor {
                Some(cursor) => format!(
                    "?limit=2&cursor={}",
                    form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
                ),
                None => "?limit=2".to_owned(),
            };
            let page = call(&s, Method::GET, &f.path(&format!("/applications{query}")), Some(&f.token), None).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            let page = page.json();
            let apps = page["applications"].as_array().unwrap();
            assert!(apps.len() <= 2);
            seen.extend(apps.iter().map(|app| app["clientId"].as_str().unwrap().to_owned()));
            pages += 1;
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        let expected: Vec<String> = all["applications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|app| app["clientId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, expected, "pages join to the whole list, in order, without repeats");

        for bad in ["?limit=0", "?limit=201", "?limit=abc", "?limit=-1", "?cursor=garbage", "?offset=3"] {
            let reply = call(&s, Method::GET, &f.path(&format!("/applications{bad}")), Some(&f.token), None).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
    }
}

#[tokio::test]
async fn get_rename_and_delete() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "billing", ManagementAccess::None).await;
        let path = f.app_path(&app.client_id, "");
        let unknown = f.app_path(&uuid::Uuid::new_v4().to_string(), "");

        let got = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.json()["clientId"], app.client_id.as_str());
        assert_error(&call(&s, Method::GET, &unknown, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        let not_uuid = f.app_path("not-a-client", "");
        assert_error(&call(&s, Method::GET, &not_uuid, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");

        let renamed = call(&s, Method::PUT, &path, Some(&f.token), Some(json!({"name": "  invoicing "}))).await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
        assert_eq!(renamed.json()["name"], "invoicing");
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.json()["name"], "invoicing");
        for bad in [json!({"name": ""}), json!({"name": "y".repeat(51)}), json!({}), json!({"name": null})] {
            let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(bad)).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        assert_error(
            &call_raw(&s, Method::PUT, &path, &f.token, Some("text/plain"), "invoicing").await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        let renamed_unknown = call(&s, Method::PUT, &unknown, Some(&f.token), Some(json!({"name": "x"}))).await;
        assert_error(&renamed_unknown, StatusCode::NOT_FOUND, "not_found");

        let deleted = call(&s, Method::DELETE, &path, Some(&f.token), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
        assert!(deleted.body.is_empty());
        assert_error(&call(&s, Method::GET, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&call(&s, Method::DELETE, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        let (status, code) =
            try_token(&s, &f.tenant.tenant_id, &app.client_id, app.secret.as_deref().unwrap(), "").await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_client"),
            "a deleted application's secret stops working"
        );
    }
}

#[tokio::test]
async fn rotate_the_secret_and_revoke_the_previous_one() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "billing", ManagementAccess::None).await;
        let tenant_id = f.tenant.tenant_id.as_str();
        let first = app.secret.clone().unwrap();
        let secret_path = f.app_path(&app.client_id, "/secret");
        let previous_path = f.app_path(&app.client_id, "/secret/previous");

        // No body: the default grace period of a day.
        let rotated = call(&s, Method::POST, &secret_path, Some(&f.token), None).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
        assert_eq!(rotated.header("cache-control"), Some("no-store"));
        let rotated = rotated.json();
        let second = rotated["secret"].as_str().unwrap().to_owned();
        assert_ne!(second, first);
        assert_eq!(rotated["clientId"], app.client_id.as_str());
        assert_eq!(rotated["previousSecretExpiresAt"], rfc3339(t0() + Duration::seconds(86_400)).as_str());
        token_of(&s, tenant_id, &app.client_id, &first).await;
        token_of(&s, tenant_id, &app.client_id, &second).await;
        let shown = call(&s, Method::GET, &f.app_path(&app.client_id, ""), Some(&f.token), None).await.json();
        assert_eq!(shown["previousSecret"]["lastFour"].as_str().unwrap(), &first[first.len() - 4..]);

        // An explicit grace period.
        let rotated =
            call(&s, Method::POST, &secret_path, Some(&f.token), Some(json!({"graceSeconds": 60}))).await.json();
        let third = rotated["secret"].as_str().unwrap().to_owned();
        assert_eq!(rotated["previousSecretExpiresAt"], rfc3339(t0() + Duration::seconds(60)).as_str());
        assert_eq!(
            try_token(&s, tenant_id, &app.client_id, &first, "").await.0,
            StatusCode::UNAUTHORIZED,
            "only one previous secret"
        );
        token_of(&s, tenant_id, &app.client_id, &second).await;

        // Revoke the previous secret now; a second revocation finds none.
        let revoked = call(&s, Method::DELETE, &previous_path, Some(&f.token), None).await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
        assert_eq!(try_token(&s, tenant_id, &app.client_id, &second, "").await.0, StatusCode::UNAUTHORIZED);
        token_of(&s, tenant_id, &app.client_id, &third).await;
        assert_error(
            &call(&s, Method::DELETE, &previous_path, Some(&f.token), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );

        // A JSON null is no body: the default grace period again.
        let rotated = call_raw(&s, Method::POST, &secret_path, &f.token, Some("application/json"), "null").await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
        assert_eq!(rotated.json()["previousSecretExpiresAt"], rfc3339(t0() + Duration::seconds(86_400)).as_str());
        let fourth = rotated.json()["secret"].as_str().unwrap().to_owned();

        // Zero grace: the old secret ends at once.
        let rotated =
            call(&s, Method::POST, &secret_path, Some(&f.token), Some(json!({"graceSeconds": 0}))).await.json();
        assert!(rotated["previousSecretExpiresAt"].is_null());
        assert_eq!(try_token(&s, tenant_id, &app.client_id, &fourth, "").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(try_token(&s, tenant_id, &app.client_id, &third, "").await.0, StatusCode::UNAUTHORIZED);
        token_of(&s, tenant_id, &app.client_id, rotated["secret"].as_str().unwrap()).await;

        for bad in [
            json!({"graceSeconds": -1}),
            json!({"graceSeconds": 2_592_001}),
            json!({"graceSeconds": "soon"}),
            json!({"grace": 5}),
        ] {
            let reply = call(&s, Method::POST, &secret_path, Some(&f.token), Some(bad.clone())).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        assert_error(
            &call_raw(&s, Method::POST, &secret_path, &f.token, Some("text/plain"), "60").await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        let unknown = f.app_path(&uuid::Uuid::new_v4().to_string(), "/secret");
        assert_error(&call(&s, Method::POST, &unknown, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(
            &call(&s, Method::DELETE, &format!("{unknown}/previous"), Some(&f.token), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
}

#[tokio::test]
async fn management_access_is_set_through_the_api() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "reporting", ManagementAccess::None).await;
        let path = f.app_path(&app.client_id, "/management");

        let set = call(&s, Method::PUT, &path, Some(&f.token), Some(json!({"access": "read"}))).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text());
        assert_eq!(set.json()["managementAccess"], "read");
        let token = s.management_token_for(&app).await;
        assert_eq!(call(&s, Method::GET, &f.path("/applications"), Some(&token), None).await.status, StatusCode::OK);
        let write = call(&s, Method::POST, &f.path("/applications"), Some(&token), Some(json!({"name": "x"}))).await;
        assert_eq!(write.status, StatusCode::FORBIDDEN);

        for bad in
            [json!({"access": "admin"}), json!({"access": null}), json!({}), json!({"access": "read", "extra": 1})]
        {
            assert_error(
                &call(&s, Method::PUT, &path, Some(&f.token), Some(bad)).await,
                StatusCode::BAD_REQUEST,
                "invalid_request",
            );
        }
        let unknown = f.app_path(&uuid::Uuid::new_v4().to_string(), "/management");
        assert_error(
            &call(&s, Method::PUT, &unknown, Some(&f.token), Some(json!({"access": "read"}))).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
}

#[tokio::test]
async fn an_application_cannot_delete_itself_or_change_its_own_access() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let before = audit_count(&s, &f.tenant.tenant_id).await;
        let own = f.app_path(&f.admin.client_id, "");
        assert_error(&call(&s, Method::DELETE, &own, Some(&f.token), None).await, StatusCode::CONFLICT, "conflict");
        let strip =
            call(&s, Method::PUT, &format!("{own}/management"), Some(&f.token), Some(json!({"access": "none"}))).await;
        assert_error(&strip, StatusCode::CONFLICT, "conflict");
        assert_eq!(audit_count(&s, &f.tenant.tenant_id).await, before);
        assert_eq!(call(&s, Method::GET, &own, Some(&f.token), None).await.json()["managementAccess"], "write");
    }
}

#[tokio::test]
async fn unknown_tenants_routes_and_methods_answer_in_the_error_shape() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let unknown_tenant = format!("/management/v4/{}/applications", uuid::Uuid::new_v4());
        assert_error(
            &call(&s, Method::GET, &unknown_tenant, Some(&f.token), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let not_uuid = "/management/v4/acme/applications";
        assert_error(&call(&s, Method::GET, not_uuid, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        for path in
            ["/management", "/management/v4", "/management/v3/x/applications", &f.path("/nothing-here"), &f.path("")]
        {
            assert_error(&call(&s, Method::GET, path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        }
        let patch = call(&s, Method::PATCH, &f.path("/applications"), Some(&f.token), None).await;
        assert_error(&patch, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        let put_audit = call(&s, Method::PUT, &f.path("/audit"), Some(&f.token), None).await;
        assert_error(&put_audit, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

#[tokio::test]
async fn a_database_outage_is_503_and_reveals_nothing() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        s.services.close_database().await.unwrap();
        for (method, body) in [(Method::GET, None), (Method::POST, Some(json!({"name": "x"})))] {
            let reply = call(&s, method, &f.path("/applications"), Some(&f.token), body).await;
            assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
            let text = reply.text().to_lowercase();
            for internal in ["pool", "sqlite", "postgres", "sql", "closed", "connection"] {
                assert!(!text.contains(internal), "{}: {text}", s.backend);
            }
        }
    }
}
