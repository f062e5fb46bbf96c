//! The dashboard's kill switches over HTTP: its server functions list,
//! rotate and revoke signing keys and revoke every token of an application,
//! refuse a viewer with 403 and map the domain's refusals to their 4xx.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clavis_types::ManagementAccess;
use domain::Role;

use super::csp::sign_in;
use super::support::{PUBLIC_URL, Reply, TestServer, servers};

async fn call(s: &TestServer, name: &str, cookie: &str, body: &str) -> Reply {
    s.send(
        Request::post(format!("/api/{name}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", PUBLIC_URL)
            .header("cookie", cookie)
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

async fn introspect_active(s: &TestServer, tenant: &str, id: &str, secret: &str, token: &str) -> bool {
    let reply =
        s.post_form(&format!("/oauth/v4/{tenant}/introspect"), Some((id, secret)), &format!("token={token}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["active"] == true
}

#[tokio::test]
async fn admins_rotate_and_revoke_keys_and_revoke_tokens_viewers_are_refused() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let t = admin.tenant_id.clone();
        let cookie = sign_in(&s, "admin@localhost", &admin.password).await;
        let scope = s.cli.tenant_scope(&s.services, &t).await.unwrap();

        let listed = call(&s, "list_signing_keys", &cookie, &format!("tenant_id={t}")).await;
        assert_eq!(listed.status, StatusCode::OK, "{}: {}", s.backend, listed.text());
        let keys = listed.json();
        assert_eq!(keys["algorithms"], serde_json::json!(["RS256", "ES256", "EdDSA"]));
        assert_eq!(keys["keys"][0]["state"], "Active");
        let first = keys["keys"][0]["kid"].as_str().unwrap().to_owned();

        let refused = [
            ("rotate_signing_key", format!("tenant_id={t}&algorithm=HS256"), StatusCode::BAD_REQUEST),
            ("revoke_signing_key", format!("tenant_id={t}&kid=no-such-key"), StatusCode::NOT_FOUND),
            (
                "revoke_application_tokens",
                format!("tenant_id={t}&client_id={}", uuid::Uuid::new_v4()),
                StatusCode::NOT_FOUND,
            ),
        ];
        for (name, body, expected) in &refused {
            let reply = call(&s, name, &cookie, body).await;
            assert_eq!(reply.status, *expected, "{} {name}: {}", s.backend, reply.text());
        }

        let rotated = call(&s, "rotate_signing_key", &cookie, &format!("tenant_id={t}&algorithm=EdDSA")).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
        let second = rotated.json().as_str().unwrap().to_owned();
        let keys = call(&s, "list_signing_keys", &cookie, &format!("tenant_id={t}")).await.json();
        assert_eq!(keys["keys"][0]["kid"], second.as_str());
        assert_eq!(keys["keys"][0]["algorithm"], "EdDSA");
        assert_eq!(keys["keys"][1]["state"], "Previous");
        assert!(keys["keys"][1]["published_until"].is_string());

        let revoked = call(&s, "revoke_signing_key", &cookie, &format!("tenant_id={t}&kid={first}")).await;
        assert_eq!(revoked.json(), serde_json::json!(second));
        assert!(!s.get(&format!("/oauth/v4/{t}/publickeys")).await.text().contains(&first));
        let twice = call(&s, "revoke_signing_key", &cookie, &format!("tenant_id={t}&kid={first}")).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text());
        assert!(twice.json()["message"].as_str().unwrap().contains("already revoked"));

        // Revoke all tokens: a token issued before fails introspection.
        let app = s.app(&scope, "svc", ManagementAccess::None).await;
        let secret = app.secret.clone().unwrap();
        let token = s.token_for(&app).await;
        assert!(introspect_active(&s, &t, &app.client_id, &secret, &token).await);
        let body = format!("tenant_id={t}&client_id={}", app.client_id);
        let cut = call(&s, "revoke_application_tokens", &cookie, &body).await;
        assert_eq!(cut.status, StatusCode::OK, "{}", cut.text());
        assert_eq!(cut.json(), serde_json::json!(s.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        assert!(!introspect_active(&s, &t, &app.client_id, &secret, &token).await, "{}", s.backend);

        // A viewer reads the keys and is refused every kill switch.
        let password = "quiet-harbor-lantern-42";
        s.services
            .add_member_by_operator(&s.cli, &scope, "viewer@example.test", Role::Viewer, Some(password), s.now())
            .await
            .unwrap();
        let viewer = sign_in(&s, "viewer@example.test", password).await;
        assert_eq!(call(&s, "list_signing_keys", &viewer, &format!("tenant_id={t}")).await.status, StatusCode::OK);
        for (name, body) in [
            ("rotate_signing_key", format!("tenant_id={t}")),
            ("revoke_signing_key", format!("tenant_id={t}&kid={second}")),
            ("revoke_application_tokens", format!("tenant_id={t}&client_id={}", app.client_id)),
        ] {
            let reply = call(&s, name, &viewer, &body).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{} {name}: {}", s.backend, reply.text());
        }
        // Nor may the viewer see another tenant's keys.
        let (other, _) = s.tenant("Other").await;
        let hidden = call(&s, "list_signing_keys", &viewer, &format!("tenant_id={}", other.tenant_id)).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text());
    }
}
