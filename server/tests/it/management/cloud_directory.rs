//! The Cloud Directory over the management API, in App ID's shapes:
//! sign-up, the SCIM listing, replacement, password change, deletion and a
//! user's roles; tenant isolation and read-only tokens.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use clavis_types::ManagementAccess;
use serde_json::{Value, json};

use super::super::support::{PUBLIC_URL, Reply, TestServer, servers};
use super::{Fixture, assert_error, assert_insufficient_scope, audit_actions, audit_count, call, call_raw};

pub const PASSWORD: &str = "violet-harbour-42";
const WRITE: &str = "clavis:management:write";

/// App ID's sign-up body for `email`.
pub fn app_id_body(email: &str, given: &str, family: &str) -> Value {
    json!({
        "active": true,
        "emails": [{"value": email, "primary": true}],
        "userName": email,
        "password": PASSWORD,
        "name": {"givenName": given, "familyName": family},
        "status": "CONFIRMED",
    })
}

pub async fn sign_up(s: &TestServer, f: &Fixture, body: Value) -> Reply {
    let path = f.path("/cloud_directory/sign_up?shouldCreateProfile=true&language=en");
    call(s, Method::POST, &path, Some(&f.token), Some(body)).await
}

/// Signs a user up, one second after the previous one (listings are oldest first).
async fn user(s: &TestServer, f: &Fixture, email: &str, given: &str, family: &str) -> Value {
    s.clock.advance(Duration::seconds(1));
    let reply = sign_up(s, f, app_id_body(email, given, family)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}: {}", s.backend, reply.text());
    reply.json()
}

async fn list(s: &TestServer, f: &Fixture, query: &str) -> Reply {
    call(s, Method::GET, &f.path(&format!("/cloud_directory/Users{query}")), Some(&f.token), None).await
}

fn emails(page: &Value) -> Vec<String> {
    page["Resources"].as_array().unwrap().iter().map(|u| u["emails"][0]["value"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn sign_up_answers_a_scim_user_and_refuses_the_email_again_in_any_case() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let reply = sign_up(&s, &f, app_id_body("ada@example.com", "Ada", "Lovelace")).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}: {}", s.backend, reply.text());
        assert!(!reply.text().contains(PASSWORD) && !reply.text().contains("argon2"), "{}", reply.text());
        let created = reply.json();
        let id = created["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{created}");
        let t = &f.tenant.tenant_id;
        let now = s.now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let expected = json!({
            "id": id,
            "profileId": id,
            "userName": "ada@example.com",
            "displayName": "Ada Lovelace",
            "active": true,
            "status": "CONFIRMED",
            "name": {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
            "emails": [{"value": "ada@example.com", "primary": true}],
            "meta": {
                "created": now,
                "lastModified": now,
                "resourceType": "User",
                "location": format!("{PUBLIC_URL}/management/v4/{t}/cloud_directory/Users/{id}"),
            },
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        });
        assert_eq!(created, expected);
        assert_eq!(reply.header("location"), expected["meta"]["location"].as_str(), "RFC 7644 §3.3");

        let again = sign_up(&s, &f, app_id_body("ADA@Example.COM", "Other", "Ada")).await;
        assert_error(&again, StatusCode::CONFLICT, "conflict");

        // Defaults, the primary email among several, unknown fields ignored.
        let body = json!({
            "emails": [{"value": "first@example.com"}, {"value": "Grace@Example.com", "primary": true, "type": "work"}],
            "password": PASSWORD,
            "locale": "en",
            "shouldBeIgnored": {"deeply": [1, 2]},
        });
        let grace = sign_up(&s, &f, body).await;
        assert_eq!(grace.status, StatusCode::CREATED, "{}", grace.text());
        let grace = grace.json();
        assert_eq!(grace["emails"], json!([{"value": "Grace@Example.com", "primary": true}]));
        assert_eq!((grace["active"].clone(), grace["status"].clone()), (json!(true), json!("CONFIRMED")));
        assert_eq!(grace["userName"], "Grace@Example.com", "the user name defaults to the email");
        let first = json!({"emails": [{"value": "x@example.com"}, {"value": "y@example.com"}], "password": PASSWORD,
                           "active": false, "status": "pending"});
        let first = sign_up(&s, &f, first).await.json();
        assert_eq!(first["emails"][0]["value"], "x@example.com", "no primary: the first");
        assert_eq!((first["active"].clone(), first["status"].clone()), (json!(false), json!("PENDING")));
        assert!(audit_actions(&s, t).await.contains(&"cloud_directory.user.create".to_owned()));
    }
}

#[tokio::test]
async fn sign_up_validation_is_a_clear_400_and_creates_nobody() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let good = app_id_body("ada@example.com", "Ada", "Lovelace");
        let with = |field: &str, value: Value| {
            let mut body = good.clone();
            body[field] = value;
            body
        };
        let without = |field: &str| {
            let mut body = good.clone();
            body.as_object_mut().unwrap().remove(field);
            body
        };
        for (what, body) in [
            ("no password", without("password")),
            ("no emails", without("emails")),
            ("empty emails", with("emails", json!([]))),
            ("not an email", with("emails", json!([{"value": "ada", "primary": true}]))),
            ("short password", with("password", json!("short1"))),
            ("common password", with("password", json!("password123"))),
            ("long given name", with("name", json!({"givenName": "x".repeat(51)}))),
            ("long family name", with("name", json!({"familyName": "y".repeat(51)}))),
            ("control character", with("name", json!({"givenName": "Ada\u{0}"}))),
            ("unknown status", with("status", json!("ACTIVE"))),
            ("active not a boolean", with("active", json!("yes"))),
            ("user name with a space", with("userName", json!("ada lovelace"))),
            // Serde would read a struct from an array; the document says object.
            ("names as an array", with("name", json!([null, null]))),
            ("an email as an array", with("emails", json!([["ada@example.com", true]]))),
        ] {
            let reply = sign_up(&s, &f, body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
            assert!(!reply.text().contains(PASSWORD), "{what}: {}", reply.text());
        }
        let path = f.path("/cloud_directory/sign_up");
        let bad_query = f.path("/cloud_directory/sign_up?shouldCreateProfile=maybe");
        let reply = call(&s, Method::POST, &bad_query, Some(&f.token), Some(good.clone())).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let text = good.to_string();
        let reply = call_raw(&s, Method::POST, &path, &f.token, Some("text/plain"), text.clone()).await;
        assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        let reply = call_raw(&s, Method::POST, &path, &f.token, Some("application/json"), "{\"emails\": [").await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let huge = with("password", json!("p".repeat(70 * 1024))).to_string();
        let reply = call_raw(&s, Method::POST, &path, &f.token, Some("application/json"), huge).await;
        assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let array = json!([true, [{"value": "ada@example.com"}], "ada@example.com", PASSWORD]).to_string();
        let reply = call_raw(&s, Method::POST, &path, &f.token, Some("application/json"), array).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let reply = call_raw(&s, Method::POST, &path, &f.token, Some("application/json"), "").await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(list(&s, &f, "").await.json()["totalResults"], 0, "{}", s.backend);
    }
}

#[tokio::test]
async fn listing_searches_and_pages_like_scim() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        user(&s, &f, "ada@example.com", "Ada", "Lovelace").await;
        user(&s, &f, "grace@example.com", "Grace", "Hopper").await;
        user(&s, &f, "alan@example.org", "Alan", "Turing").await;
        user(&s, &f, "edsger@example.org", "Edsger", "Dijkstra").await;
        user(&s, &f, "barbara@example.com", "Barbara", "Liskov").await;

        let all = list(&s, &f, "").await.json();
        assert_eq!(
            (all["totalResults"].clone(), all["itemsPerPage"].clone(), all["startIndex"].clone()),
            (json!(5), json!(5), json!(1))
        );
        assert_eq!(
            emails(&all),
            ["ada@example.com", "grace@example.com", "alan@example.org", "edsger@example.org", "barbara@example.com"]
        );
        assert_eq!(all["Resources"][0]["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));

        let found = list(&s, &f, "?query=ADA@example.COM").await.json();
        assert_eq!((found["totalResults"].clone(), emails(&found)), (json!(1), vec!["ada@example.com".to_owned()]));
        let org = list(&s, &f, "?query=example.org").await.json();
        assert_eq!(emails(&org), ["alan@example.org", "edsger@example.org"]);
        assert_eq!(emails(&list(&s, &f, "?query=hopper").await.json()), ["grace@example.com"], "family name");
        // LIKE wildcards are searched for, not obeyed.
        assert_eq!(list(&s, &f, "?query=%25").await.json()["totalResults"], 0, "{}", s.backend);
        assert_eq!(list(&s, &f, "?query=_").await.json()["totalResults"], 0);

        let page = list(&s, &f, "?startIndex=2&count=2").await.json();
        assert_eq!(
            (page["totalResults"].clone(), page["itemsPerPage"].clone(), page["startIndex"].clone()),
            (json!(5), json!(2), json!(2))
        );
        assert_eq!(emails(&page), ["grace@example.com", "alan@example.org"]);
        let last = list(&s, &f, "?startIndex=5&count=20").await.json();
        assert_eq!(emails(&last), ["barbara@example.com"]);
        let beyond = list(&s, &f, "?startIndex=9").await.json();
        assert_eq!((beyond["totalResults"].clone(), beyond["itemsPerPage"].clone()), (json!(5), json!(0)));
        let counted = list(&s, &f, "?count=0").await.json();
        assert_eq!((counted["totalResults"].clone(), counted["Resources"].clone()), (json!(5), json!([])));
        assert_eq!(list(&s, &f, "?count=100").await.status, StatusCode::OK);

        for query in [
            "?count=101",
            "?count=-1",
            "?count=ten",
            "?startIndex=0",
            "?startIndex=-3",
            "?startIndex=abc",
            "?startIndex=2147483648",
            "?query=a%00b",
            "?query=a%0Ab",
        ] {
            let reply = list(&s, &f, query).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        let long = format!("?query={}", "a".repeat(321));
        assert_error(&list(&s, &f, &long).await, StatusCode::BAD_REQUEST, "invalid_request");
        let padded = format!("?query={}", format!(" {} ", "a".repeat(319)).replace(' ', "%20"));
        assert_error(&list(&s, &f, &padded).await, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(list(&s, &f, &format!("?query={}", "a".repeat(320))).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn get_replace_and_delete_a_user() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let ada = user(&s, &f, "ada@example.com", "Ada", "Lovelace").await;
        user(&s, &f, "grace@example.com", "Grace", "Hopper").await;
        let id = ada["id"].as_str().unwrap();
        let path = f.path(&format!("/cloud_directory/Users/{id}"));
        let got = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!((got.status, got.json()), (StatusCode::OK, ada.clone()), "{}", s.backend);

        s.clock.advance(Duration::seconds(60));
        let body = json!({"emails": [{"value": "countess@example.com", "primary": true}], "active": false,
                          "name": {"givenName": "Augusta Ada", "familyName": "King"}, "status": "CONFIRMED"});
        let replaced = call(&s, Method::PUT, &path, Some(&f.token), Some(body)).await;
        assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
        let replaced = replaced.json();
        assert_eq!(replaced["id"], id);
        assert_eq!(replaced["emails"], json!([{"value": "countess@example.com", "primary": true}]));
        assert_eq!(replaced["displayName"], "Augusta Ada King");
        assert_eq!(replaced["active"], false);
        assert_eq!(replaced["meta"]["created"], ada["meta"]["created"]);
        assert_ne!(replaced["meta"]["lastModified"], ada["meta"]["lastModified"]);
        assert_eq!(call(&s, Method::GET, &path, Some(&f.token), None).await.json(), replaced);

        let taken = json!({"emails": [{"value": "GRACE@example.com"}]});
        assert_error(
            &call(&s, Method::PUT, &path, Some(&f.token), Some(taken)).await,
            StatusCode::CONFLICT,
            "conflict",
        );
        let weak = json!({"emails": [{"value": "countess@example.com"}], "password": "password123"});
        assert_error(
            &call(&s, Method::PUT, &path, Some(&f.token), Some(weak)).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        let no_emails = json!({"name": {"givenName": "Ada"}});
        let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(no_emails)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let with_password = json!({"emails": [{"value": "countess@example.com"}], "password": "a new long passphrase"});
        let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(with_password)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json()["active"], true, "active defaults to true");
        assert!(!reply.text().contains("passphrase"));

        assert_eq!(call(&s, Method::DELETE, &path, Some(&f.token), None).await.status, StatusCode::NO_CONTENT);
        for method in [Method::GET, Method::DELETE] {
            assert_error(&call(&s, method, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        }
        let reply = call(&s, Method::PUT, &path, Some(&f.token), Some(app_id_body("ada@example.com", "", ""))).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        for unknown in ["not-a-uuid", "00000000-0000-4000-8000-000000000000"] {
            let path = f.path(&format!("/cloud_directory/Users/{unknown}"));
            assert_error(&call(&s, Method::GET, &path, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(emails(&list(&s, &f, "").await.json()), ["grace@example.com"]);
        let actions = audit_actions(&s, &f.tenant.tenant_id).await;
        for action in ["cloud_directory.user.update", "cloud_directory.user.delete"] {
            assert!(actions.contains(&action.to_owned()), "{action}");
        }
    }
}

#[tokio::test]
async fn change_password_takes_app_ids_body() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let ada = user(&s, &f, "ada@example.com", "Ada", "Lovelace").await;
        let path = f.path("/cloud_directory/change_password");
        let change = |uuid: &str, password: &str| json!({"newPassword": password, "uuid": uuid, "changedIpAddress": "198.51.100.4"});
        let id = ada["id"].as_str().unwrap();
        let reply = call(&s, Method::POST, &path, Some(&f.token), Some(change(id, "another long passphrase"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}: {}", s.backend, reply.text());
        assert_eq!(reply.json()["id"], id);
        assert!(!reply.text().contains("passphrase"));
        assert!(
            audit_actions(&s, &f.tenant.tenant_id).await.contains(&"cloud_directory.user.change_password".to_owned())
        );

        let reply = call(&s, Method::POST, &path, Some(&f.token), Some(change(id, "short"))).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        for unknown in ["00000000-0000-4000-8000-000000000000", "nobody"] {
            let reply = call(&s, Method::POST, &path, Some(&f.token), Some(change(unknown, PASSWORD))).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        let reply = call(&s, Method::POST, &path, Some(&f.token), Some(json!({"uuid": id}))).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

#[tokio::test]
async fn a_users_roles_are_read_and_replaced_by_profile_id() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let ada = user(&s, &f, "ada@example.com", "Ada", "Lovelace").await;
        let roles_path = f.path(&format!("/users/{}/roles", ada["profileId"].as_str().unwrap()));
        let empty = call(&s, Method::GET, &roles_path, Some(&f.token), None).await;
        assert_eq!((empty.status, empty.json()), (StatusCode::OK, json!({"roles": []})), "{}", s.backend);
        let new_role = async |name: &str| {
            call(&s, Method::POST, &f.path("/roles"), Some(&f.token), Some(json!({"name": name}))).await
        };
        let reader = new_role("reader").await.json();
        let auditor = new_role("auditor").await.json();
        let ids = json!({"roles": {"ids": [reader["id"], auditor["id"], reader["id"]]}});
        let set = call(&s, Method::PUT, &roles_path, Some(&f.token), Some(ids)).await;
        let expected =
            json!({"roles": [{"id": auditor["id"], "name": "auditor"}, {"id": reader["id"], "name": "reader"}]});
        assert_eq!((set.status, set.json()), (StatusCode::OK, expected.clone()), "{}", set.text());
        assert_eq!(call(&s, Method::GET, &roles_path, Some(&f.token), None).await.json(), expected);

        let unknown = json!({"roles": {"ids": ["00000000-0000-4000-8000-000000000000"]}});
        let reply = call(&s, Method::PUT, &roles_path, Some(&f.token), Some(unknown)).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(call(&s, Method::GET, &roles_path, Some(&f.token), None).await.json(), expected, "unchanged");
        let reply = call(&s, Method::PUT, &roles_path, Some(&f.token), Some(json!({"roles": ["x"]}))).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let cleared = call(&s, Method::PUT, &roles_path, Some(&f.token), Some(json!({"roles": {"ids": []}}))).await;
        assert_eq!(cleared.json(), json!({"roles": []}));
        let nobody = f.path("/users/00000000-0000-4000-8000-000000000000/roles");
        assert_error(&call(&s, Method::GET, &nobody, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");
        assert!(audit_actions(&s, &f.tenant.tenant_id).await.contains(&"cloud_directory.user.roles".to_owned()));
    }
}

#[tokio::test]
async fn another_tenants_user_ids_are_404_and_its_users_stay_hidden() {
    for s in servers().await {
        let a = Fixture::new(&s, "Alpha").await;
        let b = Fixture::new(&s, "Bravo").await;
        let ada = user(&s, &a, "ada@alpha.example", "Ada", "Alpha").await;
        let id = ada["id"].as_str().unwrap();
        let profile = ada["profileId"].as_str().unwrap();
        let a_role = call(&s, Method::POST, &a.path("/roles"), Some(&a.token), Some(json!({"name": "r"}))).await.json();
        let bob = user(&s, &b, "bob@bravo.example", "Bob", "Bravo").await;
        let a_audit = audit_count(&s, &a.tenant.tenant_id).await;
        let user_path = b.path(&format!("/cloud_directory/Users/{id}"));
        let roles_path = b.path(&format!("/users/{profile}/roles"));
        let bob_roles = b.path(&format!("/users/{}/roles", bob["profileId"].as_str().unwrap()));
        for (method, path, body) in [
            (Method::GET, user_path.clone(), None),
            (Method::PUT, user_path.clone(), Some(app_id_body("stolen@bravo.example", "", ""))),
            (Method::DELETE, user_path.clone(), None),
            (
                Method::POST,
                b.path("/cloud_directory/change_password"),
                Some(json!({"uuid": id, "newPassword": PASSWORD})),
            ),
            (Method::GET, roles_path.clone(), None),
            (Method::PUT, roles_path.clone(), Some(json!({"roles": {"ids": []}}))),
            (Method::PUT, bob_roles, Some(json!({"roles": {"ids": [a_role["id"]]}}))),
        ] {
            let reply = call(&s, method.clone(), &path, Some(&b.token), body).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
            assert!(!reply.text().contains("ada@alpha"), "{method} {path}: {}", reply.text());
        }
        // The same email is free in another tenant; B's search shows only B.
        assert_eq!(sign_up(&s, &b, app_id_body("ada@alpha.example", "", "")).await.status, StatusCode::CREATED);
        let b_list = list(&s, &b, "").await.json();
        assert_eq!(b_list["totalResults"], 2, "{}", s.backend);
        assert!(b_list["Resources"].as_array().unwrap().iter().all(|u| u["id"] != id));
        // A's token cannot reach into B by naming B's tenant either.
        let reply = call(&s, Method::GET, &b.path("/cloud_directory/Users"), Some(&a.token), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

        let got = call(&s, Method::GET, &a.path(&format!("/cloud_directory/Users/{id}")), Some(&a.token), None).await;
        assert_eq!(got.json(), ada, "A's user is untouched");
        assert_eq!(audit_count(&s, &a.tenant.tenant_id).await, a_audit);
    }
}

#[tokio::test]
async fn a_read_token_reads_users_and_cannot_change_them() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let ada = user(&s, &f, "ada@example.com", "Ada", "Lovelace").await;
        let reader = s.app(&f.scope, "reader", ManagementAccess::Read).await;
        let token = s.management_token_for(&reader).await;
        let id = ada["id"].as_str().unwrap();
        let user_path = f.path(&format!("/cloud_directory/Users/{id}"));
        let roles_path = f.path(&format!("/users/{id}/roles"));
        let policy = f.path("/config/cloud_directory/password_policy");
        for path in [f.path("/cloud_directory/Users"), user_path.clone(), roles_path.clone(), policy.clone()] {
            let reply = call(&s, Method::GET, &path, Some(&token), None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
        }
        let before = audit_count(&s, &f.tenant.tenant_id).await;
        for (method, path, body) in [
            (Method::POST, f.path("/cloud_directory/sign_up"), Some(app_id_body("eve@example.com", "", ""))),
            (Method::PUT, user_path.clone(), Some(app_id_body("eve@example.com", "", ""))),
            (Method::DELETE, user_path.clone(), None),
            (
                Method::POST,
                f.path("/cloud_directory/change_password"),
                Some(json!({"uuid": id, "newPassword": PASSWORD})),
            ),
            (Method::PUT, roles_path, Some(json!({"roles": {"ids": []}}))),
            (Method::PUT, policy, Some(json!({"minLength": 8, "rejectCommon": false}))),
            // A read-only caller hears 403 before any complaint about its body.
            (Method::POST, f.path("/cloud_directory/sign_up"), Some(json!({}))),
        ] {
            assert_insufficient_scope(&call(&s, method, &path, Some(&token), body).await, WRITE);
        }
        assert_eq!(audit_count(&s, &f.tenant.tenant_id).await, before);
        assert_eq!(call(&s, Method::GET, &user_path, Some(&f.token), None).await.json(), ada);
    }
}
