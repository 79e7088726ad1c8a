//! The service methods that hold the product's rules. The UI's server functions (through the
//! `app::ports::Backend` implementation in `backend.rs`) and the REST API both call these, so
//! each rule is written once.

mod accounts;
mod audit_view;
mod backend;
mod compute_backend;
mod compute_config_check;
mod compute_env_writes;
mod compute_envs;
mod credential_keys;
mod credentials;
#[cfg(test)]
mod credentials_tests;
mod secrets;
mod tokens;
mod tokens_backend;
mod workspaces;

pub use accounts::NewAccount;
pub use compute_env_writes::ComputeEnvChange;
pub use credentials::{CredentialsInUse, DeleteCredentialsError, CREDENTIALS_SCOPE};
pub use secrets::SecretPage;
pub use tokens::TokenInfo;
pub use workspaces::ParticipantPage;

use crate::audit::Event;
use crate::auth::rate_limit::LoginRateLimiter;
use crate::auth::session::SessionPolicy;
use crate::crypto::Kek;
use crate::db::{Db, Tx};
use app::error::AppError;
use app::model::SessionUser;
use std::fmt::Display;

pub struct Services {
    pub db: Db,
    /// The key-encryption key; only sealing (writes) and the provisioning path use it.
    pub kek: std::sync::Arc<Kek>,
    pub sessions: SessionPolicy,
    pub login_limiter: LoginRateLimiter,
    /// The data directory, absolute: the `local` compute environments' work directories are under it.
    pub data_dir: std::path::PathBuf,
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

impl Services {
    /// Records `event` as the transaction's last write and commits both, or neither: an action
    /// whose audit entry cannot be written does not happen.
    pub async fn commit_audited(&self, mut tx: Tx<'static>, event: Event) -> Result<(), AppError> {
        crate::audit::append(&mut tx, event, now_ms()).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    /// Records an event with no action to roll back (a denied request, a failed sign-in).
    pub async fn record(&self, event: Event) {
        crate::audit::append_alone(&self.db, event, now_ms()).await
    }

    /// Records a refusal made by a service rule (beyond the role table) and hands it back.
    pub async fn denied(
        &self,
        actor: &SessionUser,
        workspace_id: Option<i64>,
        refusal: AppError,
    ) -> AppError {
        let mut event = Event::denied(actor, refusal.to_string());
        event.workspace_id = workspace_id;
        self.record(event).await;
        refusal
    }
}
