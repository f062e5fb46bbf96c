//! Clavis SDK: obtain access tokens as a caller, and protect an API as a resource server.
//!
//! Two halves, matching the two sides of the OAuth 2.0 client credentials flow:
//!
//! - **Callers** use [`TokenManager`]: it trades a client ID and secret for an
//!   access token at the tenant's token endpoint, caches it, refreshes it
//!   ahead of expiry, shares one in-flight request between concurrent callers
//!   and retries transient failures with jittered backoff.
//! - **Resource servers** use [`TokenValidator`] with [`ProtectLayer`] (a
//!   tower [`Layer`](tower::Layer) usable with axum 0.8) and the [`Claims`]
//!   extractor: the layer validates `Authorization: Bearer` tokens offline
//!   against the issuer's published keys (found through discovery) and answers
//!   per RFC 6750 when a token is missing, invalid or lacks a scope.
//!
//! # Calling an API
//!
//! ```no_run
//! use clavis_sdk::TokenManager;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = TokenManager::builder("http://127.0.0.1:3000/oauth/v4/my-tenant", "client-id", "client-secret")
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
//! # Protecting an API
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use clavis_sdk::{Claims, ProtectLayer, TokenValidator};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let validator = TokenValidator::builder("http://127.0.0.1:3000/oauth/v4/my-tenant")
//!     .required_scopes(["appid_default"])
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/protected_resource", get(|claims: Claims| async move {
//!         format!("hello, {}", claims.sub)
//!     }))
//!     .layer(ProtectLayer::new(validator));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod claims;
mod clock;
mod error;
mod jwks;
mod layer;
mod secret;
mod token_manager;
mod validator;

pub use claims::{Audience, Claims};
pub use clavis_oauth::jose::Algorithm;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::BuildError;
pub use layer::{Protect, ProtectLayer};
pub use secret::{AccessToken, ClientSecret};
pub use token_manager::{ClientAuth, RetryPolicy, TokenError, TokenManager, TokenManagerBuilder};
pub use validator::{AuthError, TokenValidator, TokenValidatorBuilder};
