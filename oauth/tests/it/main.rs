//! Generated-input tests of the protocol crate's parsers: hostile bytes never
//! panic and are refused with a 4xx, and every valid request a generator can
//! build parses back to what was sent.

// Test code: a failed expectation is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test binary exports nothing; `pub` marks what its modules share.
#![allow(unreachable_pub)]

mod client_keys;
mod hostile;
mod regressions;
mod round_trip;
mod strategies;
