//! The dashboard over HTTP: probes, the login server function, sessions and
//! the Origin check.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::support::{PUBLIC_URL, Reply, TestServer, servers};

async fn login(s: &TestServer, email: &str, password: &str, origin: &str) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", password)
        .finish();
    s.send(
        Request::post("/api/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", origin)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clavis_session="))
        .map(str::to_owned)
}

async fn me(s: &TestServer, cookie: &str) -> Reply {
    let pair = cookie.split(';').next().unwrap().to_owned();
    s.send(Request::post("/api/me").header("cookie", pair).header("origin", PUBLIC_URL).body(Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn probes_answer() {
    for s in servers().await {
        assert_eq!(s.get("/healthz").await.json()["status"], "ok");
        assert_eq!(s.get("/readyz").await.json()["status"], "ready", "{}", s.backend);
    }
}

#[tokio::test]
async fn login_sets_a_hardened_session_cookie() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let wrong = login(&s, "admin@localhost", "nope", PUBLIC_URL).await;
        assert!(session_cookie(&wrong).is_none(), "a failed login starts no session");
        assert!(wrong.text().contains("Incorrect email or password."), "{}", wrong.text());

        let ok = login(&s, "admin@localhost", &admin.password, PUBLIC_URL).await;
        let cookie = session_cookie(&ok).unwrap_or_else(|| panic!("{}: {} {}", s.backend, ok.status, ok.text()));
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain-http public URL: no Secure flag");
        let location = ok.header("location").unwrap_or_default();
        assert!(location.ends_with(&format!("/t/{}/applications", admin.tenant_id)), "{location}");

        let who = me(&s, &cookie).await;
        assert_eq!(who.status, StatusCode::OK, "{}", who.text());
        assert_eq!(who.json()["email"], "admin@localhost");
        assert!(!who.text().contains(&admin.password));
    }
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let reply = login(&s, "admin@localhost", &admin.password, "http://evil.example").await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(session_cookie(&reply).is_none());
    }
}

#[tokio::test]
async fn pages_render_and_unknown_paths_are_404() {
    let s = super::support::sqlite_server().await;
    let page = s.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Sign in to Clavis"));
    assert_eq!(s.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_answer_carries_the_browser_security_headers() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let signed_in = login(&s, "admin@localhost", &admin.password, PUBLIC_URL).await;
        let cookie = session_cookie(&signed_in).expect("session cookie");
        for reply in [s.get("/login").await, s.get("/healthz").await, me(&s, &cookie).await, signed_in] {
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{}", s.backend);
            assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
            assert_eq!(reply.header("x-frame-options"), Some("DENY"));
            assert!(reply.header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")));
            // The public URL of the tests is http: no HSTS.
            assert_eq!(reply.header("strict-transport-security"), None);
        }
        // Server functions answer with no-store: several return secrets.
        assert_eq!(me(&s, &cookie).await.header("cache-control"), Some("no-store"));
    }
}

/// `POST /api/{name}` with a form body and the session cookie, if any.
async fn server_fn(s: &TestServer, name: &str, cookie: Option<&str>, body: &str) -> Reply {
    let mut request = Request::post(format!("/api/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", PUBLIC_URL);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie.split(';').next().unwrap().to_owned());
    }
    s.send(request.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn server_functions_answer_client_mistakes_with_4xx() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let t = admin.tenant_id.as_str();
        let wrong = login(&s, "admin@localhost", "not-the-password", PUBLIC_URL).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}: {}", s.backend, wrong.text());
        let cookie = session_cookie(&login(&s, "admin@localhost", &admin.password, PUBLIC_URL).await).unwrap();
        let unknown = uuid::Uuid::new_v4();
        let table: Vec<(&str, Option<&str>, String, StatusCode)> = vec![
            ("create_application", Some(&cookie), "zzz".into(), StatusCode::BAD_REQUEST),
            ("create_application", Some(&cookie), format!("tenant_id={t}&name="), StatusCode::BAD_REQUEST),
            ("create_application", None, format!("tenant_id={t}&name=x"), StatusCode::UNAUTHORIZED),
            ("create_application", Some(&cookie), format!("tenant_id={unknown}&name=x"), StatusCode::NOT_FOUND),
            ("get_application", Some(&cookie), format!("tenant_id={t}&client_id={unknown}"), StatusCode::NOT_FOUND),
            (
                "set_management_access",
                Some(&cookie),
                format!("tenant_id={t}&client_id={unknown}&access=root"),
                StatusCode::BAD_REQUEST,
            ),
            ("list_applications", Some(&cookie), format!("tenant_id={t}"), StatusCode::BAD_REQUEST),
            ("list_tenants", None, String::new(), StatusCode::UNAUTHORIZED),
        ];
        for (name, cookie, body, expected) in table {
            let reply = server_fn(&s, name, cookie, &body).await;
            assert_eq!(reply.status, expected, "{} {name} {body:?}: {}", s.backend, reply.text());
        }
    }
}
