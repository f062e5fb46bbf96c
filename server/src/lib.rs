//! The Clavis server: configuration, start-up, the HTTP surface (dashboard,
//! OAuth endpoints, probes) and the command line, as thin adapters over the
//! `domain` services.

// Leptos's nested view types exceed the default when rendered on the server.
#![recursion_limit = "256"]

pub mod cli;
pub mod config;
pub mod http;
pub mod startup;
pub mod wire;
