//! An in-test stand-in for one Clavis tenant: discovery, JWKS, and a token endpoint that
//! authenticates clients the way Clavis does and signs tokens with generated keys.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::Issuer;
use super::keys::{Alg, SigningKey};

pub const TENANT: &str = "test-tenant";
pub const CLIENT_ID: &str = "client-7f3a";
/// The protected API the fake grants tokens for (any scope asked for).
pub const API_AUDIENCE: &str = "https://api.example";
/// Characters that RFC 6749 §2.3.1 form-encoding must handle.
pub const CLIENT_SECRET: &str = "s3cr:t+/= %&secret";

struct Keys {
    /// Published keys, newest last; the newest signs.
    all: Vec<SigningKey>,
}

struct Shared {
    base_url: String,
    alg: Alg,
    lifetime: u64,
    keys: Mutex<Keys>,
}

/// A fake Clavis tenant on 127.0.0.1 (a random port).
pub struct FakeIssuer {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeIssuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeIssuer {
    /// A fake tenant signing RS256 tokens that live an hour.
    pub async fn start() -> Self {
        Self::start_with(Alg::Rs256, 3600).await
    }

    pub async fn start_with(alg: Alg, lifetime: u64) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base_url = format!("http://{addr}/oauth/v4/{TENANT}");
        let shared = Arc::new(Shared {
            base_url,
            alg,
            lifetime,
            keys: Mutex::new(Keys { all: vec![SigningKey::generate(alg)] }),
        });
        let tenant = format!("/oauth/v4/{TENANT}");
        let app = Router::new()
            .route(&format!("{tenant}/.well-known/openid-configuration"), get(discovery))
            .route(&format!("{tenant}/publickeys"), get(jwks))
            .route(&format!("{tenant}/token"), post(token))
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { shared, server }
    }

    /// Signs `claims` with the current key (for tokens the token endpoint
    /// would never issue).
    pub fn mint(&self, claims: &Value) -> String {
        let keys = self.shared.keys.lock().unwrap();
        keys.all.last().unwrap().mint(claims)
    }

    /// Signs `claims` with the current key under header `typ` (or none).
    pub fn mint_with_typ(&self, typ: Option<&str>, claims: &Value) -> String {
        let keys = self.shared.keys.lock().unwrap();
        keys.all.last().unwrap().mint_with_typ(typ, claims)
    }

    /// The claims the token endpoint would put in a token for `client_id`.
    pub fn claims_for(&self, client_id: &str, scope: Option<&str>, audience: Option<&str>) -> Value {
        claims(&self.shared, client_id, scope, audience)
    }
}

impl Issuer for FakeIssuer {
    fn oauth_server_url(&self) -> String {
        self.shared.base_url.clone()
    }

    fn client_id(&self) -> String {
        CLIENT_ID.into()
    }

    fn client_secret(&self) -> String {
        CLIENT_SECRET.into()
    }

    fn api_audience(&self) -> String {
        API_AUDIENCE.into()
    }

    async fn rotate_signing_key(&self) {
        let key = SigningKey::generate(self.shared.alg);
        self.shared.keys.lock().unwrap().all.push(key);
    }
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let base = &shared.base_url;
    Json(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/publickeys"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let keys = shared.keys.lock().unwrap();
    let mut published: Vec<Value> = keys.all.iter().map(SigningKey::jwk).collect();
    // Keys the SDK must skip without failing: an encryption key and an unknown type.
    published.push(json!({"kty": "RSA", "use": "enc", "kid": "enc-1", "n": "AQAB", "e": "AQAB"}));
    published.push(json!({"kty": "oct", "kid": "hmac-1", "k": "c2VjcmV0"}));
    Json(json!({ "keys": published }))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn claims(shared: &Shared, client_id: &str, scope: Option<&str>, audience: Option<&str>) -> Value {
    let iat = now();
    let mut aud = vec![client_id.to_owned()];
    aud.extend(audience.map(str::to_owned));
    let mut scopes = vec!["appid_default".to_owned()];
    scopes.extend(scope.into_iter().flat_map(str::split_whitespace).map(str::to_owned));
    json!({
        "iss": shared.base_url, "sub": client_id, "client_id": client_id, "azp": client_id,
        "aud": aud, "iat": iat, "exp": iat + shared.lifetime,
        "jti": format!("jti-{}", rand::random::<u64>()), "tenant": TENANT,
        "scope": scopes.join(" "), "amr": ["appid_client_credentials"], "gty": "client-credentials",
    })
}

fn oauth_error(status: StatusCode, error: &str, description: &str, basic: bool) -> Response {
    let body = Json(json!({"error": error, "error_description": description}));
    let mut response = (status, body).into_response();
    if basic {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"clavis\""));
    }
    response
}

fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/x-www-form-urlencoded") {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "form body expected", false);
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if param("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "client_credentials only", false);
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(id, s)| (form_decode(id), form_decode(s))));
    let posted = param("client_id").zip(param("client_secret"));
    let used_basic = basic.is_some();
    let (id, secret) = match (basic, posted) {
        (Some(creds), None) | (None, Some(creds)) => creds,
        (Some(_), Some(_)) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "two client authentications", false);
        }
        (None, None) => {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication required", true);
        }
    };
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed", used_basic);
    }
    let claims = claims(&shared, &id, param("scope").as_deref(), param("audience").as_deref());
    let access_token = {
        let keys = shared.keys.lock().unwrap();
        keys.all.last().unwrap().mint(&claims)
    };
    let body = json!({
        "access_token": access_token, "token_type": "Bearer",
        "expires_in": shared.lifetime, "scope": claims["scope"],
    });
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
