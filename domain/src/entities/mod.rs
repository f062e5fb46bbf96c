//! sea-orm entities: one module per table of the initial migration. Private
//! to the service layer: adapters see the services' typed results, never rows.

// sea-orm's derives generate `pub` items (Entity, Column, ActiveModel, ...).
#![allow(unreachable_pub)]

pub mod application;
pub mod application_role;
pub mod application_usage;
pub mod audit_event;
pub mod client_secret;
pub mod directory_user;
pub mod directory_user_role;
pub mod federated_credential;
pub mod invitation;
pub mod membership;
pub mod password_reset;
pub mod pending_sign_in;
pub mod recovery_code;
pub mod refresh_token;
pub mod revoked_token;
pub mod role;
pub mod role_scope;
pub mod session;
pub mod signing_key;
pub mod tenant;
pub mod trusted_issuer;
pub mod user;
pub mod user_totp;
