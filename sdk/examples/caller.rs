//! A caller that gets a token from Clavis and calls the protected resource.
//!
//! ```text
//! CLAVIS_OAUTH_SERVER_URL=http://127.0.0.1:3000/oauth/v4/<tenantId> \
//! CLAVIS_CLIENT_ID=<clientId> CLAVIS_CLIENT_SECRET=<secret> \
//!     cargo run -p clavis-sdk --example caller
//! ```
//!
//! Optional: `CLAVIS_RESOURCE_URL` (default
//! `http://127.0.0.1:8081/protected_resource`), `CLAVIS_SCOPE`,
//! `CLAVIS_AUDIENCE`.

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
    let mut tokens =
        TokenManager::builder(env("CLAVIS_OAUTH_SERVER_URL")?, env("CLAVIS_CLIENT_ID")?, env("CLAVIS_CLIENT_SECRET")?);
    if let Ok(scope) = env("CLAVIS_SCOPE") {
        tokens = tokens.scope(scope);
    }
    if let Ok(audience) = env("CLAVIS_AUDIENCE") {
        tokens = tokens.audience(audience);
    }
    let tokens = tokens.build()?;
    let resource = env("CLAVIS_RESOURCE_URL").unwrap_or_else(|_| "http://127.0.0.1:8081/protected_resource".into());

    let token = tokens.access_token().await?;
    println!("got {token:?}");
    let response = reqwest::Client::new().get(&resource).bearer_auth(token.as_str()).send().await?;
    let status = response.status();
    let challenge =
        response.headers().get(reqwest::header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().await?;
    println!("{resource} answered {status}");
    if let Some(challenge) = challenge {
        println!("WWW-Authenticate: {challenge}");
    }
    println!("{body}");
    if !status.is_success() {
        return Err(format!("the resource refused the call ({status})").into());
    }
    Ok(())
}
