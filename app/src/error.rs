//! `AppError` is the only error type that crosses the wire, both from server functions and from
//! the REST API. Its messages are written for people and never carry a secret, a password, a
//! token or an internal cause: the server logs the cause and sends `Internal` with a generic text.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Something went wrong on our side. The error was logged; please try again.")]
    Internal,
    /// The request never reached our code (network down, malformed arguments).
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn forbidden() -> Self {
        Self::Forbidden("Your role in this workspace does not allow this.".into())
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found."))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// The HTTP status this error answers with, on every transport.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::Transport(_) => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::RateLimited { .. } => 429,
            Self::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Argument errors are the caller's fault: say so, without echoing the input.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                Self::BadRequest("The form was incomplete or malformed.".into())
            }
            ServerFnErrorErr::Request(e) => Self::Transport(e),
            _ => Self::Internal,
        }
    }
}
