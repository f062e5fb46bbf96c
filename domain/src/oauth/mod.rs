//! Pure OAuth 2.0 protocol code: request parsing, client authentication
//! syntax, the access-token format, server metadata and RFC error codes.
//!
//! Nothing here touches a database, the network or the clock: callers pass in
//! the bytes they received and the `now` they trust.

pub mod access_token;
pub mod client_auth;
pub mod error;
pub mod introspection;
pub mod metadata;
pub mod params;
pub mod scope;
pub mod token_request;

pub use error::{ErrorCode, OAuthError};
