//! Server functions, grouped by page.

pub mod auth;
