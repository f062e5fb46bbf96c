//! HTTP tests of the Clavis router, on SQLite and (when
//! `CLAVIS_TEST_POSTGRES_URL` is set) PostgreSQL.

mod cli;
mod dashboard;
mod oauth;
mod support;
mod management;
