//! Database tests of the domain services, on SQLite and (when
//! `CLAVIS_TEST_POSTGRES_URL` is set) PostgreSQL.

// Fixtures and helpers are test code even where they are not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test binary exports nothing; `pub` marks what its modules share.
#![allow(unreachable_pub)]

mod access;
mod applications;
mod directory;
mod directory_grants;
mod dpop;
mod fast_path;
mod federated;
mod invalidation;
mod invitations;
mod key_schedule;
mod passwords;
mod private_key_jwt;
mod sealing;
mod shared_throttle;
mod shared_throttle_bounds;
mod signing_keys;
mod support;
mod tokens;
mod totp;
mod usage_flush;
mod users;
