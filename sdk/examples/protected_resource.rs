//! A resource server with `GET /protected_resource` behind Clavis token validation.
//!
//! ```text
//! CLAVIS_OAUTH_SERVER_URL=http://127.0.0.1:3000/oauth/v4/<tenantId> \
//!     cargo run -p clavis-sdk --example protected_resource
//! ```
//!
//! Listens on 127.0.0.1:8081. Optional: `CLAVIS_AUDIENCE` (required `aud`
//! entry) and `CLAVIS_REQUIRED_SCOPES` (space-separated, default
//! `appid_default`).

use axum::routing::get;
use axum::{Json, Router};
use clavis_sdk::{Claims, ProtectLayer, TokenValidator};
use serde_json::{Value, json};

async fn protected_resource(claims: Claims) -> Json<Value> {
    Json(json!({
        "message": "Hello from the protected resource",
        "client_id": claims.sub,
        "tenant": claims.tenant,
        "scope": claims.scope,
    }))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("protected_resource: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("CLAVIS_OAUTH_SERVER_URL")
        .map_err(|_| "set CLAVIS_OAUTH_SERVER_URL to the tenant's oAuthServerUrl")?;
    let scopes = std::env::var("CLAVIS_REQUIRED_SCOPES").unwrap_or_else(|_| "appid_default".into());
    let mut validator =
        TokenValidator::builder(&issuer).required_scopes(scopes.split_whitespace()).realm("protected_resource");
    if let Ok(audience) = std::env::var("CLAVIS_AUDIENCE") {
        validator = validator.audience(audience);
    }
    let app = Router::new()
        .route("/protected_resource", get(protected_resource))
        .layer(ProtectLayer::new(validator.build()?));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    println!("protected_resource listening on http://127.0.0.1:8081/protected_resource");
    println!("accepting tokens issued by {issuer}");
    axum::serve(listener, app).await?;
    Ok(())
}
