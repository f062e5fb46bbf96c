//! What a page hands the browser to hydrate from: every resource the page
//! reads is created, fetched and serialized once on the server, so the
//! browser hydrates from the very data the HTML was rendered with.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::csp::sign_in;
use super::support::servers;

/// The serialized resources of a page, by ID, in the order they appear.
fn serialized_resources(html: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let marker = "__RESOLVED_RESOURCES[";
    for (start, _) in html.match_indices(marker) {
        let rest = &html[start + marker.len()..];
        let Some(close) = rest.find("] = ") else { continue };
        let Ok(id) = rest[..close].parse::<usize>() else { continue };
        let value = &rest[close + 4..];
        let end = value.find("\";").map_or(value.len(), |end| end + 1);
        found.push((id, value[..end].to_owned()));
    }
    found
}

#[tokio::test]
async fn gated_pages_fetch_each_resource_once_on_the_server() {
    for s in servers().await {
        let admin = s.services.bootstrap("admin@localhost", s.now()).await.unwrap().unwrap();
        let cookie = sign_in(&s, "admin@localhost", &admin.password).await;
        let t = admin.tenant_id.as_str();
        // The user, the tenant and the page's own list: three, not five;
        // the keys page also reads its rotation schedule, and the security
        // page its DPoP nonce setting.
        for (path, expected) in [
            (format!("/t/{t}/roles"), 3),
            (format!("/t/{t}/keys"), 4),
            (format!("/t/{t}/applications"), 3),
            (format!("/t/{t}/security"), 4),
            (format!("/t/{t}/trusted-issuers"), 3),
            ("/tenants".to_owned(), 2),
            // The user and the account's two-factor status.
            ("/account".to_owned(), 2),
        ] {
            let reply = s.send(Request::get(&path).header("cookie", &cookie).body(Body::empty()).unwrap()).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            let resources = serialized_resources(&reply.text());
            let ids: Vec<usize> = resources.iter().map(|(id, _)| *id).collect();
            assert_eq!(resources.len(), expected, "{} {path}: resources {ids:?}", s.backend);
            // Two different settings may both serialize as `{"Ok":false}`;
            // only a longer value seen twice means one resource fetched twice
            // (the count above catches that for every value).
            for (i, (id, value)) in resources.iter().enumerate().filter(|(_, (_, value))| value.len() > 20) {
                assert!(
                    resources[i + 1..].iter().all(|(_, other)| other != value),
                    "{path}: resource {id} was fetched twice: {value}"
                );
            }
        }
    }
}
