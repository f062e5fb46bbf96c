//! The signing-key routes over HTTP: list, rotate and revoke keys and set
//! the rotation schedule, with their shapes, scopes and refusals.

use axum::http::{Method, StatusCode};
use clavis_types::ManagementAccess;
use serde_json::{Value, json};

use super::super::support::servers;
use super::{Fixture, assert_error, assert_insufficient_scope, audit_actions, call};

const WRITE: &str = "clavis:management:write";

#[tokio::test]
async fn keys_are_listed_rotated_and_revoked_with_public_facts_only() {
    for s in servers().await {
        let b = s.backend;
        let f = Fixture::new(&s, "Acme").await;
        let get = async |path: &str| call(&s, Method::GET, &f.path(path), Some(&f.token), None).await;
        let post =
            async |path: &str, body: Option<Value>| call(&s, Method::POST, &f.path(path), Some(&f.token), body).await;

        let listed = get("/keys").await;
        assert_eq!(listed.status, StatusCode::OK, "{b}: {}", listed.text());
        let keys = listed.json()["keys"].as_array().unwrap().clone();
        assert_eq!(keys.len(), 1, "{b}");
        let first = keys[0]["kid"].as_str().unwrap().to_owned();
        assert_eq!((keys[0]["alg"].as_str(), keys[0]["state"].as_str()), (Some("RS256"), Some("active")));
        assert!(keys[0]["createdAt"].as_str().unwrap().ends_with('Z'));
        let fields: Vec<&String> = keys[0].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["alg", "createdAt", "kid", "state"], "{b}: public facts only");

        // Rotation: 201 with the new key, optional body, the algorithm kept or switched.
        let rotated = post("/keys/rotate", None).await;
        assert_eq!(rotated.status, StatusCode::CREATED, "{b}: {}", rotated.text());
        let second = rotated.json()["kid"].as_str().unwrap().to_owned();
        assert_eq!((rotated.json()["alg"].as_str(), rotated.json()["state"].as_str()), (Some("RS256"), Some("active")));
        let es = post("/keys/rotate", Some(json!({"alg": "ES256"}))).await;
        assert_eq!((es.status, es.json()["alg"].as_str()), (StatusCode::CREATED, Some("ES256")), "{b}");
        let third = es.json()["kid"].as_str().unwrap().to_owned();
        let keys = get("/keys").await.json()["keys"].as_array().unwrap().clone();
        let states: Vec<(&str, &str)> =
            keys.iter().map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap())).collect();
        // Keys made in the same second: the active one first, then by kid.
        assert_eq!(states[0], (&*third, "active"), "{b}");
        let mut previous: Vec<(&str, &str)> = states[1..].to_vec();
        previous.sort();
        let mut expected = [(&*first, "previous"), (&*second, "previous")];
        expected.sort();
        assert_eq!(previous, expected, "{b}");
        assert!(keys[1]["retiredAt"].is_string() && keys[1]["publishedUntil"].is_string(), "{b}: {}", keys[1]);
        let jwks = s.services.jwks_json(&f.tenant.tenant_id, s.now()).await.unwrap();
        assert!([&first, &second, &third].iter().all(|kid| jwks.contains(kid.as_str())), "{b}");
        let text = get("/keys").await.text();
        for private in ["\"d\"", "sealed", "pkcs8", "private"] {
            assert!(!text.contains(private), "{b}: {text}");
        }

        for (body, what) in [
            (json!({"alg": "HS256"}), "an unknown algorithm"),
            (json!({"alg": 256}), "a number"),
            (json!({"algorithm": "ES256"}), "an unknown field"),
            (json!(["ES256"]), "an array"),
        ] {
            let refused = post("/keys/rotate", Some(body)).await;
            assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
            assert!(!refused.text().is_empty(), "{b}: {what}");
        }

        // Revocation: 200 naming the signer; again 409; another tenant's kid 404.
        let revoked = post(&format!("/keys/{second}/revoke"), None).await;
        assert_eq!(revoked.status, StatusCode::OK, "{b}: {}", revoked.text());
        assert_eq!(revoked.json(), json!({"revokedKid": second, "activeKid": third}));
        assert_error(&post(&format!("/keys/{second}/revoke"), None).await, StatusCode::CONFLICT, "conflict");
        let replaced = post(&format!("/keys/{third}/revoke"), None).await;
        assert_eq!(replaced.status, StatusCode::OK, "{b}");
        assert_ne!(replaced.json()["activeKid"], third.as_str(), "{b}: the active key is replaced, never left empty");
        let other = Fixture::new(&s, "Other").await;
        let theirs = s.services.list_signing_keys(&other.scope, s.now()).await.unwrap()[0].kid.clone();
        assert_error(&post(&format!("/keys/{theirs}/revoke"), None).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&post("/keys/no-such-key/revoke", None).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(s.services.list_signing_keys(&other.scope, s.now()).await.unwrap()[0].kid, theirs, "{b}");

        let actions = audit_actions(&s, &f.tenant.tenant_id).await;
        assert_eq!(actions.iter().filter(|a| *a == "signing_key.rotate").count(), 3, "{b}: {actions:?}");
        assert_eq!(actions.iter().filter(|a| *a == "signing_key.revoke").count(), 2, "{b}: {actions:?}");
    }
}

#[tokio::test]
async fn the_rotation_schedule_is_read_set_and_validated() {
    for s in servers().await {
        let b = s.backend;
        let f = Fixture::new(&s, "Acme").await;
        let path = f.path("/config/keys/rotation");
        let got = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!((got.status, got.json()), (StatusCode::OK, json!({"enabled": false, "interval_days": 90})), "{b}");
        let on = json!({"enabled": true, "interval_days": 30});
        let set = call(&s, Method::PUT, &path, Some(&f.token), Some(on.clone())).await;
        assert_eq!((set.status, set.json()), (StatusCode::OK, on.clone()), "{b}: {}", set.text());
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.json(), on);
        for bad in [
            json!({"enabled": true, "interval_days": 0}),
            json!({"enabled": true, "interval_days": 366}),
            json!({"enabled": true, "interval_days": -1}),
            json!({"enabled": true, "interval_days": 1.5}),
            json!({"enabled": "yes", "interval_days": 30}),
            json!({"enabled": true}),
            json!({"enabled": true, "interval_days": 30, "extra": 1}),
            json!([true, 30]),
        ] {
            let refused = call(&s, Method::PUT, &path, Some(&f.token), Some(bad.clone())).await;
            assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
            assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.json(), on, "{b}: {bad} changed it");
        }
        assert!(audit_actions(&s, &f.tenant.tenant_id).await.contains(&"config.key_rotation".to_owned()));
    }
}

#[tokio::test]
async fn a_read_token_reads_keys_and_cannot_change_them() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let reader = s.app(&f.scope, "reader", ManagementAccess::Read).await;
        let token = s.management_token_for(&reader).await;
        let kid = s.services.list_signing_keys(&f.scope, s.now()).await.unwrap()[0].kid.clone();
        for path in ["/keys", "/config/keys/rotation"] {
            let read = call(&s, Method::GET, &f.path(path), Some(&token), None).await;
            assert_eq!(read.status, StatusCode::OK, "{}: {path}", s.backend);
        }
        let writes = [
            (Method::POST, "/keys/rotate".to_owned(), None),
            (Method::POST, format!("/keys/{kid}/revoke"), None),
            (Method::PUT, "/config/keys/rotation".to_owned(), Some(json!({"enabled": true, "interval_days": 30}))),
        ];
        for (method, path, body) in writes {
            let refused = call(&s, method, &f.path(&path), Some(&token), body).await;
            assert_insufficient_scope(&refused, WRITE);
        }
        let keys = s.services.list_signing_keys(&f.scope, s.now()).await.unwrap();
        assert_eq!((keys.len(), keys[0].kid.as_str()), (1, kid.as_str()), "{}: nothing changed", s.backend);
        assert!(!s.services.key_rotation(&f.scope).await.unwrap().enabled);
    }
}
