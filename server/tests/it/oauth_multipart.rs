//! `multipart/form-data` token requests through the live token endpoint, as
//! `curl -F` sends them: a token for text fields, and the same refusals as
//! for forms (file parts, repeated fields, the size limit).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clavis_types::ManagementAccess;

use super::support::{Reply, TestServer, basic_header, servers};

/// curl 7.88's boundary for `-F` (dashes and 16 hex digits).
const BOUNDARY: &str = "------------------------e557ccf27310eec7";

/// A body of text fields in curl's exact layout.
fn curl_form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

async fn post_multipart(s: &TestServer, tenant_id: &str, basic: Option<(&str, &str)>, body: Vec<u8>) -> Reply {
    let mut request = Request::post(format!("/oauth/v4/{tenant_id}/token"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("accept", "application/json");
    if let Some((id, secret)) = basic {
        request = request.header("authorization", basic_header(id, secret));
    }
    s.send(request.body(Body::from(body)).unwrap()).await
}

fn assert_invalid_request(reply: &Reply, status: StatusCode, backend: &str) {
    assert_eq!(reply.status, status, "{backend}: {}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_request", "{backend}: {}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_curl_dash_f_client_credentials_request_gets_a_token() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let (id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());

        let basic = post_multipart(
            &s,
            &tenant.tenant_id,
            Some((id, secret)),
            curl_form(&[("grant_type", "client_credentials")]),
        )
        .await;
        let post = post_multipart(
            &s,
            &tenant.tenant_id,
            None,
            curl_form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]),
        )
        .await;
        for reply in [&basic, &post] {
            assert_eq!(reply.status, StatusCode::OK, "{}: {}", s.backend, reply.text());
            assert_eq!(reply.header("cache-control"), Some("no-store"));
            assert_eq!(reply.json()["token_type"], "Bearer");
            assert_eq!(reply.json()["scope"], "appid_default");
            assert!(reply.json()["access_token"].as_str().is_some_and(|token| token.split('.').count() == 3));
        }

        // A wrong secret in a multipart body is refused as in a form.
        let wrong = post_multipart(
            &s,
            &tenant.tenant_id,
            None,
            curl_form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", "wrong")]),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text());
        assert_eq!(wrong.json()["error"], "invalid_client");
    }
}

#[tokio::test]
async fn file_parts_repeated_fields_and_broken_bodies_are_400() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let (id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());
        let basic = Some((id, secret));

        // `curl -F grant_type=client_credentials -F key=@secret.pem`
        let file = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n\
--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"; filename=\"secret.pem\"\r\n\
Content-Type: application/octet-stream\r\n\r\n-----BEGIN PRIVATE KEY-----\r\n--{BOUNDARY}--\r\n"
        );
        let reply = post_multipart(&s, &tenant.tenant_id, basic, file.into_bytes()).await;
        assert_invalid_request(&reply, StatusCode::BAD_REQUEST, s.backend);
        assert_eq!(reply.json()["error_description"], "file parts are not accepted");

        let twice = curl_form(&[("grant_type", "client_credentials"), ("grant_type", "client_credentials")]);
        let reply = post_multipart(&s, &tenant.tenant_id, basic, twice).await;
        assert_invalid_request(&reply, StatusCode::BAD_REQUEST, s.backend);
        assert!(reply.json()["error_description"].as_str().unwrap().contains("more than once"), "{}", reply.text());

        let mut unclosed = curl_form(&[("grant_type", "client_credentials")]);
        unclosed.truncate(unclosed.len() - format!("--{BOUNDARY}--\r\n").len());
        let reply = post_multipart(&s, &tenant.tenant_id, basic, unclosed).await;
        assert_invalid_request(&reply, StatusCode::BAD_REQUEST, s.backend);

        let no_boundary = s
            .send(
                Request::post(format!("/oauth/v4/{}/token", tenant.tenant_id))
                    .header("content-type", "multipart/form-data")
                    .header("authorization", basic_header(id, secret))
                    .body(Body::from(curl_form(&[("grant_type", "client_credentials")])))
                    .unwrap(),
            )
            .await;
        assert_invalid_request(&no_boundary, StatusCode::BAD_REQUEST, s.backend);
    }
}

#[tokio::test]
async fn an_oversized_multipart_body_is_413() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let basic = Some((app.client_id.as_str(), app.secret.as_deref().unwrap()));
        let padding = "a".repeat(20_000);
        let body = curl_form(&[("grant_type", "client_credentials"), ("pad", &padding)]);
        let reply = post_multipart(&s, &tenant.tenant_id, basic, body).await;
        assert_invalid_request(&reply, StatusCode::PAYLOAD_TOO_LARGE, s.backend);
    }
}
