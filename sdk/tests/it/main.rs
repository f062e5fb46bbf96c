//! Integration tests of the Clavis SDK against an issuer over HTTP.
//!
//! The scenarios are generic over `support::Issuer`. They run against
//! `support::FakeIssuer`, an in-test tenant (fault injection, forged claims),
//! and against `support::Clavis`, the real server of this workspace started by
//! the test (`against_clavis`; build it first with `cargo build -p server`).

// Fixtures and scenarios are test code even where they are not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test binary exports nothing; `pub` marks what its modules share.
#![allow(unreachable_pub)]

mod access_control;
mod against_clavis;
mod credentials;
mod dpop_client;
mod dpop_layer;
mod hardening;
mod keys_against_clavis;
mod layer;
mod support;
mod token_manager;
