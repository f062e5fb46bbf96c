//! The password and refresh-token grants over HTTP, in the request shapes
//! real clients send (seed 002's `curl -F` multipart, forms, JSON), the
//! UserInfo endpoint and the discovery documents that describe them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clavis_types::ManagementAccess;
use domain::services::{NewDirectoryUser, UserStatus};

use super::support::{Reply, TestServer, basic_header, servers};

const PASSWORD: &str = "violet-harbour-42";
const BOUNDARY: &str = "------------------------d74496d66958873e";

/// The body `curl -F name=value ...` sends.
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

async fn post_multipart(s: &TestServer, path: &str, basic: (&str, &str), body: String) -> Reply {
    s.send(
        Request::post(path)
            .header("authorization", basic_header(basic.0, basic.1))
            .header("accept", "application/json")
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn claims(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

struct Setup {
    tenant_id: String,
    issuer: String,
    client_id: String,
    secret: String,
    user_id: String,
}

async fn setup(s: &TestServer) -> Setup {
    let (tenant, scope) = s.tenant("Acme").await;
    let app = s.app(&scope, "web", ManagementAccess::None).await;
    let new = NewDirectoryUser {
        email: "testuser@test.com".into(),
        user_name: None,
        password: PASSWORD.into(),
        given_name: "Test".into(),
        family_name: "User".into(),
        active: true,
        status: UserStatus::Confirmed,
    };
    let user = s.services.sign_up_directory_user(&scope, new, s.now()).await.unwrap();
    Setup {
        tenant_id: tenant.tenant_id,
        issuer: tenant.oauth_server_url,
        client_id: app.client_id,
        secret: app.secret.unwrap(),
        user_id: user.id,
    }
}

#[tokio::test]
async fn the_seeds_curl_dash_f_password_grant_gets_access_id_and_refresh_tokens() {
    for s in servers().await {
        let app = setup(&s).await;
        let path = format!("/oauth/v4/{}/token", app.tenant_id);
        let body = multipart(&[("grant_type", "password"), ("username", "testuser@test.com"), ("password", PASSWORD)]);
        let reply = post_multipart(&s, &path, (&app.client_id, &app.secret), body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}: {}", s.backend, reply.text());
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let answer = reply.json();
        assert_eq!(answer["token_type"], "Bearer");
        assert!(answer["expires_in"].is_number());
        assert!(answer["refresh_token"].is_string());
        let id = claims(answer["id_token"].as_str().unwrap());
        assert_eq!(id["iss"], app.issuer.as_str());
        assert_eq!(id["aud"], serde_json::json!([app.client_id]));
        assert_eq!(id["sub"], app.user_id.as_str());
        assert_eq!(id["email"], "testuser@test.com");
        let access = claims(answer["access_token"].as_str().unwrap());
        assert_eq!(access["amr"], serde_json::json!(["cloud_directory"]));

        // The refresh grant, as the Node SDK sends it (multipart too).
        let refresh = answer["refresh_token"].as_str().unwrap();
        let body = multipart(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
        let renewed = post_multipart(&s, &path, (&app.client_id, &app.secret), body).await;
        assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text());
        assert_ne!(renewed.json()["refresh_token"], answer["refresh_token"]);
        // And the spent one is refused.
        let body = multipart(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
        let reused = post_multipart(&s, &path, (&app.client_id, &app.secret), body).await;
        assert_eq!(reused.status, StatusCode::BAD_REQUEST);
        assert_eq!(reused.json()["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn form_and_json_bodies_work_and_failures_are_invalid_grant() {
    for s in servers().await {
        let app = setup(&s).await;
        let path = format!("/oauth/v4/{}/token", app.tenant_id);
        let basic = Some((app.client_id.as_str(), app.secret.as_str()));
        let form = format!("grant_type=password&username=TestUser%40test.com&password={PASSWORD}");
        assert_eq!(s.post_form(&path, basic, &form).await.status, StatusCode::OK, "emails ignore case");
        let json = serde_json::json!({
            "grant_type": "password", "username": "testuser@test.com", "password": PASSWORD,
            "client_id": app.client_id, "client_secret": app.secret,
        });
        let reply = s
            .send(
                Request::post(&path)
                    .header("content-type", "application/json")
                    .body(Body::from(json.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        for body in [
            "grant_type=password&username=testuser%40test.com&password=wrong-password",
            "grant_type=password&username=nobody%40test.com&password=wrong-password",
        ] {
            let reply = s.post_form(&path, basic, body).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST);
            assert_eq!(reply.json()["error"], "invalid_grant");
            assert!(!reply.text().contains("testuser"), "the answer names no user");
        }
        let missing = s.post_form(&path, basic, "grant_type=password&username=testuser%40test.com").await;
        assert_eq!(
            (missing.status, missing.json()["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request"))
        );
        let refresh = s.post_form(&path, basic, "grant_type=refresh_token&refresh_token=nope").await;
        assert_eq!(refresh.json()["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn multipart_bodies_refuse_file_parts_oversize_bodies_and_doubled_fields() {
    for s in servers().await {
        let app = setup(&s).await;
        let path = format!("/oauth/v4/{}/token", app.tenant_id);
        let basic = (app.client_id.as_str(), app.secret.as_str());
        let file = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"password\"; filename=\"p.txt\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{PASSWORD}\r\n--{BOUNDARY}--\r\n"
        );
        let reply = post_multipart(&s, &path, basic, file).await;
        assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
        let doubled = multipart(&[("grant_type", "password"), ("username", "a"), ("username", "b"), ("password", "x")]);
        let reply = post_multipart(&s, &path, basic, doubled).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let huge = multipart(&[("grant_type", "password"), ("username", &"a".repeat(64 * 1024)), ("password", "x")]);
        assert_eq!(post_multipart(&s, &path, basic, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}

#[tokio::test]
async fn userinfo_answers_a_users_bearer_token_and_challenges_anything_else() {
    for s in servers().await {
        let app = setup(&s).await;
        let basic = Some((app.client_id.as_str(), app.secret.as_str()));
        let path = format!("/oauth/v4/{}/token", app.tenant_id);
        let form = format!("grant_type=password&username=testuser%40test.com&password={PASSWORD}");
        let token = s.post_form(&path, basic, &form).await.json()["access_token"].as_str().unwrap().to_owned();
        let userinfo = format!("/oauth/v4/{}/userinfo", app.tenant_id);
        for method in ["GET", "POST"] {
            let reply = s
                .send(
                    Request::builder()
                        .method(method)
                        .uri(&userinfo)
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.text());
            let info = reply.json();
            assert_eq!(info["sub"], app.user_id.as_str());
            assert_eq!((info["email"].as_str(), info["name"].as_str()), (Some("testuser@test.com"), Some("Test User")));
        }
        let client_token = s.post_form(&path, basic, "grant_type=client_credentials").await.json()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        for authorization in [Some(format!("Bearer {client_token}")), Some("Bearer abc.def.ghi".to_owned()), None] {
            let mut request = Request::get(&userinfo);
            if let Some(value) = &authorization {
                request = request.header("authorization", value);
            }
            let reply = s.send(request.body(Body::empty()).unwrap()).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
            let challenge = reply.header("www-authenticate").unwrap();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
            if authorization.is_some() {
                assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
            }
        }
        let unknown = s.get("/oauth/v4/00000000-0000-4000-8000-000000000000/userinfo").await;
        assert_ne!(unknown.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn discovery_describes_the_grants_userinfo_and_id_tokens_at_both_well_known_paths() {
    for s in servers().await {
        let app = setup(&s).await;
        let appended = s.get(&format!("/oauth/v4/{}/.well-known/openid-configuration", app.tenant_id)).await;
        let inserted = s.get(&format!("/.well-known/oauth-authorization-server/oauth/v4/{}", app.tenant_id)).await;
        assert_eq!(inserted.status, StatusCode::OK, "{}", inserted.text());
        assert_eq!(inserted.header("content-type"), Some("application/json"));
        assert_eq!(appended.json(), inserted.json());
        let doc = appended.json();
        assert_eq!(doc["issuer"], app.issuer.as_str());
        assert_eq!(doc["userinfo_endpoint"], format!("{}/userinfo", app.issuer));
        assert_eq!(
            doc["grant_types_supported"],
            serde_json::json!(["client_credentials", "password", "refresh_token"])
        );
        assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
        assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
        assert!(doc["scopes_supported"].as_array().unwrap().contains(&serde_json::json!("openid")));
        assert!(doc["claims_supported"].as_array().unwrap().contains(&serde_json::json!("email")));
        let unknown = s.get("/.well-known/oauth-authorization-server/oauth/v4/nope").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(unknown.header("content-type").is_some_and(|t| t.starts_with("application/json")));
    }
}
