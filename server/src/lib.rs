//! The Clavis server: configuration, start-up, the HTTP surface (dashboard,
//! OAuth endpoints, probes) and the command line, as thin adapters over the
//! `domain` services.

pub mod cli;
pub mod config;
pub mod http;
pub mod startup;
