//! Database tests of the domain services, on SQLite and (when
//! `CLAVIS_TEST_POSTGRES_URL` is set) PostgreSQL.

mod applications;
mod support;
mod tokens;
mod users;
