//! sea-orm entities: one module per table of the initial migration.

pub mod application;
pub mod application_usage;
pub mod audit_event;
pub mod client_secret;
pub mod membership;
pub mod revoked_token;
pub mod session;
pub mod signing_key;
pub mod tenant;
pub mod user;
