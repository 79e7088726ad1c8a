//! The service methods that hold the product's rules. The UI's server functions (through the
//! `app::ports::Backend` implementation in `backend.rs`) and the REST API both call these, so
//! each rule is written once.

mod accounts;
mod backend;
mod secrets;
mod tokens;
mod workspaces;

pub use accounts::NewAccount;
pub use secrets::SecretPage;
pub use tokens::TokenInfo;
pub use workspaces::ParticipantPage;

use crate::auth::rate_limit::LoginRateLimiter;
use crate::auth::session::SessionPolicy;
use crate::crypto::Kek;
use crate::db::Db;
use app::error::AppError;
use std::fmt::Display;

pub struct Services {
    pub db: Db,
    /// The key-encryption key; only sealing (writes) and the provisioning path use it.
    pub kek: std::sync::Arc<Kek>,
    pub sessions: SessionPolicy,
    pub login_limiter: LoginRateLimiter,
}

/// Logs an unexpected failure with its cause and answers the generic `Internal` error, so the
/// cause (a SQL message, a path) never reaches the client.
pub fn internal(error: impl Display) -> AppError {
    tracing::error!(error = %error, "internal error");
    AppError::Internal
}

/// Milliseconds since the Unix epoch, UTC: the one place the services read the clock.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
