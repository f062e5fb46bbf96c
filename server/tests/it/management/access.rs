//! Who may call the management API: RFC 6750 bearer tokens, read versus
//! write, access taken away mid-token, and tenant isolation.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Duration;
use clavis_types::ManagementAccess;
use domain::services::{DirectoryUser, NewDirectoryUser, UserStatus};
use domain::{TenantScope, Write};
use serde_json::json;

use super::super::support::{TestServer, servers};
use super::{Fixture, assert_error, assert_insufficient_scope, assert_invalid_token, audit_count, call, try_token};

const READ: &str = "clavis:management:read";
const WRITE: &str = "clavis:management:write";
const USER_PASSWORD: &str = "violet-harbour-42";

/// A Cloud Directory user of `scope`'s tenant, made by the service itself.
async fn directory_user(s: &TestServer, scope: &TenantScope<Write>, email: &str) -> DirectoryUser {
    let new = NewDirectoryUser {
        email: email.to_owned(),
        user_name: None,
        password: USER_PASSWORD.to_owned(),
        given_name: String::new(),
        family_name: String::new(),
        active: true,
        status: UserStatus::Confirmed,
    };
    s.services.sign_up_directory_user(scope, new, s.now()).await.expect("user")
}

/// Every route of the API with a body that would succeed, against the
/// application `client_id` and the Cloud Directory user `user_id` in tenant
/// `tenant_id`.
fn every_route(tenant_id: &str, client_id: &str, user_id: &str) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let base = format!("/management/v4/{tenant_id}");
    let app = format!("{base}/applications/{client_id}");
    let user = format!("{base}/cloud_directory/Users/{user_id}");
    let sign_up = json!({"emails": [{"value": "intruder@example.com", "primary": true}], "password": USER_PASSWORD});
    vec![
        (Method::GET, format!("{base}/cloud_directory/Users"), None),
        (Method::POST, format!("{base}/cloud_directory/sign_up"), Some(sign_up)),
        (Method::GET, user.clone(), None),
        (Method::PUT, user.clone(), Some(json!({"emails": [{"value": "hijacked@example.com"}]}))),
        (Method::DELETE, user, None),
        (
            Method::POST,
            format!("{base}/cloud_directory/change_password"),
            Some(json!({"uuid": user_id, "newPassword": "hijacked passphrase"})),
        ),
        (Method::GET, format!("{base}/users/{user_id}/roles"), None),
        (Method::PUT, format!("{base}/users/{user_id}/roles"), Some(json!({"roles": {"ids": []}}))),
        (Method::GET, format!("{base}/config/cloud_directory/password_policy"), None),
        (
            Method::PUT,
            format!("{base}/config/cloud_directory/password_policy"),
            Some(json!({"minLength": 8, "rejectCommon": false})),
        ),
        (Method::GET, format!("{base}/applications"), None),
        (Method::POST, format!("{base}/applications"), Some(json!({"name": "intruder"}))),
        (Method::GET, app.clone(), None),
        (Method::GET, format!("{app}/usage"), None),
        (Method::PUT, app.clone(), Some(json!({"name": "hijacked"}))),
        (Method::DELETE, app.clone(), None),
        (Method::POST, format!("{app}/secret"), Some(json!({"graceSeconds": 0}))),
        (Method::DELETE, format!("{app}/secret/previous"), None),
        (Method::PUT, format!("{app}/management"), Some(json!({"access": "write"}))),
        (Method::GET, format!("{app}/jwks"), None),
        // RFC 7517 Appendix A.1's P-256 public key.
        (
            Method::PUT,
            format!("{app}/jwks"),
            Some(json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
                                  "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]})),
        ),
        (Method::DELETE, format!("{app}/jwks"), None),
        (Method::POST, format!("{app}/tokens/revoke"), None),
        (Method::GET, format!("{app}/scopes"), None),
        (Method::PUT, format!("{app}/scopes"), Some(json!({"scopes": ["read"]}))),
        (Method::GET, format!("{app}/roles"), None),
        (Method::PUT, format!("{app}/roles"), Some(json!({"roles": {"ids": []}}))),
        (Method::PUT, format!("{base}/roles/{client_id}"), Some(json!({"name": "renamed"}))),
        (Method::DELETE, format!("{base}/roles/{client_id}"), None),
        (Method::POST, format!("{base}/keys/{client_id}/revoke"), None),
        (Method::GET, format!("{base}/keys"), None),
        (Method::POST, format!("{base}/keys/rotate"), Some(json!({"alg": "ES256"}))),
        (Method::GET, format!("{base}/config/keys/rotation"), None),
        (Method::PUT, format!("{base}/config/keys/rotation"), Some(json!({"enabled": true, "interval_days": 30}))),
        (Method::GET, format!("{base}/roles"), None),
        (Method::POST, format!("{base}/roles"), Some(json!({"name": "intruders", "description": "", "access": []}))),
        (Method::GET, format!("{base}/config/tokens"), None),
        (Method::PUT, format!("{base}/config/tokens"), Some(json!({"access": {"expires_in": 900}}))),
        (Method::GET, format!("{base}/config/dpop"), None),
        (Method::PUT, format!("{base}/config/dpop"), Some(json!({"nonceRequired": true}))),
        (Method::PUT, format!("{app}/dpop"), Some(json!({"required": true}))),
        (Method::GET, format!("{base}/trusted_issuers"), None),
        (
            Method::POST,
            format!("{base}/trusted_issuers"),
            Some(json!({"name": "intruder", "issuer": "https://evil.example"})),
        ),
        (Method::DELETE, format!("{base}/trusted_issuers/{client_id}"), None),
        (Method::GET, format!("{app}/federated_credentials"), None),
        (
            Method::POST,
            format!("{app}/federated_credentials"),
            Some(json!({"issuer_id": client_id, "subject": "system:serviceaccount:evil:sa"})),
        ),
        (Method::DELETE, format!("{app}/federated_credentials/{client_id}"), None),
        (Method::GET, format!("{base}/audit"), None),
    ]
}

fn is_write(method: &Method) -> bool {
    method != Method::GET
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let path = f.path("/applications");
        let send = |authorization: Option<String>| {
            let mut request = Request::get(&path);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            s.send(request.body(Body::empty()).unwrap())
        };
        // Change one character in the middle of the signature.
        let mut tampered: Vec<char> = f.token.chars().collect();
        let middle = tampered.len() - 20;
        tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        let (header, payload, _) = {
            let mut parts = f.token.split('.');
            (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned(), ())
        };
        let unsigned = format!("{header}.{payload}.");
        for (what, authorization) in [
            ("missing", None),
            ("empty bearer", Some("Bearer ".to_owned())),
            (
                "Basic scheme",
                Some(super::super::support::basic_header(&f.admin.client_id, f.admin.secret.as_deref().unwrap())),
            ),
            ("garbage", Some("Bearer not-a-token".to_owned())),
            ("tampered signature", Some(format!("Bearer {tampered}"))),
            ("no signature", Some(format!("Bearer {unsigned}"))),
        ] {
            let reply = send(authorization).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.text());
            assert_invalid_token(&reply);
        }
        let twice = s
            .send(
                Request::get(&path)
                    .header("authorization", format!("Bearer {}", f.token))
                    .header("authorization", format!("Bearer {}", f.token))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_invalid_token(&twice);
        // The well-formed token itself works, in any case of the scheme name.
        assert_eq!(send(Some(format!("bearer {}", f.token))).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_401() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let path = f.path("/applications");
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.status, StatusCode::OK);

        let revoked = s.management_token_for(&f.admin).await;
        let revoke = s
            .post_form(
                &format!("/oauth/v4/{}/revoke", f.tenant.tenant_id),
                Some((&f.admin.client_id, f.admin.secret.as_deref().unwrap())),
                &format!("token={revoked}"),
            )
            .await;
        assert_eq!(revoke.status, StatusCode::OK);
        assert_invalid_token(&call(&s, Method::GET, &path, Some(&revoked), None).await);
        assert_eq!(
            call(&s, Method::GET, &path, Some(&f.token), None).await.status,
            StatusCode::OK,
            "other tokens still work"
        );

        s.clock.advance(Duration::seconds(3599));
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.status, StatusCode::OK);
        s.clock.advance(Duration::seconds(1));
        assert_invalid_token(&call(&s, Method::GET, &path, Some(&f.token), None).await);
    }
}

#[tokio::test]
async fn without_management_access_there_is_no_management_token() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let plain = s.app(&f.scope, "plain", ManagementAccess::None).await;
        let secret = plain.secret.as_deref().unwrap();
        let audience = format!("&audience={}", plain.management_url);
        let refused = try_token(&s, &f.tenant.tenant_id, &plain.client_id, secret, &audience).await;
        assert_eq!(refused, (StatusCode::BAD_REQUEST, "invalid_target".to_owned()), "{}", s.backend);
        // Its own token, minted for itself, opens no route.
        let token = s.token_for(&plain).await;
        for (method, path, body) in every_route(&f.tenant.tenant_id, &f.admin.client_id, &f.admin.client_id) {
            assert_invalid_token(&call(&s, method.clone(), &path, Some(&token), body).await);
        }
    }
}

#[tokio::test]
async fn a_token_minted_for_another_audience_is_refused_by_the_management_api() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let t = f.tenant.tenant_id.clone();
        // The admin application also calls a downstream API, which could
        // replay the token it receives against the management API.
        let scopes = json!({"scopes": ["charge"]});
        let billing = call(
            &s,
            Method::POST,
            &f.path("/applications"),
            Some(&f.token),
            Some(json!({"name": "billing", "identifier": "https://billing.example"})),
        )
        .await
        .json();
        let billing_id = billing["clientId"].as_str().unwrap().to_owned();
        let path = f.path(&format!("/applications/{billing_id}/scopes"));
        assert_eq!(call(&s, Method::PUT, &path, Some(&f.token), Some(scopes)).await.status, StatusCode::OK);
        let role = call(&s, Method::POST, &f.path("/roles"), Some(&f.token), Some(json!({"name": "payer", "description": "", "access": [{"application_id": billing_id, "scopes": ["charge"]}]}))).await.json();
        let roles = json!({"roles": {"ids": [role["id"]]}});
        let path = f.path(&format!("/applications/{}/roles", f.admin.client_id));
        assert_eq!(call(&s, Method::PUT, &path, Some(&f.token), Some(roles)).await.status, StatusCode::OK);
        let secret = f.admin.secret.as_deref().unwrap();
        let (status, downstream) =
            try_token(&s, &t, &f.admin.client_id, secret, "&audience=https://billing.example").await;
        assert_eq!(status, StatusCode::OK, "{downstream}");
        for (method, path, body) in every_route(&t, &f.admin.client_id, &f.admin.client_id) {
            assert_invalid_token(&call(&s, method.clone(), &path, Some(&downstream), body).await);
        }
    }
}

/// Writes with a read-only token are refused and change nothing.
async fn assert_cannot_write(s: &TestServer, f: &Fixture, token: &str) {
    let victim = s.app(&f.scope, "victim", ManagementAccess::None).await;
    let victim_user = directory_user(s, &f.scope, &format!("victim-{}@example.com", victim.client_id)).await;
    let before = audit_count(s, &f.tenant.tenant_id).await;
    for (method, path, body) in every_route(&f.tenant.tenant_id, &victim.client_id, &victim_user.id) {
        let reply = call(s, method.clone(), &path, Some(token), body).await;
        if is_write(&method) {
            assert_insufficient_scope(&reply, WRITE);
        } else if path.ends_with("/jwks") {
            // The victim has a secret, not keys: read, and found to have none.
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.text());
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{method} {path}: {}", reply.text());
        }
    }
    // A read-only caller hears 403 before any complaint about its body.
    let bad_body = call(s, Method::POST, &f.path("/applications"), Some(token), Some(json!({"name": ""}))).await;
    assert_insufficient_scope(&bad_body, WRITE);
    assert_eq!(audit_count(s, &f.tenant.tenant_id).await, before, "nothing was recorded");
    let shown = call(s, Method::GET, &f.app_path(&victim.client_id, ""), Some(&f.token), None).await.json();
    assert_eq!(shown["name"], "victim");
    assert_eq!(shown["managementAccess"], "none");
    assert_eq!(
        try_token(s, &f.tenant.tenant_id, &victim.client_id, victim.secret.as_deref().unwrap(), "").await.0,
        StatusCode::OK
    );
    assert_eq!(s.services.directory_user(&f.scope, &victim_user.id).await.expect("user"), victim_user);
}

#[tokio::test]
async fn a_read_token_cannot_write() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let reader = s.app(&f.scope, "reader", ManagementAccess::Read).await;
        let token = s.management_token_for(&reader).await;
        assert_cannot_write(&s, &f, &token).await;

        // A write-capable application that asked only for the read scope
        // gets a token that only reads.
        let (status, narrowed) = try_token(
            &s,
            &f.tenant.tenant_id,
            &f.admin.client_id,
            f.admin.secret.as_deref().unwrap(),
            &format!("&scope={READ}&audience={}", f.admin.management_url),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_cannot_write(&s, &f, &narrowed).await;
    }
}

#[tokio::test]
async fn deleted_or_demoted_applications_stop_at_once() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let list = f.path("/applications");
        let doomed = s.app(&f.scope, "doomed", ManagementAccess::Write).await;
        let doomed_token = s.management_token_for(&doomed).await;
        assert_eq!(call(&s, Method::GET, &list, Some(&doomed_token), None).await.status, StatusCode::OK);
        let deleted = call(&s, Method::DELETE, &f.app_path(&doomed.client_id, ""), Some(&f.token), None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        // No clock movement: the change must show on this process at once.
        assert_invalid_token(&call(&s, Method::GET, &list, Some(&doomed_token), None).await);

        let demoted = s.app(&f.scope, "demoted", ManagementAccess::Write).await;
        let token = s.management_token_for(&demoted).await;
        let access = f.app_path(&demoted.client_id, "/management");
        let new_app = || call(&s, Method::POST, &list, Some(&token), Some(json!({"name": "made-by-demoted"})));
        assert_eq!(new_app().await.status, StatusCode::CREATED);

        assert_eq!(
            call(&s, Method::PUT, &access, Some(&f.token), Some(json!({"access": "read"}))).await.status,
            StatusCode::OK
        );
        assert_insufficient_scope(&new_app().await, WRITE);
        assert_eq!(call(&s, Method::GET, &list, Some(&token), None).await.status, StatusCode::OK);

        assert_eq!(
            call(&s, Method::PUT, &access, Some(&f.token), Some(json!({"access": "none"}))).await.status,
            StatusCode::OK
        );
        assert_insufficient_scope(&call(&s, Method::GET, &list, Some(&token), None).await, READ);

        // Access given back works with the same, still unexpired token.
        assert_eq!(
            call(&s, Method::PUT, &access, Some(&f.token), Some(json!({"access": "write"}))).await.status,
            StatusCode::OK
        );
        assert_eq!(new_app().await.status, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn tenant_isolation_table() {
    for s in servers().await {
        let a = Fixture::new(&s, "Alpha Corp").await;
        let b = Fixture::new(&s, "Bravo Inc").await;
        let a_app = s.app(&a.scope, "alpha-payroll", ManagementAccess::Write).await;
        let a_secret = a_app.secret.clone().unwrap();
        let a_user = directory_user(&s, &a.scope, "ada@alpha.example").await;
        let a_audit = audit_count(&s, &a.tenant.tenant_id).await;
        let leaks = [
            "ada@alpha.example",
            a_app.client_id.as_str(),
            a_secret.as_str(),
            "alpha-payroll",
            "Alpha Corp",
            a.admin.client_id.as_str(),
            a.admin.secret.as_deref().unwrap(),
        ];
        let check_leaks = |what: &str, text: &str| {
            for leak in leaks {
                assert!(!text.contains(leak), "{what} leaks {leak}: {text}");
            }
        };

        // B's write token on A's URLs: the token is not one of A's.
        for (method, path, body) in every_route(&a.tenant.tenant_id, &a_app.client_id, &a_user.id) {
            let reply = call(&s, method.clone(), &path, Some(&b.token), body).await;
            let what = format!("{} {method} {path}", s.backend);
            assert_invalid_token(&reply);
            check_leaks(&what, &reply.text());
            assert!(!reply.text().contains(&a.tenant.tenant_id), "{what}: {}", reply.text());
        }
        // B's write token on B's URLs naming A's application or user: not found.
        for (method, path, body) in every_route(&b.tenant.tenant_id, &a_app.client_id, &a_user.id) {
            let names_a = [&a_app.client_id, &a_user.id].iter().any(|id| {
                path.contains(id.as_str()) || body.as_ref().is_some_and(|b| b.to_string().contains(id.as_str()))
            });
            let reply = call(&s, method.clone(), &path, Some(&b.token), body).await;
            let what = format!("{} {method} {path}", s.backend);
            check_leaks(&what, &reply.text());
            if names_a {
                assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
            } else {
                // B's own list, create and audit succeed and show only B.
                assert!(reply.status.is_success(), "{what}: {}", reply.text());
            }
        }

        // A is untouched: same name and access, its secret works, no record.
        let shown = call(&s, Method::GET, &a.app_path(&a_app.client_id, ""), Some(&a.token), None).await;
        assert_eq!(shown.json()["name"], "alpha-payroll");
        assert_eq!(shown.json()["managementAccess"], "write");
        assert_eq!(try_token(&s, &a.tenant.tenant_id, &a_app.client_id, &a_secret, "").await.0, StatusCode::OK);
        assert_eq!(audit_count(&s, &a.tenant.tenant_id).await, a_audit);
        let a_list = call(&s, Method::GET, &a.path("/applications"), Some(&a.token), None).await;
        assert!(!a_list.text().contains("intruder"), "B's create landed in B");
        assert_eq!(s.services.directory_user(&a.scope, &a_user.id).await.expect("A's user"), a_user);
        let a_users = call(&s, Method::GET, &a.path("/cloud_directory/Users"), Some(&a.token), None).await;
        assert_eq!(a_users.json()["totalResults"], 1, "B's sign-up landed in B");
    }
}
