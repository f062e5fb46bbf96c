//! The error the dashboard's server functions return: a kind the page can
//! act on and a message fit to show a person.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// What went wrong, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    Unauthenticated,
    Forbidden,
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
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
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

#[cfg(feature = "ssr")]
impl From<domain::Error> for AppError {
    fn from(err: domain::Error) -> Self {
        use domain::Error as E;
        match err {
            E::NotFound(what) => Self::new(ErrorKind::NotFound, format!("That {what} does not exist or you cannot see it.")),
            E::Conflict(message) => Self::new(ErrorKind::Conflict, message),
            E::Validation(message) => Self::new(ErrorKind::Validation, message),
            E::Forbidden => Self::new(ErrorKind::Forbidden, "Your role does not allow this."),
            E::Unauthenticated => Self::unauthenticated(),
            E::RateLimited { retry_after_secs } => Self::new(
                ErrorKind::RateLimited,
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
            ),
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
