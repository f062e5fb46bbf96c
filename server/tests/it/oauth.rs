//! The OAuth endpoints over HTTP: token (every RFC 6749 §5.2 error, every
//! client authentication style, malformed input), discovery, JWKS,
//! introspection and revocation.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clavis_types::ManagementAccess;

use super::support::{TestServer, basic_header, servers};

fn token_path(tenant_id: &str) -> String {
    format!("/oauth/v4/{tenant_id}/token")
}

fn assert_oauth_error(reply: &super::support::Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.json()["error"], code, "{}", reply.text());
    assert!(reply.json()["error_description"].is_string());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn every_client_authentication_style_gets_a_token() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let (id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());
        let path = token_path(&tenant.tenant_id);
        // Seed 003's Auth0-style call names a protected API by its identifier.
        let api = protected_api(&s, &scope, "https://api.example.com", "read").await;
        grant_role(&s, &scope, id, &api, "read").await;

        let basic = s.post_form(&path, Some((id, secret)), "grant_type=client_credentials").await;
        let post = s
            .post_form(&path, None, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"))
            .await;
        let json = s
            .send(
                Request::post(&path)
                    .header("content-type", "application/json")
                    .body(Body::from(
                        serde_json::json!({"client_id": id, "client_secret": secret, "audience": "https://api.example.com", "grant_type": "client_credentials"})
                            .to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        let json_with_basic = s
            .send(
                Request::post(&path)
                    .header("content-type", "application/json; charset=utf-8")
                    .header("authorization", basic_header(id, secret))
                    .body(Body::from(r#"{"grant_type":"client_credentials"}"#))
                    .unwrap(),
            )
            .await;
        for reply in [&basic, &post, &json, &json_with_basic] {
            assert_eq!(reply.status, StatusCode::OK, "{}: {}", s.backend, reply.text());
            assert_eq!(reply.header("cache-control"), Some("no-store"));
            let body = reply.json();
            assert_eq!(body["token_type"], "Bearer");
            assert!(body["expires_in"].is_i64(), "expires_in is a JSON number");
            let expected = if std::ptr::eq(reply, &json) { "appid_default read" } else { "appid_default" };
            assert_eq!(body["scope"], expected);
            assert!(body.get("refresh_token").is_none());
        }
        let claims = payload(json.json()["access_token"].as_str().unwrap());
        assert_eq!(claims["aud"], serde_json::json!([api, "https://api.example.com"]));
        assert_eq!(payload(basic.json()["access_token"].as_str().unwrap())["aud"], serde_json::json!([id]));
        let header = header_of(basic.json()["access_token"].as_str().unwrap());
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["ver"], 4);
        // A trailing slash is tolerated.
        let slash = s.post_form(&format!("{path}/"), Some((id, secret)), "grant_type=client_credentials").await;
        assert_eq!(slash.status, StatusCode::OK, "{}", slash.text());
        // The older v3 path serves the same tenant.
        let v3 = s
            .post_form(
                &format!("/oauth/v3/{}/token", tenant.tenant_id),
                Some((id, secret)),
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(v3.status, StatusCode::OK);
    }
}

fn payload(token: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn header_of(token: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

#[tokio::test]
async fn each_rfc6749_error_has_its_status() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let (id, secret) = (app.client_id.as_str(), app.secret.as_deref().unwrap());
        let path = token_path(&tenant.tenant_id);

        let reply = s.post_form(&path, Some((id, secret)), "").await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");

        let reply = s.post_form(&path, Some((id, "wrong")), "grant_type=client_credentials").await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        let challenge = reply.header("www-authenticate").expect("Basic challenge");
        assert!(challenge.starts_with("Basic realm=\""), "{challenge}");
        assert!(challenge.contains(&tenant.tenant_id));

        let reply = s
            .post_form(&path, None, &format!("grant_type=client_credentials&client_id={id}&client_secret=wrong"))
            .await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(reply.header("www-authenticate").is_none(), "no Basic challenge when Basic was not used");

        let reply = s.post_form(&path, Some((id, secret)), "grant_type=authorization_code&code=c").await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");

        let reply = s.post_form(&path, Some((id, secret)), "grant_type=client_credentials&scope=%22quoted%22").await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope");
        let reply =
            s.post_form(&path, Some((id, secret)), "grant_type=client_credentials&audience=https://x.example").await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_target");

        let reply = s.post_form(&path, Some((id, secret)), "grant_type=client_credentials&resource=not-absolute").await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_target");

        // unauthorized_client: revoking a token issued to another client.
        let other = s.app(&scope, "other", ManagementAccess::None).await;
        let token = s.token_for(&app).await;
        let reply = s
            .post_form(
                &format!("/oauth/v4/{}/revoke", tenant.tenant_id),
                Some((&other.client_id, other.secret.as_deref().unwrap())),
                &format!("token={token}"),
            )
            .await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");

        let reply = s
            .post_form(
                "/oauth/v4/00000000-0000-4000-8000-000000000000/token",
                Some((id, secret)),
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.json()["error"], "not_found");
        let reply =
            s.post_form("/oauth/v4/not-a-tenant/token", Some((id, secret)), "grant_type=client_credentials").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", s.backend);
    }
}

#[tokio::test]
async fn scopes_follow_management_access() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::Read).await;
        let path = token_path(&tenant.tenant_id);
        let creds = Some((app.client_id.as_str(), app.secret.as_deref().unwrap()));
        let management = format!("grant_type=client_credentials&audience={}", app.management_url);
        let all = s.post_form(&path, creds, &management).await.json();
        assert_eq!(all["scope"], "appid_default clavis:management:read");
        let some =
            s.post_form(&path, creds, &format!("{management}&scope=unknown+clavis:management:read")).await.json();
        assert_eq!(some["scope"], "appid_default clavis:management:read", "{}", s.backend);
        // RFC 6749 §3.3: a scope the application is not entitled to is left out.
        let denied = s.post_form(&path, creds, &format!("{management}&scope=clavis:management:write")).await;
        assert_eq!(denied.status, StatusCode::OK);
        assert_eq!(denied.json()["scope"], "appid_default");
        // Plain tokens never carry management scopes.
        let plain = s.post_form(&path, creds, "grant_type=client_credentials&scope=clavis:management:read").await;
        assert_eq!(plain.json()["scope"], "appid_default");
    }
}

/// One malformed request: what it is and how to build it.
struct Case {
    what: &'static str,
    content_type: Option<&'static str>,
    authorization: Vec<String>,
    body: Vec<u8>,
    expected: StatusCode,
}

fn case(
    what: &'static str,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    expected: StatusCode,
) -> Case {
    Case { what, content_type, authorization: vec![], body: body.into(), expected }
}

fn with_auth(mut case: Case, values: &[&str]) -> Case {
    case.authorization = values.iter().map(|v| (*v).to_owned()).collect();
    case
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON: Option<&str> = Some("application/json");

fn malformed_cases(id: &str, secret: &str) -> Vec<Case> {
    let good = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let basic = basic_header(id, secret);
    let bad = StatusCode::BAD_REQUEST;
    let unauthorized = StatusCode::UNAUTHORIZED;
    let unsupported = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    vec![
        case("no content type", None, good.clone(), unsupported),
        case("text/plain", Some("text/plain"), good.clone(), unsupported),
        case("form body sent as multipart", Some("multipart/form-data; boundary=x"), good.clone(), bad),
        case("multipart without boundary", Some("multipart/form-data"), good.clone(), bad),
        case("xml", Some("application/xml"), "<grant_type/>", unsupported),
        case("oversized body", FORM, format!("{good}&pad={}", "a".repeat(20_000)), StatusCode::PAYLOAD_TOO_LARGE),
        case("truncated JSON", JSON, "{\"grant_type\":", bad),
        case("JSON array", JSON, "[\"client_credentials\"]", bad),
        case("JSON number value", JSON, "{\"grant_type\": 1}", bad),
        case("JSON object value", JSON, "{\"grant_type\": {\"a\": 1}}", bad),
        case("JSON trailing garbage", JSON, "{\"grant_type\":\"client_credentials\"} {}", bad),
        case(
            "JSON duplicate keys",
            JSON,
            format!(
                "{{\"grant_type\":\"client_credentials\",\"client_id\":\"{id}\",\"client_id\":\"{id}\",\"client_secret\":\"{secret}\"}}"
            ),
            bad,
        ),
        case("JSON all null", JSON, "{\"grant_type\":null}", bad),
        case("JSON string body", JSON, "\"grant_type=client_credentials\"", bad),
        case("raw non-UTF-8 form", FORM, b"grant_type=client_credentials&client_id=\xff\xfe".to_vec(), bad),
        case("escaped non-UTF-8 form", FORM, format!("{good}&scope=%ff%fe"), bad),
        case("repeated grant_type", FORM, format!("{good}&grant_type=client_credentials"), bad),
        case("repeated client_id", FORM, format!("{good}&client_id={id}"), bad),
        case("repeated scope", FORM, format!("{good}&scope=a&scope=b"), bad),
        case("missing grant_type", FORM, format!("client_id={id}&client_secret={secret}"), bad),
        case("empty grant_type", FORM, format!("grant_type=&client_id={id}&client_secret={secret}"), bad),
        case(
            "authorization_code grant",
            FORM,
            format!("grant_type=authorization_code&code=x&client_id={id}&client_secret={secret}"),
            bad,
        ),
        case(
            "grant_type in capitals",
            FORM,
            format!("grant_type=CLIENT_CREDENTIALS&client_id={id}&client_secret={secret}"),
            bad,
        ),
        case("empty form body", FORM, "", bad),
        with_auth(case("Basic without credentials", FORM, "grant_type=client_credentials", bad), &["Basic"]),
        with_auth(case("Basic with bad base64", FORM, "grant_type=client_credentials", bad), &["Basic !!!notbase64"]),
        with_auth(
            case("Basic decoding to non-UTF-8", FORM, "grant_type=client_credentials", bad),
            &[&format!("Basic {}", STANDARD.encode(b"\xff\xfe:\xfd"))],
        ),
        with_auth(
            case("Basic without a colon", FORM, "grant_type=client_credentials", bad),
            &[&format!("Basic {}", STANDARD.encode(id))],
        ),
        with_auth(
            case("Basic with an empty client id", FORM, "grant_type=client_credentials", unauthorized),
            &[&format!("Basic {}", STANDARD.encode(format!(":{secret}")))],
        ),
        with_auth(
            case("Bearer instead of Basic", FORM, "grant_type=client_credentials", unauthorized),
            &["Bearer abc.def.ghi"],
        ),
        with_auth(case("two Authorization headers", FORM, "grant_type=client_credentials", bad), &[&basic, &basic]),
        with_auth(case("Basic and client_secret in the body", FORM, good.clone(), bad), &[&basic]),
        with_auth(
            case(
                "Basic and another client_id in the body",
                FORM,
                "grant_type=client_credentials&client_id=someone-else",
                bad,
            ),
            &[&basic],
        ),
        case("client_id without a secret", FORM, format!("grant_type=client_credentials&client_id={id}"), unauthorized),
        case("client_secret without an id", FORM, format!("grant_type=client_credentials&client_secret={secret}"), bad),
        case("no credentials at all", FORM, "grant_type=client_credentials", unauthorized),
        case("scope with a quote", FORM, format!("{good}&scope=%22a%22"), bad),
        case("relative resource", FORM, format!("{good}&resource=api"), bad),
        case("resource with a fragment", FORM, format!("{good}&resource=https%3A%2F%2Fapi%2F%23frag"), bad),
        case("audience with a control character", FORM, format!("{good}&audience=a%07b"), bad),
        case(
            "eleven resources",
            FORM,
            format!("{good}{}", (0..11).map(|i| format!("&resource=https%3A%2F%2Fapi{i}.example")).collect::<String>()),
            bad,
        ),
        case(
            "client id that is not a UUID",
            FORM,
            format!("grant_type=client_credentials&client_id=..%2F..&client_secret={secret}"),
            unauthorized,
        ),
        case(
            "wrong secret",
            FORM,
            format!("grant_type=client_credentials&client_id={id}&client_secret=x"),
            unauthorized,
        ),
    ]
}

#[tokio::test]
async fn malformed_requests_get_a_4xx_json_error() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let cases = malformed_cases(&app.client_id, app.secret.as_deref().unwrap());
        assert!(cases.len() >= 30);
        for case in cases {
            let mut request = Request::post(token_path(&tenant.tenant_id));
            if let Some(content_type) = case.content_type {
                request = request.header("content-type", content_type);
            }
            for value in &case.authorization {
                request = request.header("authorization", value.as_str());
            }
            let reply = s.send(request.body(Body::from(case.body)).unwrap()).await;
            assert_eq!(reply.status, case.expected, "{} ({}): {}", case.what, s.backend, reply.text());
            let body = reply.json();
            assert!(body["error"].is_string(), "{}: {body}", case.what);
            assert!(body["error_description"].is_string(), "{}: {body}", case.what);
        }
        // A non-UTF-8 Content-Type header value.
        let reply = s
            .send(
                Request::post(token_path(&tenant.tenant_id))
                    .header("content-type", axum::http::HeaderValue::from_bytes(b"application/\xffjson").unwrap())
                    .body(Body::from("grant_type=client_credentials"))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_issued_tokens() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let token = s.token_for(&app).await;
        let base = format!("/oauth/v4/{}", tenant.tenant_id);
        for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
            let reply = s.get(&format!("{base}{path}")).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert!(reply.header("cache-control").unwrap().contains("max-age"));
            let doc = reply.json();
            assert_eq!(doc["issuer"], payload(&token)["iss"], "issuer equals iss exactly");
            assert_eq!(doc["issuer"], tenant.oauth_server_url);
            for endpoint in ["token_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"] {
                assert!(doc[endpoint].as_str().unwrap().starts_with(&tenant.oauth_server_url), "{endpoint}");
            }
            assert_eq!(
                doc["grant_types_supported"],
                serde_json::json!(["client_credentials", "password", "refresh_token"])
            );
            assert_eq!(doc["userinfo_endpoint"], format!("{}/userinfo", tenant.oauth_server_url));
            assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
            assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
            assert!(doc["scopes_supported"].as_array().unwrap().contains(&"openid".into()));
            for claim in ["auth_time", "email", "name", "given_name", "family_name", "amr"] {
                assert!(doc["claims_supported"].as_array().unwrap().contains(&claim.into()), "{claim}");
            }
            assert_eq!(
                doc["token_endpoint_auth_methods_supported"],
                serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt"])
            );
            assert_eq!(
                doc["token_endpoint_auth_signing_alg_values_supported"],
                serde_json::json!(["RS256", "PS256", "ES256", "EdDSA"])
            );
        }
        let jwks = s.get(&format!("{base}/publickeys")).await;
        assert_eq!(jwks.status, StatusCode::OK);
        let kid = header_of(&token)["kid"].clone();
        let keys = jwks.json()["keys"].as_array().unwrap().clone();
        let key = keys.iter().find(|k| k["kid"] == kid).expect("token's kid is published");
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private material in the JWKS");
        assert_eq!(
            s.get("/oauth/v4/00000000-0000-4000-8000-000000000000/publickeys").await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn introspection_and_revocation_over_http() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let creds = Some((app.client_id.as_str(), app.secret.as_deref().unwrap()));
        let token = s.token_for(&app).await;
        let introspect = format!("/oauth/v4/{}/introspect", tenant.tenant_id);
        let revoke = format!("/oauth/v4/{}/revoke", tenant.tenant_id);

        let active = s.post_form(&introspect, creds, &format!("token={token}")).await;
        assert_eq!(active.status, StatusCode::OK);
        assert_eq!(active.json()["active"], true);
        assert_eq!(active.json()["client_id"], app.client_id.as_str());
        assert_eq!(s.post_form(&introspect, creds, "token=garbage").await.json(), serde_json::json!({"active": false}));
        assert_eq!(s.post_form(&introspect, None, &format!("token={token}")).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(s.post_form(&introspect, creds, "").await.status, StatusCode::BAD_REQUEST);

        let revoked = s.post_form(&revoke, creds, &format!("token={token}&token_type_hint=access_token")).await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", s.backend);
        assert_eq!(s.post_form(&revoke, creds, "token=unknown").await.status, StatusCode::OK);
        assert_eq!(s.post_form(&introspect, creds, &format!("token={token}")).await.json()["active"], false);

        // Expired tokens are inactive.
        let fresh = s.token_for(&app).await;
        s.clock.advance(chrono::Duration::seconds(3601));
        assert_eq!(s.post_form(&introspect, creds, &format!("token={fresh}")).await.json()["active"], false);

        // Another tenant's token is inactive here.
        s.clock.set(super::support::t0());
        let (other, other_scope) = s.tenant("Other").await;
        let other_app = s.app(&other_scope, "svc", ManagementAccess::None).await;
        let foreign = s.token_for(&other_app).await;
        assert_eq!(s.post_form(&introspect, creds, &format!("token={foreign}")).await.json()["active"], false);
        assert_ne!(other.tenant_id, tenant.tenant_id);
    }
}

#[tokio::test]
async fn a_database_outage_is_503_not_500() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        s.services.close_database().await.unwrap();
        let ready = s.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(s.get("/healthz").await.status, StatusCode::OK);
        // The tenant's keys are cached; the client lookup needs the database.
        let reply = s
            .post_form(
                &token_path(&tenant.tenant_id),
                Some((&app.client_id, app.secret.as_deref().unwrap())),
                "grant_type=client_credentials",
            )
            .await;
        assert!(
            reply.status == StatusCode::SERVICE_UNAVAILABLE || reply.status == StatusCode::OK,
            "{}: {}",
            s.backend,
            reply.text()
        );
        let other = s
            .post_form("/oauth/v4/00000000-0000-4000-8000-000000000001/token", None, "grant_type=client_credentials")
            .await;
        assert_eq!(other.status, StatusCode::SERVICE_UNAVAILABLE, "{}: {}", s.backend, other.text());
        assert_eq!(other.json()["error"], "temporarily_unavailable");
    }
}

/// Everything the tracing subscriber writes during this binary's run.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || SharedWriter(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        buffer
    })
    .clone()
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let logs = captured_logs();
    let s: TestServer = super::support::sqlite_server().await;
    let (tenant, scope) = s.tenant("Acme").await;
    let app = s.app(&scope, "svc", ManagementAccess::None).await;
    let secret = app.secret.clone().unwrap();
    let wrong = "wrong-secret-that-must-not-be-logged";
    let path = token_path(&tenant.tenant_id);
    let ok = s.post_form(&path, Some((&app.client_id, &secret)), "grant_type=client_credentials").await;
    assert_eq!(ok.status, StatusCode::OK);
    let failed = s
        .post_form(
            &path,
            None,
            &format!("grant_type=client_credentials&client_id={}&client_secret={wrong}", app.client_id),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let token = ok.json()["access_token"].as_str().unwrap().to_owned();
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    // The capture works: the refusal was logged, naming the client.
    assert!(text.contains("token request refused") && text.contains(&app.client_id), "{text}");
    assert!(!text.contains(&secret), "the client secret appeared in the logs");
    assert!(!text.contains(wrong), "a presented wrong secret appeared in the logs");
    assert!(!text.contains(&token), "an access token appeared in the logs");
    assert!(!failed.text().contains(wrong), "the error response echoed the secret");
}

#[tokio::test]
async fn repeated_wrong_secrets_from_one_address_are_slowed_down() {
    use axum::extract::ConnectInfo;
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let secret = app.secret.clone().unwrap();
        let attempt = |secret: String, ip: [u8; 4]| {
            let mut request = Request::post(token_path(&tenant.tenant_id))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", basic_header(&app.client_id, &secret))
                .body(Body::from("grant_type=client_credentials"))
                .unwrap();
            request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
            request
        };
        for _ in 0..10 {
            assert_eq!(s.send(attempt("wrong".into(), [10, 0, 0, 1])).await.status, StatusCode::UNAUTHORIZED);
        }
        // Now wrong secrets from that address must wait...
        let slowed = s.send(attempt("wrong".into(), [10, 0, 0, 1])).await;
        assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS, "{}: {}", s.backend, slowed.text());
        assert_eq!(slowed.header("retry-after"), Some("1"));
        assert_eq!(slowed.json()["error"], "invalid_client");
        // ...from that address only; and the right secret is never locked out.
        assert_eq!(s.send(attempt("wrong".into(), [10, 0, 0, 2])).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(s.send(attempt(secret.clone(), [10, 0, 0, 1])).await.status, StatusCode::OK);
        // Success cleared the record: the next wrong secret is an ordinary 401.
        assert_eq!(s.send(attempt("wrong".into(), [10, 0, 0, 1])).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn introspection_and_revocation_are_throttled_like_the_token_endpoint() {
    use axum::extract::ConnectInfo;
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let secret = app.secret.clone().unwrap();
        let token = s.token_for(&app).await;
        for endpoint in ["introspect", "revoke"] {
            let attempt = |secret: &str, ip: [u8; 4]| {
                let mut request = Request::post(format!("/oauth/v4/{}/{endpoint}", tenant.tenant_id))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("authorization", basic_header(&app.client_id, secret))
                    .body(Body::from(format!("token={token}")))
                    .unwrap();
                request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
                request
            };
            for _ in 0..10 {
                assert_eq!(s.send(attempt("wrong", [10, 0, 0, 9])).await.status, StatusCode::UNAUTHORIZED);
            }
            let slowed = s.send(attempt("wrong", [10, 0, 0, 9])).await;
            assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS, "{} {endpoint}: {}", s.backend, slowed.text());
            assert_eq!(slowed.header("retry-after"), Some("1"));
            assert_eq!(slowed.json()["error"], "invalid_client");
            // Another address is not slowed down; the right secret always works.
            assert_eq!(s.send(attempt("wrong", [10, 0, 0, 10])).await.status, StatusCode::UNAUTHORIZED, "{endpoint}");
            assert_eq!(s.send(attempt(&secret, [10, 0, 0, 9])).await.status, StatusCode::OK, "{endpoint}");
        }
    }
}

#[tokio::test]
async fn introspecting_and_revoking_do_not_count_as_tokens_issued() {
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let creds = Some((app.client_id.as_str(), app.secret.as_deref().unwrap()));
        let token = s.token_for(&app).await;
        for endpoint in ["introspect", "introspect", "revoke", "revoke"] {
            let path = format!("/oauth/v4/{}/{endpoint}", tenant.tenant_id);
            assert_eq!(s.post_form(&path, creds, &format!("token={token}")).await.status, StatusCode::OK);
        }
        s.services.flush_usage().await.unwrap();
        let view = s.services.get_application(&scope, &app.client_id, s.now()).await.unwrap();
        assert_eq!(view.tokens_issued, 1, "{}: only the token request counts", s.backend);
        let usage = s.services.token_usage(&scope, &app.client_id, 1, s.now()).await.unwrap();
        assert_eq!(usage.per_minute, [1], "{}", s.backend);
    }
}

/// A protected application with `identifier` and one `scope`; its client ID.
async fn protected_api(
    s: &super::support::TestServer,
    scope: &domain::TenantScope<domain::Write>,
    identifier: &str,
    api_scope: &str,
) -> String {
    let new = domain::services::NewApplication {
        name: "api".into(),
        identifier: Some(identifier.into()),
        ..Default::default()
    };
    let api = s.services.create_application_with(scope, new, s.now()).await.unwrap();
    s.services.set_application_scopes(scope, &api.client_id, vec![api_scope.into()], s.now()).await.unwrap();
    api.client_id
}

/// Gives `caller` a role granting `api_scope` on `api`.
async fn grant_role(
    s: &super::support::TestServer,
    scope: &domain::TenantScope<domain::Write>,
    caller: &str,
    api: &str,
    api_scope: &str,
) {
    let input = domain::services::RoleInput {
        name: format!("role-{api_scope}"),
        description: String::new(),
        access: vec![domain::services::RoleAccess { application_id: api.into(), scopes: vec![api_scope.into()] }],
    };
    let role = s.services.create_role(scope, input, s.now()).await.unwrap();
    s.services.set_application_roles(scope, caller, &[role.id], s.now()).await.unwrap();
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_throttle_counts_the_real_client() {
    use axum::extract::ConnectInfo;
    for s in servers().await {
        let (tenant, scope) = s.tenant("Acme").await;
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        // The test router trusts 10.0.0.0/8 as proxies.
        let attempt = |peer: [u8; 4], forwarded_for: &str| {
            let mut request = Request::post(token_path(&tenant.tenant_id))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", basic_header(&app.client_id, "wrong"))
                .header("x-forwarded-for", forwarded_for)
                .body(Body::from("grant_type=client_credentials"))
                .unwrap();
            request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from((peer, 40000))));
            request
        };
        for _ in 0..10 {
            assert_eq!(s.send(attempt([10, 0, 0, 1], "198.51.100.7")).await.status, StatusCode::UNAUTHORIZED);
        }
        // The same attacker through the proxy is slowed down...
        assert_eq!(s.send(attempt([10, 0, 0, 1], "198.51.100.7")).await.status, StatusCode::TOO_MANY_REQUESTS);
        // ...but everyone else behind the same proxy is not.
        assert_eq!(s.send(attempt([10, 0, 0, 1], "203.0.113.5")).await.status, StatusCode::UNAUTHORIZED);
        // An untrusted peer cannot pick its address with the header.
        for _ in 0..10 {
            assert_eq!(s.send(attempt([192, 0, 2, 1], "203.0.113.6")).await.status, StatusCode::UNAUTHORIZED);
        }
        let spoofed = s.send(attempt([192, 0, 2, 1], "203.0.113.99")).await;
        assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS, "{}: counted as 192.0.2.1", s.backend);
    }
}
