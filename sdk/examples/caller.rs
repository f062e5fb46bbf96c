//! A caller that gets a token for the protected resource from Clavis and calls it.
//!
//! ```text
//! CLAVIS_OAUTH_SERVER_URL=http://127.0.0.1:3000/oauth/v4/<tenantId> \
//! CLAVIS_CLIENT_ID=<clientId> CLAVIS_CLIENT_SECRET=<secret> \
//! CLAVIS_AUDIENCE=<the protected application's clientId> \
//!     cargo run -p clavis-sdk --example caller
//! ```
//!
//! Asks for a token with `audience` = `CLAVIS_AUDIENCE` (required) and
//! `scope` = `CLAVIS_SCOPE` (default `read`), then sends `GET` to the
//! resource, or `POST` when `CLAVIS_METHOD=POST` (the resource's POST needs
//! the scope `write`). Optional: `CLAVIS_RESOURCE_URL` (default
//! `http://127.0.0.1:8081/protected_resource`).

use clavis_sdk::TokenManager;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("caller: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let audience =
        env("CLAVIS_AUDIENCE").map_err(|_| "set CLAVIS_AUDIENCE to the protected application's client ID")?;
    let scope = env("CLAVIS_SCOPE").unwrap_or_else(|_| "read".into());
    let tokens =
        TokenManager::builder(env("CLAVIS_OAUTH_SERVER_URL")?, env("CLAVIS_CLIENT_ID")?, env("CLAVIS_CLIENT_SECRET")?)
            .audience(audience)
            .scope(scope)
            .build()?;
    let resource = env("CLAVIS_RESOURCE_URL").unwrap_or_else(|_| "http://127.0.0.1:8081/protected_resource".into());
    let post = env("CLAVIS_METHOD").is_ok_and(|method| method.eq_ignore_ascii_case("POST"));

    let token = tokens.access_token().await?;
    println!("got {token:?}");
    let client = reqwest::Client::new();
    let request = if post { client.post(&resource) } else { client.get(&resource) };
    let response = request.bearer_auth(token.as_str()).send().await?;
    let status = response.status();
    let challenge =
        response.headers().get(reqwest::header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().await?;
    println!("{} {resource} answered {status}", if post { "POST" } else { "GET" });
    if let Some(challenge) = challenge {
        println!("WWW-Authenticate: {challenge}");
    }
    println!("{body}");
    if !status.is_success() {
        return Err(format!("the resource refused the call ({status})").into());
    }
    Ok(())
}
