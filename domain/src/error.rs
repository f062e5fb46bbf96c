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
        match err {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::Unavailable(err.to_string()),
            other => {
                let text = other.to_string();
                if text.contains("PoolTimedOut")
                    || text.contains("Connection refused")
                    || text.contains("connection closed")
                {
                    Self::Unavailable(text)
                } else {
                    Self::Internal(text)
                }
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
