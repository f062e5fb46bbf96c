//! One module per page, plus the chrome they share.

pub mod applications;
pub mod home;
pub mod layout;
pub mod login;
pub mod not_found;
