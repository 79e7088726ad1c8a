//! Compute environments, for the Compute tab and `/api/compute-envs`: every participant lists
//! and describes; owners and admins write (`ComputeEnvsPort`, implemented in the server's
//! `domain/compute/environments.rs`) and run the live check (`ComputeCheckPort`, implemented in
//! `domain/compute/live_check.rs`).

use crate::error::AppError;
use crate::model::{
    CloudIdentityView, ComputeCheck, ComputeConfig, ComputeEnvInput, ComputeEnvSummary, SessionUser,
};
use async_trait::async_trait;

#[async_trait]
pub trait ComputeEnvsPort: Send + Sync + 'static {
    async fn list_compute_envs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<ComputeEnvSummary>, AppError>;
    async fn describe_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<ComputeEnvSummary, AppError>;
    async fn create_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        env: ComputeEnvInput,
    ) -> Result<i64, AppError>;
    /// Renames an environment or replaces its settings or credentials; the platform stays.
    async fn update_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
        change: ComputeEnvChange,
    ) -> Result<(), AppError>;
    async fn delete_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<(), AppError>;
}

#[async_trait]
pub trait ComputeCheckPort: Send + Sync + 'static {
    /// Runs the environment's preflight now (owners, admins) and stores the outcome.
    async fn check_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<ComputeCheck, AppError>;
}

/// A managed environment's identity as a cloud admin must trust it (every participant may read
/// it: it holds no secret). Implemented in the server's `domain/compute/cloud_identity_view.rs`.
#[async_trait]
pub trait CloudIdentityPort: Send + Sync + 'static {
    async fn cloud_identity_view(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<CloudIdentityView, AppError>;
}

/// What a change to an environment may carry: absent fields keep their value.
pub struct ComputeEnvChange {
    pub name: Option<String>,
    /// `Some(None)` removes the credentials.
    pub credentials_id: Option<Option<i64>>,
    pub config: Option<ComputeConfig>,
}
