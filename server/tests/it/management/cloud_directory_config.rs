//! The Cloud Directory's settings over the management API: the refresh
//! part of App ID's `/config/tokens`, and Clavis's password policy that
//! sign-up enforces.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::support::servers;
use super::cloud_directory::{app_id_body, sign_up};
use super::{Fixture, assert_error, audit_actions, call};

#[tokio::test]
async fn token_settings_carry_the_refresh_part() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let config = f.path("/config/tokens");
        let get = async || call(&s, Method::GET, &config, Some(&f.token), None).await.json();
        let put = async |body: Value| call(&s, Method::PUT, &config, Some(&f.token), Some(body)).await;
        assert_eq!(
            get().await,
            json!({"access": {"expires_in": 3600}, "refresh": {"enabled": true, "expires_in": 2592000}})
        );
        let body = json!({"access": {"expires_in": 900}, "refresh": {"enabled": false, "expires_in": 86400}});
        let set = put(body.clone()).await;
        assert_eq!((set.status, set.json()), (StatusCode::OK, body.clone()), "{}: {}", s.backend, set.text());
        assert_eq!(get().await, body);
        let kept = put(json!({"access": {"expires_in": 1200}})).await;
        assert_eq!(
            kept.json(),
            json!({"access": {"expires_in": 1200}, "refresh": {"enabled": false, "expires_in": 86400}})
        );
        for bad in [
            json!({"access": {"expires_in": 600}, "refresh": {"enabled": true, "expires_in": 59}}),
            json!({"access": {"expires_in": 600}, "refresh": {"enabled": true, "expires_in": 7776001}}),
            json!({"access": {"expires_in": 600}, "refresh": {"enabled": true}}),
            json!({"access": {"expires_in": 600}, "refresh": {"expires_in": 3600}}),
            json!({"access": {"expires_in": 600}, "refresh": {"enabled": "yes", "expires_in": 3600}}),
            json!({"access": {"expires_in": 600}, "refresh": {"enabled": true, "expires_in": 3600, "x": 1}}),
            json!({"access": {"expires_in": 1}, "refresh": {"enabled": true, "expires_in": 3600}}),
            json!({"access": {"expires_in": 600}, "refresh": [true, 3600]}),
            json!({"access": [600]}),
            json!([{"expires_in": 600}]),
        ] {
            assert_error(&put(bad.clone()).await, StatusCode::BAD_REQUEST, "invalid_request");
        }
        // A refused PUT changed neither part.
        assert_eq!(
            get().await,
            json!({"access": {"expires_in": 1200}, "refresh": {"enabled": false, "expires_in": 86400}})
        );
        assert!(audit_actions(&s, &f.tenant.tenant_id).await.contains(&"config.tokens.refresh".to_owned()));
    }
}

#[tokio::test]
async fn the_password_policy_route_sets_what_sign_up_enforces() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let path = f.path("/config/cloud_directory/password_policy");
        let got = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!(
            (got.status, got.json()),
            (StatusCode::OK, json!({"minLength": 8, "rejectCommon": true})),
            "{}",
            s.backend
        );
        let with = |email: &str, password: &str| {
            let mut body = app_id_body(email, "", "");
            body["password"] = json!(password);
            body
        };
        assert_error(
            &sign_up(&s, &f, with("a@example.com", "password123")).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );

        let set =
            call(&s, Method::PUT, &path, Some(&f.token), Some(json!({"minLength": 12, "rejectCommon": false}))).await;
        assert_eq!(set.json(), json!({"minLength": 12, "rejectCommon": false}));
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.json(), set.json());
        assert_error(
            &sign_up(&s, &f, with("b@example.com", "elevenchars")).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        assert_eq!(sign_up(&s, &f, with("c@example.com", "password1234")).await.status, StatusCode::CREATED);

        for bad in [
            json!({"minLength": 7, "rejectCommon": true}),
            json!({"minLength": 65, "rejectCommon": true}),
            json!({"minLength": -1, "rejectCommon": true}),
            json!({"minLength": 8.5, "rejectCommon": true}),
            json!({"minLength": 8}),
            json!({"rejectCommon": true}),
            json!({"minLength": 8, "rejectCommon": true, "maxLength": 9}),
        ] {
            let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(bad.clone())).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.json(), set.json(), "unchanged");
        assert!(audit_actions(&s, &f.tenant.tenant_id).await.contains(&"cloud_directory.password_policy".to_owned()));
    }
}
