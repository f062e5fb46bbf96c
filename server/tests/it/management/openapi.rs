//! The OpenAPI document: it parses, and it lists exactly the routes the
//! router serves under `/management/v4`.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use clavis_types::ManagementAccess;
use serde_json::json;

use super::super::support::servers;
use super::{Fixture, assert_error, call};

/// The routes the issue asks for, the usage read, and the document itself.
const EXPECTED: &[(&str, &str)] = &[
    ("GET", "/management/v4/openapi.json"),
    ("GET", "/management/v4/{tenantId}/applications"),
    ("POST", "/management/v4/{tenantId}/applications"),
    ("GET", "/management/v4/{tenantId}/applications/{clientId}"),
    ("PUT", "/management/v4/{tenantId}/applications/{clientId}"),
    ("DELETE", "/management/v4/{tenantId}/applications/{clientId}"),
    ("POST", "/management/v4/{tenantId}/applications/{clientId}/secret"),
    ("DELETE", "/management/v4/{tenantId}/applications/{clientId}/secret/previous"),
    ("PUT", "/management/v4/{tenantId}/applications/{clientId}/management"),
    ("GET", "/management/v4/{tenantId}/applications/{clientId}/jwks"),
    ("PUT", "/management/v4/{tenantId}/applications/{clientId}/jwks"),
    ("DELETE", "/management/v4/{tenantId}/applications/{clientId}/jwks"),
    ("GET", "/management/v4/{tenantId}/applications/{clientId}/usage"),
    ("GET", "/management/v4/{tenantId}/applications/{clientId}/scopes"),
    ("PUT", "/management/v4/{tenantId}/applications/{clientId}/scopes"),
    ("GET", "/management/v4/{tenantId}/applications/{clientId}/roles"),
    ("PUT", "/management/v4/{tenantId}/applications/{clientId}/roles"),
    ("GET", "/management/v4/{tenantId}/roles"),
    ("POST", "/management/v4/{tenantId}/roles"),
    ("GET", "/management/v4/{tenantId}/roles/{roleId}"),
    ("PUT", "/management/v4/{tenantId}/roles/{roleId}"),
    ("DELETE", "/management/v4/{tenantId}/roles/{roleId}"),
    ("POST", "/management/v4/{tenantId}/applications/{clientId}/tokens/revoke"),
    ("GET", "/management/v4/{tenantId}/keys"),
    ("POST", "/management/v4/{tenantId}/keys/rotate"),
    ("POST", "/management/v4/{tenantId}/keys/{kid}/revoke"),
    ("GET", "/management/v4/{tenantId}/config/keys/rotation"),
    ("PUT", "/management/v4/{tenantId}/config/keys/rotation"),
    ("GET", "/management/v4/{tenantId}/trusted_issuers"),
    ("POST", "/management/v4/{tenantId}/trusted_issuers"),
    ("DELETE", "/management/v4/{tenantId}/trusted_issuers/{issuerId}"),
    ("GET", "/management/v4/{tenantId}/applications/{clientId}/federated_credentials"),
    ("POST", "/management/v4/{tenantId}/applications/{clientId}/federated_credentials"),
    ("DELETE", "/management/v4/{tenantId}/applications/{clientId}/federated_credentials/{credentialId}"),
    ("GET", "/management/v4/{tenantId}/config/tokens"),
    ("PUT", "/management/v4/{tenantId}/config/tokens"),
    ("GET", "/management/v4/{tenantId}/config/dpop"),
    ("PUT", "/management/v4/{tenantId}/config/dpop"),
    ("PUT", "/management/v4/{tenantId}/applications/{clientId}/dpop"),
    ("GET", "/management/v4/{tenantId}/audit"),
    ("GET", "/management/v4/{tenantId}/config/cloud_directory/password_policy"),
    ("PUT", "/management/v4/{tenantId}/config/cloud_directory/password_policy"),
    ("POST", "/management/v4/{tenantId}/cloud_directory/sign_up"),
    ("GET", "/management/v4/{tenantId}/cloud_directory/Users"),
    ("GET", "/management/v4/{tenantId}/cloud_directory/Users/{userId}"),
    ("PUT", "/management/v4/{tenantId}/cloud_directory/Users/{userId}"),
    ("DELETE", "/management/v4/{tenantId}/cloud_directory/Users/{userId}"),
    ("POST", "/management/v4/{tenantId}/cloud_directory/change_password"),
    ("GET", "/management/v4/{tenantId}/users/{profileId}/roles"),
    ("PUT", "/management/v4/{tenantId}/users/{profileId}/roles"),
];

const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"];

fn operations(document: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method.to_lowercase()).is_some() {
                found.insert(((*method).to_owned(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn the_document_parses_and_lists_every_served_route() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "billing", ManagementAccess::None).await;

        let reply = call(&s, Method::GET, "/management/v4/openapi.json", None, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let document = reply.json();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1."), "{}", document["openapi"]);
        assert_eq!(document["info"]["title"], "Clavis management API");
        assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

        let documented = operations(&document);
        let expected: BTreeSet<(String, String)> =
            EXPECTED.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        assert_eq!(documented, expected);

        for (method, path) in &documented {
            let operation = &document["paths"][path][method.to_lowercase()];
            assert!(operation["operationId"].is_string(), "{method} {path}");
            assert!(operation["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
            if path.contains("{tenantId}") {
                let scope = if method == "GET" { "clavis:management:read" } else { "clavis:management:write" };
                assert_eq!(operation["security"], json!([{"bearer": [scope]}]), "{method} {path}");
                // Every tenant route documents the errors any of them can give.
                let mut statuses = vec!["401", "403", "404", "503"];
                if operation.get("requestBody").is_some() {
                    statuses.extend(["413", "415"]);
                }
                for status in statuses {
                    let schema = &operation["responses"][status]["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
                }
                let forbidden = operation["responses"]["403"]["description"].as_str().unwrap();
                assert!(forbidden.contains(scope), "{method} {path}: {forbidden}");
            }

            // The router serves it: without a token, a tenant route asks for one.
            let uri = path
                .replace("{tenantId}", &f.tenant.tenant_id)
                .replace("{clientId}", &app.client_id)
                .replace("{roleId}", &app.client_id)
                .replace("{kid}", &app.client_id)
                .replace("{userId}", &app.client_id)
                .replace("{profileId}", &app.client_id);
            let probe = call(&s, method.parse().unwrap(), &uri, None, None).await;
            if path.contains("{tenantId}") {
                assert_eq!(probe.status, StatusCode::UNAUTHORIZED, "{method} {uri}: {}", probe.text());
            } else {
                assert_eq!(probe.status, StatusCode::OK, "{method} {uri}");
            }
        }

        // And it serves nothing more on those paths.
        let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
        for path in paths {
            let uri = path
                .replace("{tenantId}", &f.tenant.tenant_id)
                .replace("{clientId}", &app.client_id)
                .replace("{roleId}", &app.client_id)
                .replace("{userId}", &app.client_id)
                .replace("{profileId}", &app.client_id);
            for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] {
                if !documented.contains(&(method.to_owned(), path.clone())) {
                    let reply = call(&s, method.parse().unwrap(), &uri, Some(&f.token), None).await;
                    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_application_schema_describes_the_real_answer() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let document = call(&s, Method::GET, "/management/v4/openapi.json", None, None).await.json();
        let created = call(
            &s,
            Method::POST,
            &f.path("/applications"),
            Some(&f.token),
            Some(json!({"name": "billing", "identifier": "https://billing.example"})),
        )
        .await
        .json();
        let schema = &document["components"]["schemas"]["Application"]["properties"];
        let documented: BTreeSet<&String> = schema.as_object().expect("Application schema").keys().collect();
        let answered: BTreeSet<&String> = created.as_object().unwrap().keys().collect();
        assert_eq!(documented, answered, "every field of the answer is documented, and no more");
        for field in [
            "clientId",
            "tenantId",
            "secret",
            "name",
            "oAuthServerUrl",
            "profilesUrl",
            "discoveryEndpoint",
            "createdAt",
        ] {
            assert!(answered.contains(&field.to_owned()), "App ID field {field}");
        }
    }
}
