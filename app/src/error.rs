//! The error the dashboard's server functions return: a kind the page can
//! act on and a message fit to show a person.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

mod server_fn_error {
    pub(super) use leptos::server_fn::codec::JsonEncoding;
    pub(super) use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    Unauthenticated,
    Forbidden,
    /// The tenant requires two-factor sign-in for admins and the user has none.
    SecondFactorRequired,
    NotFound,
    Validation,
    Conflict,
    RateLimited,
    Unavailable,
    Internal,
    Network,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
}

impl AppError {
    /// An error of `kind`. On the server, inside a server-function call, it
    /// also sets the answer's HTTP status (401, 400, 403, 404, 409, 429, …),
    /// so that every refusal, whichever way it was built, is a 4xx and only
    /// real faults are a 5xx.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        #[cfg(feature = "ssr")]
        crate::ssr::set_error_status(kind);
        Self { kind, message: message.into() }
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorKind::Unauthenticated, "Your session has ended. Sign in again.")
    }

    pub fn internal() -> Self {
        Self::new(ErrorKind::Internal, "Something went wrong on the server. Try again in a moment.")
    }
}

impl FromServerFnError for AppError {
    type Encoder = server_fn_error::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                Self::new(ErrorKind::Network, "Could not reach Clavis. Check your connection and try again.")
            }
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                Self::new(ErrorKind::Validation, "The request was incomplete. Reload the page and try again.")
            }
            _ => Self::internal(),
        }
    }
}

/// Domain messages are lower-case fragments ("name must be 1 to 50
/// characters"); the page shows them as sentences.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut text: String = first.to_uppercase().chain(chars).collect();
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

impl ErrorKind {
    /// The HTTP status a server-function call answers with, so scripts and
    /// the browser's network panel see a meaningful code rather than 500.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden | ErrorKind::SecondFactorRequired => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Validation => 400,
            ErrorKind::Conflict => 409,
            ErrorKind::RateLimited => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal | ErrorKind::Network => 500,
        }
    }
}

#[cfg(feature = "ssr")]
/// Every branch builds with [`AppError::new`], which sets the answer's status.
impl From<domain::Error> for AppError {
    fn from(err: domain::Error) -> Self {
        use domain::Error as E;
        match err {
            E::NotFound(what) => {
                Self::new(ErrorKind::NotFound, format!("That {what} does not exist or you cannot see it."))
            }
            E::Conflict(message) => Self::new(ErrorKind::Conflict, sentence(&message)),
            E::Validation(message) => Self::new(ErrorKind::Validation, sentence(&message)),
            E::Forbidden => Self::new(ErrorKind::Forbidden, "Your role does not allow this."),
            E::Unauthenticated => Self::unauthenticated(),
            E::SecondFactorRequired => Self::new(
                ErrorKind::SecondFactorRequired,
                "This tenant requires two-factor sign-in for admins. Set up two-factor to continue.",
            ),
            E::RateLimited { retry_after_secs } => Self::new(
                ErrorKind::RateLimited,
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
            ),
            E::Busy => Self::new(ErrorKind::RateLimited, "Clavis is busy. Try again in a moment."),
            E::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                Self::new(ErrorKind::Unavailable, "Clavis cannot reach its database right now. Try again shortly.")
            }
            E::Internal(detail) => {
                tracing::error!(%detail, "internal error in a server function");
                Self::internal()
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// An argument that names none of an enum's values (a role, an access).
    pub fn from_parse(err: clavis_types::ParseEnumError) -> Self {
        Self::from(domain::Error::from(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_fragments_become_sentences() {
        assert_eq!(sentence("name must be 1 to 50 characters"), "Name must be 1 to 50 characters.");
        assert_eq!(sentence("élan is taken."), "Élan is taken.");
        assert_eq!(sentence("  "), "");
    }

    #[test]
    fn refusals_answer_with_their_own_status() {
        assert_eq!(ErrorKind::Forbidden.http_status(), 403);
        assert_eq!(ErrorKind::NotFound.http_status(), 404);
        assert_eq!(ErrorKind::Validation.http_status(), 400);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn domain_errors_map_to_readable_messages() {
        let err = AppError::from(domain::Error::Forbidden);
        assert_eq!(err.kind, ErrorKind::Forbidden);
        assert_eq!(err.message, "Your role does not allow this.");
        let err = AppError::from(domain::Error::Internal("db file locked at /secret/path".into()));
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(!err.message.contains("/secret/path"));
    }
}
