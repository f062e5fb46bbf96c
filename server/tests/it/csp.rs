//! The dashboard's script policy: every page answer trusts only the nonce
//! of its own render, and every inline script the page carries has it.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::support::{PUBLIC_URL, Reply, TestServer, servers};

/// The nonce a page's `script-src` trusts, after checking the policy's shape.
fn nonce_of(reply: &Reply) -> String {
    let csp = reply.header("content-security-policy").unwrap_or_else(|| panic!("no CSP on {}", reply.status));
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("script-src "))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    assert!(!script_src.contains("'unsafe-inline'"), "{csp}");
    assert!(!script_src.contains("'unsafe-eval'"), "{csp}");
    for directive in
        ["default-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]
    {
        assert!(csp.split(';').any(|d| d.trim() == directive), "{directive} missing from {csp}");
    }
    let nonce = script_src
        .split_whitespace()
        .find_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no nonce in {csp}"));
    // 128 bits at least, in base64: 22 characters or more.
    assert!(nonce.len() >= 22, "{nonce}");
    nonce.to_owned()
}

/// Every `<script` opening tag in `html` carries `nonce`; returns how many.
fn assert_scripts_carry(html: &str, nonce: &str) -> usize {
    let expected = format!("nonce=\"{nonce}\"");
    let mut count = 0;
    for (start, _) in html.match_indices("<script") {
        let tag_end = html[start..].find('>').map_or(html.len(), |end| start + end);
        let tag = &html[start..tag_end];
        assert!(tag.contains(&expected), "script without the nonce: {tag}");
        count += 1;
    }
    assert!(!html.contains(" style=\""), "an inline style attribute the policy would block");
    count
}

async fn page(s: &TestServer, path: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    s.send(request.body(Body::empty()).unwrap()).await
}

pub async fn sign_in(s: &TestServer, email: &str, password: &str) -> String {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", password)
        .finish();
    let reply = s
        .send(
            Request::post("/api/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("origin", PUBLIC_URL)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clavis_session="))
        .unwrap_or_else(|| panic!("no session: {}", reply.text()));
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_that_covers_every_script_and_changes_per_render() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let cookie = sign_in(&s, "admin@localhost", &admin.password).await;
        let t = admin.tenant_id.as_str();
        let paths = [
            format!("/t/{t}/applications"),
            format!("/t/{t}/roles"),
            format!("/t/{t}/members"),
            format!("/t/{t}/audit"),
            format!("/t/{t}/keys"),
            "/tenants".to_owned(),
            "/login".to_owned(),
            "/no/such/page".to_owned(),
        ];
        for path in &paths {
            let first = page(&s, path, Some(&cookie)).await;
            let expected = if path == "/no/such/page" { StatusCode::NOT_FOUND } else { StatusCode::OK };
            assert_eq!(first.status, expected, "{} {path}", s.backend);
            let nonce = nonce_of(&first);
            let scripts = assert_scripts_carry(&first.text(), &nonce);
            // The hydration bootstrap at least; Async pages add resource chunks.
            assert!(scripts >= 1, "{} {path}: no script at all", s.backend);
            let second = page(&s, path, Some(&cookie)).await;
            assert_ne!(nonce_of(&second), nonce, "{path}: a nonce was reused");
            assert_scripts_carry(&second.text(), &nonce_of(&second));
        }
        // An Async page with data streams resource chunks: they carry it too.
        let applications = page(&s, &format!("/t/{t}/applications"), Some(&cookie)).await;
        assert!(assert_scripts_carry(&applications.text(), &nonce_of(&applications)) >= 2, "{}", applications.text());
    }
}

#[tokio::test]
async fn answers_that_are_not_pages_keep_the_framing_policy_only() {
    for s in servers().await {
        for path in ["/healthz", &format!("/management/v4/{}/applications", uuid::Uuid::new_v4())] {
            let reply = page(&s, path, None).await;
            assert_eq!(reply.header("content-security-policy"), Some("frame-ancestors 'none'"), "{path}");
        }
        let me = s.send(Request::post("/api/me").header("origin", PUBLIC_URL).body(Body::empty()).unwrap()).await;
        assert_eq!(me.header("content-security-policy"), Some("frame-ancestors 'none'"));
    }
}
