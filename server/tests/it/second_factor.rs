//! Two-factor sign-in through the dashboard's server functions: the
//! statuses of each step and of a tenant that requires it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use domain::Role;
use domain::services::{TenantSecurity, TotpEnrolment};
use totp_rs::{Algorithm, Secret, TOTP};

use super::support::{PUBLIC_URL, Reply, TestServer, servers};

const PASSWORD: &str = "granite-willow-parade-17";

fn code_at(enrolment: &TotpEnrolment, at: DateTime<Utc>) -> String {
    let secret = Secret::Encoded(enrolment.secret_base32.clone()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret, None, String::new())
        .unwrap()
        .generate(u64::try_from(at.timestamp()).unwrap())
}

/// `POST /api/{name}` with a form body and the session cookie, if any.
async fn call(s: &TestServer, name: &str, cookie: Option<&str>, body: &str) -> Reply {
    let mut request = Request::post(format!("/api/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", PUBLIC_URL);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie.to_owned());
    }
    s.send(request.body(Body::from(body.to_owned())).unwrap()).await
}

/// The `name=value` of the session cookie an answer sets, if it sets one.
fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clavis_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

fn login_body(email: &str, password: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", password)
        .finish()
}

/// An admin of a new tenant, enrolled; returns (user ID, tenant ID, enrolment).
async fn enrolled_admin(s: &TestServer, email: &str) -> (String, String, TotpEnrolment) {
    let (tenant, scope) = s.tenant("Second factor").await;
    let member =
        s.services.add_member_by_operator(&s.cli, &scope, email, Role::Admin, Some(PASSWORD), s.now()).await.unwrap();
    let enrolment = s.services.begin_totp_enrolment(&member.user_id, PASSWORD, None, s.now()).await.unwrap();
    s.services.confirm_totp_enrolment(&member.user_id, &code_at(&enrolment, s.now()), None, s.now()).await.unwrap();
    // The enrolment used this step's code.
    s.clock.advance(Duration::seconds(30));
    (member.user_id, tenant.tenant_id, enrolment)
}

#[tokio::test]
async fn the_second_step_answers_401_for_a_wrong_code_429_when_throttled_and_signs_in_with_the_right_one() {
    for s in servers().await {
        let (_, tenant_id, enrolment) = enrolled_admin(&s, "ops@example.com").await;
        let first = call(&s, "login", None, &login_body("ops@example.com", PASSWORD)).await;
        assert_eq!(first.status, StatusCode::OK, "{}: {}", s.backend, first.text());
        assert_eq!(first.json(), serde_json::json!("SecondFactor"));
        let cookie = session_cookie(&first).expect("a session holds the pending sign-in");
        // Signed in to nothing yet.
        assert_eq!(call(&s, "me", Some(&cookie), "").await.json(), serde_json::Value::Null);
        let tenant = call(&s, "tenant", Some(&cookie), &format!("tenant_id={tenant_id}")).await;
        assert_eq!(tenant.status, StatusCode::UNAUTHORIZED, "{}", tenant.text());

        let right = code_at(&enrolment, s.now());
        let wrong = if right == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let reply = call(&s, "login_second_factor", Some(&cookie), &format!("code={wrong}")).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}: {}", s.backend, reply.text());
            assert!(reply.text().contains("That code is not right."), "{}", reply.text());
        }
        let throttled = call(&s, "login_second_factor", Some(&cookie), &format!("code={right}")).await;
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{}: {}", s.backend, throttled.text());

        s.clock.advance(Duration::seconds(2));
        let right = code_at(&enrolment, s.now());
        let done = call(&s, "login_second_factor", Some(&cookie), &format!("code={right}")).await;
        assert_eq!(done.status.as_u16() / 100, 2, "{}: {} {}", s.backend, done.status, done.text());
        let signed_in = session_cookie(&done).expect("a fresh session ID at sign-in");
        assert_ne!(signed_in, cookie);
        assert_eq!(call(&s, "me", Some(&signed_in), "").await.json()["email"], "ops@example.com");
        // The pending sign-in is gone with the old session ID.
        let again = call(&s, "login_second_factor", Some(&cookie), &format!("code={right}")).await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}: {}", s.backend, again.text());
    }
}

#[tokio::test]
async fn an_admin_without_a_second_factor_gets_403_from_a_tenant_that_requires_one() {
    for s in servers().await {
        let (admin_id, tenant_id, _) = enrolled_admin(&s, "lead@example.com").await;
        let scope = s.services.scope_for_user::<domain::Write>(&admin_id, &tenant_id, None).await.unwrap();
        let required = TenantSecurity { require_admin_second_factor: true };
        s.services.set_tenant_security(&scope, required, s.now()).await.unwrap();
        let cli_scope = s.cli.tenant_scope(&s.services, &tenant_id).await.unwrap();
        for (email, role) in [("new.admin@example.com", Role::Admin), ("watcher@example.com", Role::Viewer)] {
            s.services.add_member_by_operator(&s.cli, &cli_scope, email, role, Some(PASSWORD), s.now()).await.unwrap();
        }

        let admin = call(&s, "login", None, &login_body("new.admin@example.com", PASSWORD)).await;
        assert_eq!(admin.json(), serde_json::json!("SignedIn"), "{}", s.backend);
        // Sent to set a second factor up first.
        assert_eq!(admin.header("location"), Some("/account"), "{:?}", admin.headers);
        let cookie = session_cookie(&admin).unwrap();
        let refused = call(&s, "tenant", Some(&cookie), &format!("tenant_id={tenant_id}")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}: {}", s.backend, refused.text());
        assert_eq!(refused.json()["kind"], "SecondFactorRequired");
        let status = call(&s, "second_factor", Some(&cookie), "").await.json();
        assert_eq!(status["setup_required"], true, "{status}");

        let viewer =
            session_cookie(&call(&s, "login", None, &login_body("watcher@example.com", PASSWORD)).await).unwrap();
        let opened = call(&s, "tenant", Some(&viewer), &format!("tenant_id={tenant_id}")).await;
        assert_eq!(opened.status, StatusCode::OK, "{}: {}", s.backend, opened.text());

        // Without one of their own, an admin cannot require it (409).
        let (_, other_tenant, _) = enrolled_admin(&s, "third@example.com").await;
        let other_scope = s.cli.tenant_scope(&s.services, &other_tenant).await.unwrap();
        s.services
            .add_member_by_operator(&s.cli, &other_scope, "new.admin@example.com", Role::Admin, None, s.now())
            .await
            .unwrap();
        let set =
            call(&s, "set_tenant_security", Some(&cookie), &format!("tenant_id={other_tenant}&required=true")).await;
        assert_eq!(set.status, StatusCode::CONFLICT, "{}: {}", s.backend, set.text());
    }
}

#[tokio::test]
async fn another_tenants_rule_does_not_turn_sign_in_away_from_the_home_tenant() {
    for s in servers().await {
        let (home, home_scope) = s.tenant("Home").await;
        s.services
            .add_member_by_operator(&s.cli, &home_scope, "dual@example.com", Role::Admin, Some(PASSWORD), s.now())
            .await
            .unwrap();
        let (lead_id, strict_id, _) = enrolled_admin(&s, "strict.lead@example.com").await;
        let strict_scope = s.cli.tenant_scope(&s.services, &strict_id).await.unwrap();
        s.services
            .add_member_by_operator(&s.cli, &strict_scope, "dual@example.com", Role::Admin, None, s.now())
            .await
            .unwrap();
        let scope = s.services.scope_for_user::<domain::Write>(&lead_id, &strict_id, None).await.unwrap();
        s.services
            .set_tenant_security(&scope, TenantSecurity { require_admin_second_factor: true }, s.now())
            .await
            .unwrap();

        let signed_in = call(&s, "login", None, &login_body("dual@example.com", PASSWORD)).await;
        assert_eq!(signed_in.json(), serde_json::json!("SignedIn"), "{}", s.backend);
        let landing = format!("/t/{}/applications", home.tenant_id);
        assert_eq!(signed_in.header("location"), Some(landing.as_str()), "{}: {:?}", s.backend, signed_in.headers);
        let cookie = session_cookie(&signed_in).unwrap();
        let open = call(&s, "tenant", Some(&cookie), &format!("tenant_id={}", home.tenant_id)).await;
        assert_eq!(open.status, StatusCode::OK, "{}: {}", s.backend, open.text());
        let strict = call(&s, "tenant", Some(&cookie), &format!("tenant_id={strict_id}")).await;
        assert_eq!(strict.status, StatusCode::FORBIDDEN, "{}: {}", s.backend, strict.text());
    }
}

#[tokio::test]
async fn starting_an_enrolment_answers_401_without_the_current_password() {
    for s in servers().await {
        let (_, scope) = s.tenant("Enrol").await;
        let member = s
            .services
            .add_member_by_operator(&s.cli, &scope, "owner@example.com", Role::Admin, Some(PASSWORD), s.now())
            .await
            .unwrap();
        let signed_in = call(&s, "login", None, &login_body("owner@example.com", PASSWORD)).await;
        let cookie = session_cookie(&signed_in).expect("signed in");

        // The session alone (a stolen one, say) cannot switch it on.
        for body in ["password=not-the-password", "password="] {
            let refused = call(&s, "begin_totp", Some(&cookie), body).await;
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}: {body}: {}", s.backend, refused.text());
            assert!(refused.text().contains("The current password is incorrect."), "{}", refused.text());
            assert!(!refused.text().contains("secret_base32"), "{}", refused.text());
        }
        let confirm = call(&s, "confirm_totp", Some(&cookie), "code=123456").await;
        assert_eq!(confirm.status, StatusCode::BAD_REQUEST, "{}: nothing started: {}", s.backend, confirm.text());

        let body = form_urlencoded::Serializer::new(String::new()).append_pair("password", PASSWORD).finish();
        let started = call(&s, "begin_totp", Some(&cookie), &body).await;
        assert_eq!(started.status, StatusCode::OK, "{}: {}", s.backend, started.text());
        let secret = started.json()["secret_base32"].as_str().expect("a secret").to_owned();
        let enrolment = TotpEnrolment { secret_base32: secret, otpauth_uri: String::new(), qr_data_url: String::new() };
        let confirmed =
            call(&s, "confirm_totp", Some(&cookie), &format!("code={}", code_at(&enrolment, s.now()))).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}: {}", s.backend, confirmed.text());
        assert!(s.services.second_factor_status(&member.user_id).await.unwrap().enabled);
    }
}
