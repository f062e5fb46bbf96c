//! App ID's access-control flow over HTTP: a protected "inventory"
//! application with scopes, a role, a caller holding it, and the tokens
//! that follow; every shape as App ID's management scripts send and read it.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::super::support::servers;
use super::{Fixture, assert_error, audit_actions, call, try_token};

#[tokio::test]
async fn the_app_id_flow_from_scopes_to_a_scoped_token() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let t = f.tenant.tenant_id.clone();
        let post = async |path: &str, body| call(&s, Method::POST, &f.path(path), Some(&f.token), Some(body)).await;
        let inventory = post("/applications", json!({"name": "inventory", "identifier": "https://inventory.example"}));
        let inventory = inventory.await.json();
        let inventory_id = inventory["clientId"].as_str().unwrap().to_owned();
        assert_eq!(inventory["identifier"], "https://inventory.example");
        let scopes_path = f.app_path(&inventory_id, "/scopes");

        let set = call(&s, Method::PUT, &scopes_path, Some(&f.token), Some(json!({"scopes": ["read", "write"]}))).await;
        assert_eq!((set.status, set.json()), (StatusCode::OK, json!({"scopes": ["read", "write"]})), "{}", s.backend);
        let got = call(&s, Method::GET, &scopes_path, Some(&f.token), None).await;
        assert_eq!(got.json(), json!({"scopes": ["read", "write"]}));
        let bad = call(&s, Method::PUT, &scopes_path, Some(&f.token), Some(json!({"scopes": ["read", "Admin"]}))).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(bad.json()["message"].as_str().unwrap().contains("\"Admin\""), "{}", bad.text());
        assert_eq!(
            call(&s, Method::GET, &scopes_path, Some(&f.token), None).await.json()["scopes"],
            json!(["read", "write"])
        );

        let body = json!({"name": "inventory-reader", "description": "Reads stock",
                          "access": [{"application_id": inventory_id, "scopes": ["read"]}]});
        let created = post("/roles", body.clone()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let role = created.json();
        let role_id = role["id"].as_str().unwrap().to_owned();
        assert_eq!(role["name"], "inventory-reader");
        assert_eq!(role["description"], "Reads stock");
        assert_eq!(role["access"], json!([{"application_id": inventory_id, "scopes": ["read"]}]));
        assert_error(&post("/roles", body).await, StatusCode::CONFLICT, "conflict");
        let wrong_scope = json!({"name": "x", "access": [{"application_id": inventory_id, "scopes": ["delete"]}]});
        assert_error(&post("/roles", wrong_scope).await, StatusCode::BAD_REQUEST, "invalid_request");
        let listed = call(&s, Method::GET, &f.path("/roles"), Some(&f.token), None).await.json();
        assert_eq!(listed["roles"].as_array().unwrap().len(), 1);
        assert_eq!(listed["roles"][0]["id"], role_id.as_str());

        let caller = post("/applications", json!({"name": "storefront"})).await.json();
        let (caller_id, secret) = (caller["clientId"].as_str().unwrap(), caller["secret"].as_str().unwrap());
        let roles_path = f.app_path(caller_id, "/roles");
        let assign = json!({"roles": {"ids": [role_id]}});
        let assigned = call(&s, Method::PUT, &roles_path, Some(&f.token), Some(assign)).await;
        assert_eq!(assigned.json(), json!({"roles": [{"id": role_id, "name": "inventory-reader"}]}));
        assert_eq!(call(&s, Method::GET, &roles_path, Some(&f.token), None).await.json(), assigned.json());

        // The caller's token for the inventory carries what the role grants.
        let reply = s
            .post_form(
                &format!("/oauth/v4/{t}/token"),
                Some((caller_id, secret)),
                &format!("grant_type=client_credentials&scope=read&audience={inventory_id}"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json()["scope"], "appid_default read");
        let write = try_token(&s, &t, caller_id, secret, &format!("&scope=write&audience={inventory_id}")).await;
        assert_eq!(write.0, StatusCode::OK, "write is left out, not refused");
        let nowhere = try_token(&s, &t, caller_id, secret, "&audience=https://nobody.example").await;
        assert_eq!(nowhere, (StatusCode::BAD_REQUEST, "invalid_target".to_owned()));

        // Replace and delete the role: the grant follows.
        let replaced = json!({"name": "inventory-writer", "description": "",
                              "access": [{"application_id": inventory_id, "scopes": ["write"]}]});
        let role_path = f.path(&format!("/roles/{role_id}"));
        let updated = call(&s, Method::PUT, &role_path, Some(&f.token), Some(replaced)).await;
        assert_eq!(updated.json()["access"][0]["scopes"], json!(["write"]), "{}", updated.text());
        let (_, token) = try_token(&s, &t, caller_id, secret, "&audience=https://inventory.example").await;
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(call(&s, Method::GET, &role_path, Some(&f.token), None).await.json()["name"], "inventory-writer");
        assert_eq!(call(&s, Method::DELETE, &role_path, Some(&f.token), None).await.status, StatusCode::NO_CONTENT);
        assert_error(
            &call(&s, Method::GET, &role_path, Some(&f.token), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let gone = try_token(&s, &t, caller_id, secret, &format!("&audience={inventory_id}")).await;
        assert_eq!(gone, (StatusCode::BAD_REQUEST, "invalid_target".to_owned()), "{}", s.backend);

        let actions = audit_actions(&s, &t).await;
        for action in ["application.scopes", "role.create", "application.roles", "role.update", "role.delete"] {
            assert!(actions.contains(&action.to_owned()), "{action}");
        }
    }
}

#[tokio::test]
async fn token_settings_and_cross_tenant_ids() {
    for s in servers().await {
        let a = Fixture::new(&s, "Alpha").await;
        let b = Fixture::new(&s, "Bravo").await;
        let config = a.path("/config/tokens");
        let got = call(&s, Method::GET, &config, Some(&a.token), None).await;
        assert_eq!(got.json()["access"], json!({"expires_in": 3600}));
        for bad in
            [json!({"access": {"expires_in": 299}}), json!({"access": {"expires_in": 86401}}), json!({"access": {}})]
        {
            let reply = call(&s, Method::PUT, &config, Some(&a.token), Some(bad.clone())).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.text());
        }
        let set = call(&s, Method::PUT, &config, Some(&a.token), Some(json!({"access": {"expires_in": 900}}))).await;
        assert_eq!(set.json()["access"], json!({"expires_in": 900}));
        let reply = s
            .post_form(
                &format!("/oauth/v4/{}/token", a.tenant.tenant_id),
                Some((&a.admin.client_id, a.admin.secret.as_deref().unwrap())),
                "grant_type=client_credentials",
            )
            .await;
        assert_eq!(reply.json()["expires_in"], 900, "{}", s.backend);

        // A's role and application IDs do not exist in B.
        let role = call(&s, Method::POST, &a.path("/roles"), Some(&a.token), Some(json!({"name": "r"}))).await.json();
        let role_id = role["id"].as_str().unwrap();
        for (method, path, body) in [
            (Method::GET, b.path(&format!("/roles/{role_id}")), None),
            (Method::PUT, b.path(&format!("/roles/{role_id}")), Some(json!({"name": "stolen"}))),
            (Method::DELETE, b.path(&format!("/roles/{role_id}")), None),
            (Method::PUT, b.app_path(&b.admin.client_id, "/roles"), Some(json!({"roles": {"ids": [role_id]}}))),
            (Method::GET, b.app_path(&a.admin.client_id, "/scopes"), None),
            (Method::PUT, b.app_path(&a.admin.client_id, "/scopes"), Some(json!({"scopes": ["x"]}))),
            (
                Method::POST,
                b.path("/roles"),
                Some(json!({"name": "reach", "access": [{"application_id": a.admin.client_id, "scopes": []}]})),
            ),
        ] {
            let reply = call(&s, method.clone(), &path, Some(&b.token), body).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(
            call(&s, Method::GET, &a.path(&format!("/roles/{role_id}")), Some(&a.token), None).await.json()["name"],
            "r"
        );
    }
}

#[tokio::test]
async fn kill_switches_for_an_applications_tokens_and_for_a_signing_key() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let t = f.tenant.tenant_id.clone();
        let app = call(&s, Method::POST, &f.path("/applications"), Some(&f.token), Some(json!({"name": "leaky"})))
            .await
            .json();
        let (id, secret) = (app["clientId"].as_str().unwrap().to_owned(), app["secret"].as_str().unwrap().to_owned());
        let (_, token) = try_token(&s, &t, &id, &secret, "").await;
        let introspect = async |token: &str| {
            let reply = s
                .post_form(&format!("/oauth/v4/{t}/introspect"), Some((&id, &secret)), &format!("token={token}"))
                .await;
            reply.json()["active"].as_bool().unwrap()
        };
        assert!(introspect(&token).await);
        let revoked = call(&s, Method::POST, &f.app_path(&id, "/tokens/revoke"), Some(&f.token), None).await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
        assert_eq!(revoked.json()["clientId"], id.as_str());
        assert!(!introspect(&token).await, "{}", s.backend);

        // Rotating with revokeTokens ends the secret and its tokens at once.
        s.clock.advance(chrono::Duration::seconds(1));
        let (_, fresh) = try_token(&s, &t, &id, &secret, "").await;
        assert!(introspect(&fresh).await);
        let body = json!({"graceSeconds": 0, "revokeTokens": true});
        let rotated = call(&s, Method::POST, &f.app_path(&id, "/secret"), Some(&f.token), Some(body)).await.json();
        let new_secret = rotated["secret"].as_str().unwrap();
        let reply =
            s.post_form(&format!("/oauth/v4/{t}/introspect"), Some((&id, new_secret)), &format!("token={fresh}")).await;
        assert_eq!(reply.json()["active"], false);

        // A compromised signing key: its tokens fail, even the caller's own management token.
        let header = fresh.split('.').next().unwrap();
        use base64::Engine;
        let header: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        let kid = header["kid"].as_str().unwrap();
        let reply = call(&s, Method::POST, &f.path(&format!("/keys/{kid}/revoke")), Some(&f.token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json()["revokedKid"], kid);
        let jwks = s.get(&format!("/oauth/v4/{t}/publickeys")).await.text();
        assert!(!jwks.contains(kid));
        let again = call(&s, Method::POST, &f.path(&format!("/keys/{kid}/revoke")), Some(&f.token), None).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "the admin's token was signed by the revoked key");
        let actions = audit_actions(&s, &t).await;
        assert!(
            actions.contains(&"application.revoke_tokens".to_owned())
                && actions.contains(&"signing_key.revoke".to_owned())
        );
    }
}
