//! The service layer's error type; the HTTP and UI adapters map it once each.

use sea_orm::DbErr;

/// What a domain service call can fail with.
///
/// Messages of the client-facing variants are safe to show; `Unavailable` and
/// `Internal` carry detail for the log only, never for a response body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Validation(String),
    #[error("you are not allowed to do that")]
    Forbidden,
    #[error("authentication required")]
    Unauthenticated,
    /// An admin of a tenant that requires two-factor sign-in has none yet.
    #[error("this tenant requires two-factor sign-in for admins; set up two-factor to continue")]
    SecondFactorRequired,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// More work of a costly kind (password verification) is waiting than
    /// the server queues: the caller should come back shortly.
    #[error("the server is busy; try again shortly")]
    Busy,
    #[error("the database is unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl Error {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    pub fn internal(context: impl std::fmt::Display) -> Self {
        Self::Internal(context.to_string())
    }
}

impl From<clavis_types::ParseEnumError> for Error {
    fn from(err: clavis_types::ParseEnumError) -> Self {
        Self::Validation(err.to_string())
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        // A lost connection is the operator's problem, not a bug: report it as
        // unavailability (503) so clients retry instead of giving up.
        if database_away(&err) { Self::Unavailable(err.to_string()) } else { Self::Internal(err.to_string()) }
    }
}

/// Whether `err` says the database cannot be reached right now (a refused,
/// reset or closed connection, an exhausted pool, a server shutting down or
/// starting up) rather than that the statement failed.
fn database_away(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx_err)) | DbErr::Query(RuntimeErr::SqlxError(sqlx_err)) => {
            match sqlx_err {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => {
                    return true;
                }
                // SQLSTATE class 08 (connection exception) and 57P (operator
                // intervention): a statement on a pooled connection while
                // PostgreSQL restarts fails with 57P01 admin_shutdown, and a
                // new connection meanwhile with 57P03 cannot_connect_now.
                sqlx::Error::Database(db_err)
                    if db_err.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")) =>
                {
                    return true;
                }
                _ => {}
            }
        }
        _ => {}
    }
    let text = err.to_string();
    text.contains("PoolTimedOut") || text.contains("Connection refused") || text.contains("connection closed")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use sea_orm::{RuntimeErr, sqlx};

    use super::*;

    /// A database error with a given SQLSTATE, as PostgreSQL sends them.
    #[derive(Debug)]
    struct Sqlstate(&'static str);

    impl std::fmt::Display for Sqlstate {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl sqlx::error::DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            "terminating connection due to administrator command"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn query_failed(code: &'static str) -> Error {
        DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(Box::new(Sqlstate(code))))).into()
    }

    #[test]
    fn a_database_restarting_under_a_query_is_unavailability_not_an_internal_error() {
        for code in ["57P01", "57P02", "57P03", "08006", "08003"] {
            assert!(matches!(query_failed(code), Error::Unavailable(_)), "{code}");
        }
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(matches!(
            Error::from(DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Io(reset)))),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            Error::from(DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::PoolTimedOut))),
            Error::Unavailable(_)
        ));
    }

    #[test]
    fn a_failing_statement_stays_an_internal_error() {
        // unique_violation, syntax_error, undefined_table
        for code in ["23505", "42601", "42P01"] {
            assert!(matches!(query_failed(code), Error::Internal(_)), "{code}");
        }
    }
}
