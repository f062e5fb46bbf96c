//! The pure protocol code of Clavis: OAuth 2.0 request parsing (form,
//! multipart and JSON bodies), client authentication syntax, the grants'
//! requests and scope rules, access-token and ID-token claims, bearer token
//! usage, server metadata, RFC error codes, DPoP proofs, and JOSE (JWS signing and
//! verification, JWK/JWKS).
//!
//! Nothing here touches a database, the network, an async runtime or the
//! clock: callers pass in the bytes they received and the `now` they trust.
//! The crate has no such dependency, so the compiler keeps it that way, and
//! it builds for `wasm32-unknown-unknown`.

pub mod access_token;
pub mod bearer;
pub mod client_assertion;
pub mod client_auth;
#[cfg(not(target_arch = "wasm32"))]
pub mod dpop;
pub mod error;
pub mod id_token;
pub mod introspection;
pub mod jose;
pub mod json_out;
pub mod jwt_claims;
pub mod media_type;
pub mod metadata;
pub mod multipart;
pub mod params;
pub mod request;
pub mod scope;
pub mod token_request;
pub mod token_response;

pub use error::{ErrorCode, OAuthError};
