//! Integration tests of the Clavis SDK against an issuer over HTTP.
//!
//! The scenarios are generic over `support::Issuer`; today they run against
//! `support::FakeIssuer`, an in-test tenant. A fixture that starts the real
//! Clavis server can implement `Issuer` and reuse them.

// Fixtures and scenarios are test code even where they are not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod layer;
mod support;
mod token_manager;
