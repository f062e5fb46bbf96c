//! Server functions, grouped by page. Each one is thin: it checks the
//! session, builds the caller's scope through the domain's auth, and makes
//! one domain call, so the dashboard and the REST API share every rule.

pub mod account;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod directory;
pub mod invitations;
pub mod key_rotation;
pub mod keys;
pub mod members;
pub mod roles;
pub mod tenants;
pub mod totp;
pub mod trusted_issuers;
