//! What schemathesis (`scripts/schemathesis.sh`) found by sending what the
//! OpenAPI document allows, each kept as an example: input the document
//! allows is answered as documented, and every refusal is a status the
//! document lists for that operation.

use axum::http::{Method, StatusCode};
use clavis_types::ManagementAccess;

use super::super::support::servers;
use super::{Fixture, assert_error, call};

#[tokio::test]
async fn an_empty_cursor_is_the_first_page() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        for n in 0..3 {
            s.app(&f.scope, &format!("app-{n}"), ManagementAccess::None).await;
        }
        let first = call(&s, Method::GET, &f.path("/applications?limit=2"), Some(&f.token), None).await;
        assert_eq!(first.status, StatusCode::OK, "{}: {}", s.backend, first.text());
        for query in ["?limit=2&cursor=", "?cursor=&limit=2"] {
            let empty = call(&s, Method::GET, &f.path(&format!("/applications{query}")), Some(&f.token), None).await;
            assert_eq!(empty.status, StatusCode::OK, "{}: {query}: {}", s.backend, empty.text());
            assert_eq!(empty.json(), first.json(), "{query}");
        }
        // The cursor the first page names still leads on.
        let next = first.json()["nextCursor"].as_str().unwrap().to_owned();
        let second =
            call(&s, Method::GET, &f.path(&format!("/applications?cursor={next}")), Some(&f.token), None).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text());
        assert_eq!(second.json()["applications"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn a_cursor_outside_the_documented_pattern_is_a_400_on_every_backend() {
    let id = "0b3c9d8e-1f2a-4b5c-8d9e-0f1a2b3c4d5e";
    let bad = [
        "garbage".to_owned(),
        ":".to_owned(),
        format!("1:{}", id.to_uppercase()),
        format!("1:{{{id}}}"),
        format!("1:{}", id.replace('-', "")),
        format!("-1:{id}"),
        format!("+1:{id}"),
        format!("1234567890123456789:{id}"),
        // A NUL byte is a database error on PostgreSQL if it reaches a query.
        format!("1:{id}%00"),
        "1:%00".to_owned(),
        format!("1:{id}:x"),
    ];
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        for cursor in &bad {
            let reply =
                call(&s, Method::GET, &f.path(&format!("/applications?cursor={cursor}")), Some(&f.token), None).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        let fine = call(&s, Method::GET, &f.path(&format!("/applications?cursor=1:{id}")), Some(&f.token), None).await;
        assert_eq!(fine.status, StatusCode::OK, "{}: {}", s.backend, fine.text());
        assert_eq!(fine.json()["applications"], serde_json::json!([]), "nothing was created before second 1");
    }
}

/// Every status an operation answers with is one the document lists for it.
#[tokio::test]
async fn the_document_lists_400_wherever_a_body_or_a_query_can_be_refused() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "billing", ManagementAccess::None).await;
        let document = call(&s, Method::GET, "/management/v4/openapi.json", None, None).await.json();
        let paths = document["paths"].as_object().unwrap();
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let takes_query = operation["parameters"]
                    .as_array()
                    .is_some_and(|parameters| parameters.iter().any(|parameter| parameter["in"] == "query"));
                if operation.get("requestBody").is_some() || takes_query {
                    assert!(operation["responses"].get("400").is_some(), "{method} {path} does not list 400");
                }
            }
        }
        // Found by schemathesis: a PUT whose body is missing is a 400, and
        // the document says so.
        let reply = call(&s, Method::PUT, &f.app_path(&app.client_id, "/roles"), Some(&f.token), None).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let put_roles = &paths["/management/v4/{tenantId}/applications/{clientId}/roles"]["put"];
        assert!(put_roles["responses"].get("400").is_some());
        // And the cursor's pattern is in the document, empty included.
        let list = &paths["/management/v4/{tenantId}/applications"]["get"]["parameters"];
        let cursor = list.as_array().unwrap().iter().find(|p| p["name"] == "cursor").unwrap();
        let pattern = cursor["schema"]["pattern"].as_str().unwrap();
        assert!(pattern.starts_with("^(") && pattern.ends_with(")?$"), "{pattern}");
    }
}

/// The document says `integer`, and JSON Schema counts `3600.0` as one.
#[tokio::test]
async fn whole_numbers_written_with_a_fraction_part_are_integers() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let config = f.path("/config/tokens");
        let body = serde_json::json!({"access": {"expires_in": 900.0}});
        let set = call(&s, Method::PUT, &config, Some(&f.token), Some(body)).await;
        assert_eq!(set.status, StatusCode::OK, "{}: {}", s.backend, set.text());
        assert_eq!(set.json()["access"], serde_json::json!({"expires_in": 900}));
        for bad in [
            serde_json::json!({"access": {"expires_in": 900.5}}),
            serde_json::json!({"access": {"expires_in": 1e300}}),
            serde_json::json!({"access": {"expires_in": "900"}}),
            serde_json::json!({"access": {"expires_in": 299.0}}),
        ] {
            let reply = call(&s, Method::PUT, &config, Some(&f.token), Some(bad.clone())).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }

        let app = s.app(&f.scope, "billing", ManagementAccess::None).await;
        let rotate = f.app_path(&app.client_id, "/secret");
        let body = serde_json::json!({"graceSeconds": 0.0});
        let rotated = call(&s, Method::POST, &rotate, Some(&f.token), Some(body)).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
        assert!(
            rotated.json()["previousSecretExpiresAt"].is_null(),
            "grace 0 ends the old secret now: {}",
            rotated.text()
        );
        let body = serde_json::json!({"graceSeconds": 0.25});
        let fractional = call(&s, Method::POST, &rotate, Some(&f.token), Some(body)).await;
        assert_error(&fractional, StatusCode::BAD_REQUEST, "invalid_request");
        let defaults =
            call(&s, Method::POST, &rotate, Some(&f.token), Some(serde_json::json!({"graceSeconds": null}))).await;
        assert_eq!(defaults.status, StatusCode::OK, "{}", defaults.text());
    }
}

/// The scope list's schema states every rule the API applies, so what the
/// document allows is accepted and what it forbids is refused.
#[tokio::test]
async fn the_scope_list_schema_states_the_rules_the_api_applies() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let document = call(&s, Method::GET, "/management/v4/openapi.json", None, None).await.json();
        let list = &document["components"]["schemas"]["Scopes"]["properties"]["scopes"];
        assert_eq!(list["maxItems"], 50, "{list}");
        assert_eq!(list["uniqueItems"], true, "{list}");
        assert_eq!(list["items"]["pattern"], "^(?!appid|openid)[a-z0-9._]{1,49}$", "{list}");

        let app = s.app(&f.scope, "inventory", ManagementAccess::None).await;
        let path = f.app_path(&app.client_id, "/scopes");
        let allowed =
            serde_json::json!({"scopes": ["read", "inventory.write", "a_1", "x".repeat(49), "app", "open.id"]});
        let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(allowed.clone())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}: {}", s.backend, reply.text());
        assert_eq!(reply.json(), allowed);
        let too_many: Vec<String> = (0..51).map(|n| format!("s{n}")).collect();
        for forbidden in [
            serde_json::json!([""]),
            serde_json::json!(["Read"]),
            serde_json::json!(["appidx"]),
            serde_json::json!(["openid"]),
            serde_json::json!(["x".repeat(50)]),
            serde_json::json!(["read", "read"]),
            serde_json::json!(too_many),
        ] {
            let reply =
                call(&s, Method::PUT, &path, Some(&f.token), Some(serde_json::json!({"scopes": forbidden}))).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
    }
}

/// Schemathesis's findings on the key routes: a rotation interval written
/// as `155.0` is the integer the document promises, and the document names
/// the only algorithms `POST …/keys/rotate` accepts, so a made-up one is a
/// schema violation (400), not a schema-valid request refused.
#[tokio::test]
async fn key_rotation_settings_take_whole_numbers_and_the_document_lists_the_algorithms() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let config = f.path("/config/keys/rotation");
        let body = serde_json::json!({"enabled": true, "interval_days": 155.0});
        let set = call(&s, Method::PUT, &config, Some(&f.token), Some(body)).await;
        assert_eq!(set.status, StatusCode::OK, "{}: {}", s.backend, set.text());
        assert_eq!(set.json()["interval_days"], 155);
        for bad in [
            serde_json::json!({"enabled": true, "interval_days": 155.5}),
            serde_json::json!({"enabled": true, "interval_days": -1}),
            serde_json::json!({"enabled": true, "interval_days": 5_000_000_000_i64}),
        ] {
            let reply = call(&s, Method::PUT, &config, Some(&f.token), Some(bad)).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        let rotate = f.path("/keys/rotate");
        let made_up = call(&s, Method::POST, &rotate, Some(&f.token), Some(serde_json::json!({"alg": "HS256"}))).await;
        assert_error(&made_up, StatusCode::BAD_REQUEST, "invalid_request");
        let rotated = call(&s, Method::POST, &rotate, Some(&f.token), Some(serde_json::json!({"alg": "EdDSA"}))).await;
        assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text());
        assert_eq!(rotated.json()["alg"], "EdDSA");
        let document = s.get("/management/v4/openapi.json").await.json();
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["SigningAlg"]["enum"], serde_json::json!(["RS256", "ES256", "EdDSA"]), "{schemas}");
    }
}

/// `[]` once rotated a secret: serde reads a struct from an array of its
/// fields, so an empty array passed as an object with every field left out.
#[tokio::test]
async fn an_array_body_is_refused_and_rotates_nothing() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "svc", ManagementAccess::None).await;
        let secret_path = f.app_path(&app.client_id, "/secret");
        for body in [serde_json::json!([]), serde_json::json!([86400, true])] {
            let refused = call(&s, Method::POST, &secret_path, Some(&f.token), Some(body.clone())).await;
            assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
        }
        let view = call(&s, Method::GET, &f.app_path(&app.client_id, ""), Some(&f.token), None).await;
        assert_eq!(view.status, StatusCode::OK, "{}", view.text());
        // No rotation: no previous secret, the same current one.
        assert_eq!(view.json()["previousSecret"], serde_json::Value::Null, "{}: {}", s.backend, view.text());
        let last_four = app.secret.as_deref().map(|secret| secret[secret.len() - 4..].to_owned());
        assert_eq!(view.json()["secretLastFour"].as_str().map(str::to_owned), last_four, "{}", s.backend);
    }
}
