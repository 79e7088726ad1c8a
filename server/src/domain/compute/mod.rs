//! Compute environments and the cloud credentials they use: listing, writing, the settings check
//! (`settings_check`) and the live check against the real target (`live_check`), who may point an
//! environment at which endpoint (`endpoint_check`), and the Strongroom host's own cloud identity
//! lent to allowed workspaces (`host_identity`).

pub mod credential_versions;
pub mod credentials;
pub mod credentials_input;
#[cfg(test)]
mod credentials_tests;
pub mod endpoint_check;
pub mod environment_writes;
pub mod environments;
pub mod host_identity;
pub mod live_check;
pub mod settings_check;

use crate::domain::Core;
use app::error::AppError;
use app::model::*;
use app::ports::{
    ComputeEnvChange, ComputePort, CredentialKeysInput, DeleteCredentialsError, HostIdentityGrant,
};
use async_trait::async_trait;
use std::sync::Arc;

/// Compute environments, credentials and the host identity: the `ComputePort`.
pub struct Compute {
    core: Arc<Core>,
}

impl Compute {
    pub fn new(core: Arc<Core>) -> Compute {
        Compute { core }
    }
}

/// Each method runs the one of the same name in the file that owns its rules: `environments`
/// (reading), `environment_writes`, `live_check`, `credentials` and `host_identity`.
#[async_trait]
impl ComputePort for Compute {
    async fn list_compute_envs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<ComputeEnvSummary>, AppError> {
        Compute::list_compute_envs(self, actor, workspace_id).await
    }

    async fn describe_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<ComputeEnvSummary, AppError> {
        Compute::describe_compute_env(self, actor, workspace_id, id).await
    }

    async fn create_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        env: ComputeEnvInput,
    ) -> Result<i64, AppError> {
        Compute::create_compute_env(self, actor, workspace_id, env).await
    }

    async fn update_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
        change: ComputeEnvChange,
    ) -> Result<(), AppError> {
        Compute::update_compute_env(self, actor, workspace_id, id, change).await
    }

    async fn delete_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<(), AppError> {
        Compute::delete_compute_env(self, actor, workspace_id, id).await
    }

    async fn check_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<ComputeCheck, AppError> {
        Compute::check_compute_env(self, actor, workspace_id, id).await
    }

    async fn list_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<CredentialsSummary>, AppError> {
        Compute::list_credentials(self, actor, workspace_id).await
    }

    async fn describe_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<CredentialsSummary, AppError> {
        Compute::describe_credentials(self, actor, workspace_id, id).await
    }

    async fn create_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        name: String,
        keys: CredentialKeysInput,
    ) -> Result<i64, AppError> {
        Compute::create_credentials(self, actor, workspace_id, &name, keys).await
    }

    async fn update_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
        keys: CredentialKeysInput,
    ) -> Result<(), AppError> {
        Compute::update_credentials(self, actor, workspace_id, id, keys).await
    }

    async fn delete_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<(), DeleteCredentialsError> {
        Compute::delete_credentials(self, actor, workspace_id, id).await
    }

    async fn set_host_identity(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        allowed: bool,
    ) -> Result<HostIdentityGrant, AppError> {
        Compute::set_host_identity(self, actor, workspace_id, allowed).await
    }
}
