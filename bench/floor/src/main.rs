//! Benchmark only: the floor of a token request, measured beside Clavis by
//! `bench/run`'s pinned mode. It serves the token endpoint's path over the
//! same stack (tokio, hyper, axum, the same extractors and body reading),
//! signs a claims set of a real token's shape with Clavis's own signer
//! (`clavis_oauth::jose::sign`) and answers the same JSON, written by the
//! same writer (`clavis_oauth::token_response`), with the same
//! headers; it does nothing else (no client authentication, no form, no
//! caches, no layers). What Clavis spends beyond it is the cost of being an
//! authorization server. Never part of a normal build of Clavis.
//!
//! ```sh
//! clavis-floor --alg ES256 --addr 127.0.0.1:9000
//! clavis-floor --alg ES256 --signing-seconds 2
//! ```
//!
//! The second form serves nothing: it signs the same claims for about that
//! many seconds, in batches, and prints the fastest batch's microseconds per
//! signature, the part of every token that no server can avoid.
//!
//! Routes, under `/oauth/v4/{tenant_id}` as in Clavis: `POST /token`, and
//! for the benchmark's token verifier `GET /.well-known/openid-configuration`
//! and `GET /publickeys`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clavis_oauth::access_token::{AMR_CLIENT_CREDENTIALS, GRANT_TYPE_CLAIM};
use clavis_oauth::jose::Algorithm;
use clavis_oauth::jose::jwk::JwkSet;
use clavis_oauth::jose::sign::{self, Signer};
use clavis_oauth::token_response::TokenAnswer;

/// The same limit as Clavis's OAuth endpoints.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// Identifiers as long as Clavis's (UUIDs), so the signed input and the
/// answer are the size of a real token's.
const TENANT_ID: &str = "00000000-0000-4000-8000-00000000f100";
const CLIENT_ID: &str = "00000000-0000-4000-8000-00000000c11e";
const JTI: &str = "0000000000004000800000000000f100";
const SCOPE: &str = "appid_default";
const LIFETIME_SECS: i64 = 3600;

struct Floor {
    signer: Signer,
    /// The claims, serialized once: what a token request signs.
    claims: Vec<u8>,
    issuer: String,
    jwks: String,
}

/// Clavis's allocator, so that the floor differs from Clavis only in what
/// Clavis does.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("clavis-floor: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What the floor was asked to do.
enum Mode {
    Serve(SocketAddr),
    MeasureSigning(Duration),
}

/// Batches of the signing measurement: the fastest is reported, as the one
/// least disturbed by anything else the machine ran.
const SIGNING_BATCHES: u32 = 10;

async fn run() -> Result<(), String> {
    let (alg, mode) = arguments()?;
    let key = sign::generate(alg).map_err(|err| err.to_string())?;
    let signer = Signer::from_pkcs8(&key.kid, alg, &key.pkcs8_der).map_err(|err| err.to_string())?;
    let addr = match mode {
        Mode::Serve(addr) => addr,
        Mode::MeasureSigning(total) => {
            // An issuer as long as a served one's, so the input is the same size.
            let claims = claims_of(&format!("http://127.0.0.1:65535/oauth/v4/{TENANT_ID}"))?;
            println!("{:.2}", fastest_signature_micros(&signer, &claims, total)?);
            return Ok(());
        }
    };
    let issuer = format!("http://{addr}/oauth/v4/{TENANT_ID}");
    let jwks = serde_json::to_string(&JwkSet { keys: vec![key.public_jwk] }).map_err(|err| err.to_string())?;
    let claims = claims_of(&issuer)?;
    let floor = Arc::new(Floor { signer, claims, issuer, jwks });

    let tenant_routes = Router::new()
        .route("/token", post(token))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/publickeys", get(publickeys));
    let app = Router::new().nest("/oauth/v4/{tenant_id}", tenant_routes).with_state(floor);
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|err| format!("cannot listen on {addr}: {err}"))?;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.map_err(|err| err.to_string())
}

/// The claims every token of the floor signs, serialized once.
fn claims_of(issuer: &str) -> Result<Vec<u8>, String> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|err| err.to_string())?.as_secs();
    let iat = i64::try_from(now).map_err(|err| err.to_string())?;
    // The members of a client credentials token, with values of the same
    // length, so the signed input is as long as a real token's.
    let claims = serde_json::json!({
        "iss": issuer,
        "sub": CLIENT_ID,
        "client_id": CLIENT_ID,
        "azp": CLIENT_ID,
        "aud": [CLIENT_ID],
        "iat": iat,
        // Fixed claims must stay valid for the whole run and its verification.
        "exp": iat + 24 * LIFETIME_SECS,
        "jti": JTI,
        "tenant": TENANT_ID,
        "scope": SCOPE,
        "amr": [AMR_CLIENT_CREDENTIALS],
        "gty": GRANT_TYPE_CLAIM,
    });
    serde_json::to_vec(&claims).map_err(|err| err.to_string())
}

/// Signs `claims` in [`SIGNING_BATCHES`] batches filling `total`, after one
/// unmeasured batch, and returns the fastest batch's mean.
fn fastest_signature_micros(signer: &Signer, claims: &[u8], total: Duration) -> Result<f64, String> {
    let batch = total / SIGNING_BATCHES;
    let mut fastest = f64::INFINITY;
    for measured in std::iter::once(false).chain(std::iter::repeat_n(true, SIGNING_BATCHES as usize)) {
        let started = Instant::now();
        let mut signatures = 0_u32;
        while started.elapsed() < batch {
            std::hint::black_box(signer.sign_jwt(std::hint::black_box(claims)).map_err(|err| err.to_string())?);
            signatures += 1;
        }
        if measured {
            fastest = fastest.min(started.elapsed().as_secs_f64() * 1e6 / f64::from(signatures));
        }
    }
    Ok(fastest)
}

fn arguments() -> Result<(Algorithm, Mode), String> {
    const USAGE: &str = "usage: clavis-floor --alg RS256|ES256|EdDSA (--addr HOST:PORT | --signing-seconds SECONDS)";
    let mut alg = None;
    let mut mode = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(USAGE)?;
        match flag.as_str() {
            "--alg" => alg = Some(Algorithm::from_name(&value).ok_or_else(|| format!("unknown algorithm {value}"))?),
            "--addr" => mode = Some(Mode::Serve(value.parse().map_err(|_| format!("not an address: {value}"))?)),
            "--signing-seconds" => {
                let seconds: f64 = value.parse().map_err(|_| format!("not a number of seconds: {value}"))?;
                if !(0.1..=60.0).contains(&seconds) {
                    return Err(format!("--signing-seconds must be between 0.1 and 60, got {value}"));
                }
                mode = Some(Mode::MeasureSigning(Duration::from_secs_f64(seconds)));
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok((alg.ok_or(USAGE)?, mode.ok_or(USAGE)?))
}

/// Reads the request as Clavis's token handler does (the path's tenant, the
/// whole request, the body within the limit), signs, answers.
async fn token(State(floor): State<Arc<Floor>>, Path(_tenant_id): Path<String>, request: Request) -> Response {
    let (_parts, body) = request.into_parts();
    if axum::body::to_bytes(body, MAX_BODY_BYTES).await.is_err() {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let Ok(access_token) = floor.signer.sign_jwt(&floor.claims) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // Clavis's own answer writer, as for the signer: the floor is what any
    // token request costs, so it writes the answer as fast as Clavis does.
    let json = TokenAnswer {
        access_token: &access_token,
        token_type: "Bearer",
        expires_in: LIFETIME_SECS,
        scope: SCOPE,
        id_token: None,
        refresh_token: None,
    }
    .to_json();
    let mut response = (StatusCode::OK, json).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

async fn discovery(State(floor): State<Arc<Floor>>) -> Response {
    let body = serde_json::json!({"issuer": floor.issuer, "jwks_uri": format!("{}/publickeys", floor.issuer)});
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn publickeys(State(floor): State<Arc<Floor>>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], floor.jwks.clone()).into_response()
}
