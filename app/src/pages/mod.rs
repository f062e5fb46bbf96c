//! One module per page, plus the chrome they share.

pub mod account;
pub mod account_totp;
pub mod application_access;
pub mod application_dialogs;
pub mod application_row;
pub mod application_usage;
pub mod applications;
pub mod audit;
pub mod home;
pub mod invite;
pub mod keys;
pub mod layout;
pub mod login;
pub mod member_invites;
pub mod members;
pub mod not_found;
pub mod reset;
pub mod role_dialogs;
pub mod roles;
pub mod tenant_security;
pub mod tenants;
pub mod user_dialogs;
pub mod user_row;
pub mod users;
