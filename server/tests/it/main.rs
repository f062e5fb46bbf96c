//! HTTP tests of the Clavis router, on SQLite and (when
//! `CLAVIS_TEST_POSTGRES_URL` is set) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test binary exports nothing; `pub` marks what its modules share.
#![allow(unreachable_pub)]

mod accounts;
mod cli;
mod concurrent_start;
mod csp;
mod dashboard;
mod dashboard_kill_switches;
mod dashboard_users;
mod dpop;
mod federated;
mod hydration;
mod management;
mod member_cli;
mod oauth;
mod oauth_multipart;
mod operability;
mod password_grant;
mod private_key_jwt;
mod replicas;
mod second_factor;
mod support;
mod user_cli;
