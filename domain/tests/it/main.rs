//! Database tests of the domain services, on SQLite and (when
//! `CLAVIS_TEST_POSTGRES_URL` is set) PostgreSQL.

// Fixtures and helpers are test code even where they are not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod applications;
mod fast_path;
mod support;
mod tokens;
mod users;
