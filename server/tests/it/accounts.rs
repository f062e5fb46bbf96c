//! The dashboard's account and invitation server functions over HTTP: each
//! refusal has its 4xx status, a password change ends the other sessions,
//! and invitation tokens travel in request bodies of a no-referrer page.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Duration;

use super::support::{PUBLIC_URL, Reply, TestServer, servers};

async fn call(s: &TestServer, function: &str, cookie: Option<&str>, pairs: &[(&str, &str)]) -> Reply {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        body.append_pair(name, value);
    }
    let mut request = Request::post(format!("/api/{function}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", PUBLIC_URL);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    s.send(request.body(Body::from(body.finish())).unwrap()).await
}

/// Signs in and returns the session cookie (`name=value`).
async fn sign_in(s: &TestServer, email: &str, password: &str) -> String {
    let reply = call(s, "login", None, &[("email", email), ("password", password)]).await;
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clavis_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{}: sign-in failed: {} {}", s.backend, reply.status, reply.text()))
}

async fn signed_in_email(s: &TestServer, cookie: &str) -> Option<String> {
    let reply = call(s, "me", Some(cookie), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["email"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_password_change_is_checked_and_ends_the_other_sessions() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let here = sign_in(&s, "admin@localhost", &admin.password).await;
        let elsewhere = sign_in(&s, "admin@localhost", &admin.password).await;

        let change = async |current: &str, new: &str, cookie: Option<&str>| {
            call(&s, "change_password", cookie, &[("current_password", current), ("new_password", new)]).await
        };
        let anonymous = change("x", "a brand new passphrase", None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", s.backend);
        let wrong = change("not the password", "a brand new passphrase", Some(&here)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}: {}", s.backend, wrong.text());
        assert!(wrong.text().contains("The current password is incorrect."), "{}", wrong.text());
        let weak = change(&admin.password, "qwerty123456", Some(&here)).await;
        assert_eq!(weak.status, StatusCode::BAD_REQUEST, "{}", weak.text());
        assert!(weak.text().contains("common"), "{}", weak.text());

        let ok = change(&admin.password, "a brand new passphrase", Some(&here)).await;
        assert_eq!(ok.status, StatusCode::OK, "{}: {}", s.backend, ok.text());
        assert_eq!(signed_in_email(&s, &here).await.as_deref(), Some("admin@localhost"), "{}", s.backend);
        assert_eq!(signed_in_email(&s, &elsewhere).await, None, "{}: the other session ended", s.backend);
        sign_in(&s, "admin@localhost", "a brand new passphrase").await;
    }
}

#[tokio::test]
async fn invitations_over_the_dashboard_answer_with_their_status() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let operator = sign_in(&s, "admin@localhost", &admin.password).await;
        let tenant = admin.tenant_id.as_str();
        let invite = |email: &'static str| {
            let (s, operator) = (&s, operator.clone());
            async move {
                let reply = call(
                    s,
                    "invite_member",
                    Some(&operator),
                    &[("tenant_id", tenant), ("email", email), ("role", "admin")],
                )
                .await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
                let url = reply.json()["link"]["url"].as_str().unwrap().to_owned();
                assert!(url.starts_with(&format!("{PUBLIC_URL}/invite/")), "{url}");
                url.rsplit('/').next().unwrap().to_owned()
            }
        };
        let token = invite("new.admin@example.com").await;

        // The page the link opens sends no Referer onwards and shows the tenant.
        let page = s.get(&format!("/invite/{token}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", s.backend);
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));

        let accept = |token: String, password: &'static str| {
            let s = &s;
            async move { call(s, "accept_invitation", None, &[("token", &token), ("password", password)]).await }
        };
        assert_eq!(accept(token.clone(), "short").await.status, StatusCode::BAD_REQUEST);
        let ok = accept(token.clone(), "my very own passphrase").await;
        assert_eq!(ok.status, StatusCode::OK, "{}: {}", s.backend, ok.text());
        let again = accept(token.clone(), "my very own passphrase").await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text());
        assert!(again.text().contains("already been used"), "{}", again.text());
        let unknown = accept("A".repeat(43), "my very own passphrase").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());

        // A tenant admin (not an operator) cannot issue reset links; an operator can.
        let member = sign_in(&s, "new.admin@example.com", "my very own passphrase").await;
        let refused = call(&s, "create_reset_link", Some(&member), &[("email", "admin@localhost")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
        let issued = call(&s, "create_reset_link", Some(&operator), &[("email", "new.admin@example.com")]).await;
        assert_eq!(issued.status, StatusCode::OK, "{}", issued.text());
        assert!(issued.json()["url"].as_str().unwrap().starts_with(&format!("{PUBLIC_URL}/reset/")));

        let late = invite("late@example.com").await;
        s.clock.advance(Duration::hours(72) + Duration::seconds(1));
        let expired = accept(late, "my very own passphrase").await;
        assert_eq!(expired.status, StatusCode::BAD_REQUEST, "{}", expired.text());
        assert!(expired.text().contains("expired"), "{}", expired.text());
    }
}
