//! Clavis SDK: obtain access tokens as a caller, and protect an API as a resource server.
//!
//! Two halves, matching the two sides of the OAuth 2.0 client credentials flow:
//!
//! - **Callers** use [`TokenManager`]: it trades a client ID and secret for an
//!   access token at the tenant's token endpoint, caches it, refreshes it
//!   ahead of expiry, shares one in-flight request between concurrent callers
//!   and retries transient failures with jittered backoff. Instead of a
//!   secret it can sign assertions with a [`PrivateKey`]
//!   ([`TokenManager::with_private_key`], RFC 7523) or send a token another
//!   issuer gave the workload, read from its file on every request
//!   ([`TokenManager::with_federated_token_file`]); with a DPoP key
//!   ([`TokenManagerBuilder::dpop_key`]) its tokens are bound to that key
//!   (RFC 9449) and [`TokenManager::authorize`] gives each API request its
//!   proof.
//! - **Resource servers** use [`TokenValidator`] with [`ProtectLayer`] (a
//!   tower [`Layer`](tower::Layer) usable with axum 0.8) and the [`Claims`]
//!   extractor: the layer validates `Authorization: Bearer` tokens offline
//!   against the issuer's published keys (found through discovery) and answers
//!   per RFC 6750 when a token is missing, invalid or lacks a scope. It also
//!   accepts DPoP-bound tokens (`Authorization: DPoP`) with their proof, and
//!   refuses them as plain bearer tokens.
//!
//! Secure by default:
//!
//! - A validator must be told the audience it expects (this API's
//!   identifier): [`TokenValidatorBuilder::build`] fails with
//!   [`BuildError::MissingAudience`] otherwise, unless
//!   [`allow_any_audience`](TokenValidatorBuilder::allow_any_audience) opts out
//!   by name.
//! - Tokens must carry the header `typ: at+jwt` (RFC 9068 §4);
//!   [`allow_any_token_type`](TokenValidatorBuilder::allow_any_token_type)
//!   opts out.
//! - Routes can require their own scopes with
//!   [`ProtectLayer::require_scopes`].
//! - Issuer, token and JWKS URLs must be https; plain http is accepted only
//!   for loopback hosts (127.0.0.0/8, `::1`, `localhost`), for development
//!   and tests.
//! - Response bodies are read with a 1 MiB cap, and absurd `expires_in`,
//!   `exp` or `nbf` values cannot overflow or panic.
//!
//! # Calling an API
//!
//! ```no_run
//! use clavis_sdk::TokenManager;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = TokenManager::builder("http://127.0.0.1:3000/oauth/v4/my-tenant", "client-id", "client-secret")
//!     .audience("orders-api-client-id")
//!     .scopes(["read"])
//!     .build()?;
//! let token = tokens.access_token().await?;
//! let answer = reqwest::Client::new()
//!     .get("http://127.0.0.1:8081/protected_resource")
//!     .bearer_auth(token.as_str())
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Without a secret, with a DPoP-bound token
//!
//! ```no_run
//! use clavis_sdk::{PrivateKey, SigningAlgorithm, TokenManager};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = PrivateKey::from_pem(&std::fs::read_to_string("client-key.pem")?)?;
//! let tokens = TokenManager::with_private_key("https://auth.example/oauth/v4/my-tenant", "client-id", key)
//!     .audience("orders-api-client-id")
//!     .dpop_key(PrivateKey::generate(SigningAlgorithm::Es256)?)
//!     .build()?;
//! let url = "https://orders.example/orders";
//! let auth = tokens.authorize("GET", url).await?;
//! let mut request = reqwest::Client::new().get(url).header("Authorization", auth.authorization());
//! if let Some(proof) = auth.dpop() {
//!     request = request.header("DPoP", proof);
//! }
//! let answer = request.send().await?;
//! # Ok(()) }
//! ```
//!
//! # Protecting an API
//!
//! `GET /orders` needs the scope `read`, `POST /orders` needs `write`; both
//! need a token whose `aud` names this API.
//!
//! ```no_run
//! use axum::{Router, routing::{get, post}};
//! use clavis_sdk::{Claims, ProtectLayer, TokenValidator};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let validator = TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/my-tenant")
//!     .audience("orders-api-client-id")
//!     .build()?;
//! let protect = ProtectLayer::new(validator);
//! let app: Router = Router::new()
//!     .route("/orders", get(|claims: Claims| async move { format!("orders of {}", claims.sub) })
//!         .route_layer(protect.clone().require_scopes(["read"])))
//!     .route("/orders", post(|claims: Claims| async move { format!("created by {}", claims.sub) })
//!         .route_layer(protect.require_scopes(["write"])));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod auth_error;
mod claims;
mod clock;
mod dpop_check;
mod error;
mod http;
mod jwks;
mod keys;
mod layer;
mod secret;
mod token_manager;
mod validator;

pub use auth_error::AuthError;
pub use claims::{Audience, Claims, Confirmation};
pub use clavis_oauth::jose::Algorithm;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::BuildError;
pub use keys::{KeyError, PrivateKey, SigningAlgorithm};
pub use layer::{Protect, ProtectLayer};
pub use secret::{AccessToken, ClientSecret};
pub use token_manager::{Authorization, ClientAuth, RetryPolicy, TokenError, TokenManager, TokenManagerBuilder};
pub use validator::{TokenValidator, TokenValidatorBuilder};
