//! The server's side of `AppError`: an unexpected failure is logged here with its cause, and the
//! client gets only the generic `Internal` error.
//!
//! Guarantee: the cause of an internal error (a SQL message, a path) never reaches the client.

use app::error::AppError;
use std::fmt::Display;

/// Logs an unexpected failure with its cause and answers the generic `Internal` error.
pub fn internal(error: impl Display) -> AppError {
    tracing::error!(error = %error, "internal error");
    AppError::Internal
}
