//! A recording token endpoint: keeps every request it gets (headers and form) and answers as told, so tests can check what the TokenManager sent.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// One request as the stub received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub form: Vec<(String, String)>,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The values of header `name`.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers.get_all(name).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }
}

/// How the stub answers.
#[derive(Debug, Clone)]
pub struct Script {
    /// The `token_type` of successful answers.
    pub token_type: &'static str,
    /// When set, a proof without this nonce gets 400 `use_dpop_nonce` with it.
    pub required_nonce: Option<String>,
    /// Demand a nonce every time, whatever the proof says.
    pub always_demand_nonce: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self { token_type: "Bearer", required_nonce: None, always_demand_nonce: false }
    }
}

struct Shared {
    script: Mutex<Script>,
    received: Mutex<Vec<Received>>,
}

pub struct StubTokenEndpoint {
    shared: Arc<Shared>,
    base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StubTokenEndpoint {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl StubTokenEndpoint {
    pub async fn start(script: Script) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/oauth/v4/stub", listener.local_addr().unwrap());
        let shared = Arc::new(Shared { script: Mutex::new(script), received: Mutex::new(Vec::new()) });
        let app = Router::new().route("/oauth/v4/stub/token", post(token)).with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { shared, base, server }
    }

    /// The `oAuthServerUrl` to build a manager with.
    pub fn oauth_server_url(&self) -> &str {
        &self.base
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn set_script(&self, script: Script) {
        *self.shared.script.lock().unwrap() = script;
    }
}

/// The claims of a compact JWS, unverified.
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The header of a compact JWS.
pub fn jwt_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let count = {
        let mut received = shared.received.lock().unwrap();
        received.push(Received { headers: headers.clone(), form });
        received.len()
    };
    let script = shared.script.lock().unwrap().clone();
    if let Some(nonce) = &script.required_nonce {
        let sent = headers
            .get("dpop")
            .map(|proof| jwt_claims(proof.to_str().unwrap())["nonce"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if script.always_demand_nonce || sent.as_deref() != Some(nonce.as_str()) {
            let body = json!({"error": "use_dpop_nonce", "error_description": "use the nonce"});
            let mut response = (StatusCode::BAD_REQUEST, Json(body)).into_response();
            response.headers_mut().insert("DPoP-Nonce", HeaderValue::from_str(nonce).unwrap());
            return response;
        }
    }
    let body = json!({"access_token": format!("token-{count}"), "token_type": script.token_type, "expires_in": 3600});
    Json(body).into_response()
}
