//! The Users page's server functions over HTTP: an admin adds, finds,
//! pages through, disables, resets, gives roles to and deletes Cloud
//! Directory users, with each change seen at the token endpoint; refusals
//! are 4xx with a sentence; a viewer reads and is refused every write; and
//! another tenant's users are not found.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clavis_types::ManagementAccess;
use domain::Role;

use super::csp::sign_in;
use super::support::{PUBLIC_URL, Reply, TestServer, servers};

async fn call(s: &TestServer, name: &str, cookie: &str, params: &[(&str, &str)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    s.send(
        Request::post(format!("/api/{name}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", PUBLIC_URL)
            .header("cookie", cookie)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn password_grant(s: &TestServer, tenant: &str, app: (&str, &str), user: &str, password: &str) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("username", user)
        .append_pair("password", password)
        .finish();
    s.post_form(&format!("/oauth/v4/{tenant}/token"), Some(app), &body).await
}

#[tokio::test]
async fn admins_manage_directory_users_from_the_dashboard_and_viewers_only_read() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let t = admin.tenant_id.clone();
        let cookie = sign_in(&s, "admin@localhost", &admin.password).await;
        let scope = s.cli.tenant_scope(&s.services, &t).await.unwrap();
        let app = s.app(&scope, "web", ManagementAccess::None).await;
        let secret = app.secret.clone().unwrap();
        let client = (app.client_id.as_str(), secret.as_str());
        let b = s.backend;

        let policy = call(&s, "directory_password_policy", &cookie, &[("tenant_id", t.as_str())]).await;
        assert_eq!(policy.json(), serde_json::json!({"min_chars": 8, "max_chars": 256, "reject_common": true}), "{b}");

        let add = |email: &'static str, password: &'static str| {
            let t = t.clone();
            let cookie = cookie.clone();
            let s = &s;
            async move {
                let params =
                    [("tenant_id", t.as_str()), ("email", email), ("given_name", "Ada"), ("password", password)];
                call(s, "add_directory_user", &cookie, &params).await
            }
        };
        let added = add("Ada@Example.test", "analytical-engine").await;
        assert_eq!(added.status, StatusCode::OK, "{b}: {}", added.text());
        assert!(!added.text().contains("analytical-engine"), "{b}: the answer carries no password");
        let user = added.json();
        assert_eq!(user["email"], "Ada@Example.test");
        assert_eq!(user["name"], "Ada");
        assert_eq!(user["active"], true);
        let id = user["id"].as_str().unwrap().to_owned();
        let profile = user["profile_id"].as_str().unwrap().to_owned();

        // Refusals: a taken email (any case), a short or common password, no email.
        for (email, password, status, message) in [
            ("ada@example.TEST", "another-passphrase", StatusCode::CONFLICT, "A user with this email already exists."),
            ("short@example.test", "tiny", StatusCode::BAD_REQUEST, "Passwords must be 8 to 256 characters."),
            (
                "common@example.test",
                "password123",
                StatusCode::BAD_REQUEST,
                "That password is one of the most common ones; choose another.",
            ),
        ] {
            let refused = add(email, password).await;
            assert_eq!(refused.status, status, "{b} {email}: {}", refused.text());
            assert_eq!(refused.json()["message"], message, "{b} {email}");
        }
        let missing =
            call(&s, "add_directory_user", &cookie, &[("tenant_id", t.as_str()), ("email", "x@example.test")]).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{b}: {}", missing.text());

        assert_eq!(
            password_grant(&s, &t, client, "ada@example.test", "analytical-engine").await.status,
            StatusCode::OK
        );

        // Pages of 20 and the search.
        for i in 1..=20 {
            let email = format!("reader{i:02}@example.test");
            let params = [("tenant_id", t.as_str()), ("email", email.as_str()), ("password", "long-enough-1")];
            assert_eq!(call(&s, "add_directory_user", &cookie, &params).await.status, StatusCode::OK, "{b}");
        }
        let first = call(&s, "list_directory_users", &cookie, &[("tenant_id", t.as_str())]).await.json();
        assert_eq!((first["total"].as_u64(), first["start_index"].as_u64()), (Some(21), Some(1)), "{b}");
        assert_eq!(first["users"].as_array().unwrap().len(), 20, "{b}");
        let second =
            call(&s, "list_directory_users", &cookie, &[("tenant_id", t.as_str()), ("start_index", "21")]).await;
        assert_eq!(second.json()["users"].as_array().unwrap().len(), 1, "{b}");
        let found =
            call(&s, "list_directory_users", &cookie, &[("tenant_id", t.as_str()), ("query", "EXAMPLE.test")]).await;
        assert_eq!(found.json()["total"], 21, "{b}");
        let found = call(&s, "list_directory_users", &cookie, &[("tenant_id", t.as_str()), ("query", "ada@")]).await;
        assert_eq!(found.json()["users"][0]["id"], id.as_str(), "{b}");
        let long = "x".repeat(321);
        let refused =
            call(&s, "list_directory_users", &cookie, &[("tenant_id", t.as_str()), ("query", long.as_str())]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{b}: {}", refused.text());

        // Disabled users cannot sign in; enabled again, they can.
        let off = [("tenant_id", t.as_str()), ("user_id", id.as_str()), ("active", "false")];
        assert_eq!(call(&s, "set_directory_user_active", &cookie, &off).await.json()["active"], false, "{b}");
        let refused = password_grant(&s, &t, client, "ada@example.test", "analytical-engine").await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(refused.json()["error"], "invalid_grant", "{b}");
        let on = [("tenant_id", t.as_str()), ("user_id", id.as_str()), ("active", "true")];
        assert_eq!(call(&s, "set_directory_user_active", &cookie, &on).await.json()["active"], true, "{b}");
        let signed_in = password_grant(&s, &t, client, "ada@example.test", "analytical-engine").await;
        assert_eq!(signed_in.status, StatusCode::OK, "{b}: {}", signed_in.text());
        let refresh = signed_in.json()["refresh_token"].as_str().unwrap().to_owned();

        // A new password: the old one and the refresh token stop working.
        let short = [("tenant_id", t.as_str()), ("user_id", id.as_str()), ("new_password", "tiny")];
        assert_eq!(call(&s, "reset_directory_password", &cookie, &short).await.status, StatusCode::BAD_REQUEST, "{b}");
        let reset = [("tenant_id", t.as_str()), ("user_id", id.as_str()), ("new_password", "difference-engine")];
        let answer = call(&s, "reset_directory_password", &cookie, &reset).await;
        assert_eq!(answer.status, StatusCode::OK, "{b}: {}", answer.text());
        assert!(!answer.text().contains("difference-engine"), "{b}");
        assert_eq!(
            password_grant(&s, &t, client, "ada@example.test", "difference-engine").await.status,
            StatusCode::OK
        );
        let old = password_grant(&s, &t, client, "ada@example.test", "analytical-engine").await;
        assert_eq!(old.status, StatusCode::BAD_REQUEST, "{b}");
        let body = format!("grant_type=refresh_token&refresh_token={refresh}");
        let refreshed = s.post_form(&format!("/oauth/v4/{t}/token"), Some(client), &body).await;
        assert_eq!(refreshed.status, StatusCode::BAD_REQUEST, "{b}: {}", refreshed.text());

        // Roles, by profile ID; an unknown role is not found.
        let role = call(&s, "create_role", &cookie, &[("tenant_id", t.as_str()), ("name", "readers")]).await.json();
        let role_id = role["id"].as_str().unwrap().to_owned();
        let set = [("tenant_id", t.as_str()), ("profile_id", profile.as_str()), ("role_ids[0]", role_id.as_str())];
        let held = call(&s, "set_directory_user_roles", &cookie, &set).await;
        assert_eq!(held.json(), serde_json::json!([{"id": role_id, "name": "readers"}]), "{b}: {}", held.text());
        let read =
            call(&s, "directory_user_roles", &cookie, &[("tenant_id", t.as_str()), ("profile_id", profile.as_str())])
                .await;
        assert_eq!(read.json()[0]["name"], "readers", "{b}");
        let unknown = uuid::Uuid::new_v4().to_string();
        let bad = [("tenant_id", t.as_str()), ("profile_id", profile.as_str()), ("role_ids[0]", unknown.as_str())];
        assert_eq!(call(&s, "set_directory_user_roles", &cookie, &bad).await.status, StatusCode::NOT_FOUND, "{b}");

        // A viewer reads the list and is refused every write, which changes nothing.
        let password = "quiet-harbor-lantern-42";
        s.services
            .add_member_by_operator(&s.cli, &scope, "viewer@example.test", Role::Viewer, Some(password), s.now())
            .await
            .unwrap();
        let viewer = sign_in(&s, "viewer@example.test", password).await;
        let listed = call(&s, "list_directory_users", &viewer, &[("tenant_id", t.as_str())]).await;
        assert_eq!(listed.status, StatusCode::OK, "{b}");
        for (name, params) in [
            ("add_directory_user", vec![("email", "sneaky@example.test"), ("password", "long-enough-1")]),
            ("set_directory_user_active", vec![("user_id", id.as_str()), ("active", "false")]),
            ("reset_directory_password", vec![("user_id", id.as_str()), ("new_password", "long-enough-1")]),
            ("set_directory_user_roles", vec![("profile_id", profile.as_str())]),
            ("delete_directory_user", vec![("user_id", id.as_str())]),
        ] {
            let mut all = vec![("tenant_id", t.as_str())];
            all.extend(params);
            let reply = call(&s, name, &viewer, &all).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{b} {name}: {}", reply.text());
            assert_eq!(reply.json()["kind"], "Forbidden", "{b} {name}");
        }
        let still =
            call(&s, "directory_user_roles", &cookie, &[("tenant_id", t.as_str()), ("profile_id", profile.as_str())])
                .await;
        assert_eq!(still.json()[0]["name"], "readers", "{b}");
        assert_eq!(
            password_grant(&s, &t, client, "ada@example.test", "difference-engine").await.status,
            StatusCode::OK
        );

        // Another tenant's admin finds no such user, and cannot touch it.
        let (other, _) = s.tenant("Other").await;
        let o = other.tenant_id.as_str();
        for (name, params) in [
            ("set_directory_user_active", vec![("tenant_id", o), ("user_id", id.as_str()), ("active", "false")]),
            ("delete_directory_user", vec![("tenant_id", o), ("user_id", id.as_str())]),
            ("directory_user_roles", vec![("tenant_id", o), ("profile_id", profile.as_str())]),
        ] {
            let reply = call(&s, name, &cookie, &params).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{b} {name}: {}", reply.text());
        }

        // Deleted: gone from the list, and the password no longer works.
        let deleted =
            call(&s, "delete_directory_user", &cookie, &[("tenant_id", t.as_str()), ("user_id", id.as_str())]).await;
        assert_eq!(deleted.status, StatusCode::OK, "{b}: {}", deleted.text());
        let found = call(&s, "list_directory_users", &cookie, &[("tenant_id", t.as_str()), ("query", "ada@")]).await;
        assert_eq!(found.json()["total"], 0, "{b}");
        let gone = password_grant(&s, &t, client, "ada@example.test", "difference-engine").await;
        assert_eq!(gone.status, StatusCode::BAD_REQUEST, "{b}");
        let again =
            call(&s, "delete_directory_user", &cookie, &[("tenant_id", t.as_str()), ("user_id", id.as_str())]).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{b}");
    }
}
