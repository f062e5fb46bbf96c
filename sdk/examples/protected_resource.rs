//! A resource server with `/protected_resource` behind Clavis token validation: `GET` needs the
//! scope `read`, `POST` needs `write`, and both need a token whose `aud` names this API.
//!
//! ```text
//! CLAVIS_OAUTH_SERVER_URL=http://127.0.0.1:3000/oauth/v4/<tenantId> \
//! CLAVIS_AUDIENCE=<the protected application's clientId> \
//!     cargo run -p clavis-sdk --example protected_resource
//! ```
//!
//! Listens on 127.0.0.1:8081. `CLAVIS_AUDIENCE` is required: it is this
//! API's identity, the value callers request as `audience`. Optional:
//! `CLAVIS_READ_SCOPE` and `CLAVIS_WRITE_SCOPE` (default `read` and `write`).

use axum::routing::{get, post};
use axum::{Json, Router};
use clavis_sdk::{Claims, ProtectLayer, TokenValidator};
use serde_json::{Value, json};

async fn read(claims: Claims) -> Json<Value> {
    Json(json!({
        "message": "Hello from the protected resource",
        "client_id": claims.sub,
        "tenant": claims.tenant,
        "scope": claims.scope,
    }))
}

async fn write(claims: Claims) -> Json<Value> {
    Json(json!({
        "message": "Written to the protected resource",
        "client_id": claims.sub,
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
    let audience = std::env::var("CLAVIS_AUDIENCE")
        .map_err(|_| "set CLAVIS_AUDIENCE to this API's identity: the protected application's client ID")?;
    let read_scope = std::env::var("CLAVIS_READ_SCOPE").unwrap_or_else(|_| "read".into());
    let write_scope = std::env::var("CLAVIS_WRITE_SCOPE").unwrap_or_else(|_| "write".into());

    // One validator (one key cache) for the whole API; each route adds the
    // scope it needs.
    let validator = TokenValidator::builder(&issuer).audience(&audience).realm("protected_resource").build()?;
    let protect = ProtectLayer::new(validator);
    let app = Router::new()
        .route("/protected_resource", get(read).route_layer(protect.clone().require_scopes([read_scope.as_str()])))
        .route("/protected_resource", post(write).route_layer(protect.require_scopes([write_scope.as_str()])));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    println!("protected_resource listening on http://127.0.0.1:8081/protected_resource");
    println!("accepting tokens issued by {issuer} for audience {audience}");
    println!("GET needs scope {read_scope:?}, POST needs scope {write_scope:?}");
    axum::serve(listener, app).await?;
    Ok(())
}
