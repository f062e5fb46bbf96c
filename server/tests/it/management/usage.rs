//! `GET /applications/{clientId}/usage`: per-minute token counts.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use clavis_types::ManagementAccess;

use super::super::support::servers;
use super::{Fixture, assert_error, call, token_of};

#[tokio::test]
async fn usage_counts_tokens_per_minute() {
    for s in servers().await {
        let f = Fixture::new(&s, "Acme").await;
        let app = s.app(&f.scope, "billing", ManagementAccess::None).await;
        let secret = app.secret.clone().unwrap();
        let path = f.app_path(&app.client_id, "/usage");

        let empty = call(&s, Method::GET, &path, Some(&f.token), None).await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.text());
        let json = empty.json();
        assert_eq!(json["clientId"], app.client_id.as_str());
        assert_eq!(json["tokensIssued"], 0);
        assert_eq!(json["perMinute"].as_array().unwrap().len(), 60, "the last hour by default");

        for _ in 0..3 {
            token_of(&s, &f.tenant.tenant_id, &app.client_id, &secret).await;
        }
        s.clock.advance(Duration::seconds(60));
        token_of(&s, &f.tenant.tenant_id, &app.client_id, &secret).await;
        s.services.flush_usage().await.unwrap();

        let usage = call(&s, Method::GET, &format!("{path}?minutes=3"), Some(&f.token), None).await.json();
        assert_eq!(usage["perMinute"], serde_json::json!([0, 3, 1]), "{} {usage}", s.backend);
        assert_eq!(usage["tokensIssued"], 4);
        let from = chrono::DateTime::parse_from_rfc3339(usage["from"].as_str().unwrap()).unwrap();
        assert_eq!(from.timestamp() % 60, 0, "minutes start on the minute");

        for bad in ["?minutes=0", "?minutes=1441", "?minutes=many", "?minutes=5&extra=1"] {
            let reply = call(&s, Method::GET, &format!("{path}{bad}"), Some(&f.token), None).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        let unknown = f.app_path(&uuid::Uuid::new_v4().to_string(), "/usage");
        assert_error(&call(&s, Method::GET, &unknown, Some(&f.token), None).await, StatusCode::NOT_FOUND, "not_found");

        // Read access is enough.
        let reader = s.app(&f.scope, "grafana", ManagementAccess::Read).await;
        let read_token = s.management_token_for(&reader).await;
        assert_eq!(call(&s, Method::GET, &path, Some(&read_token), None).await.status, StatusCode::OK);
    }
}
