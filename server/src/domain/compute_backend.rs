//! The UI's compute port: each method forwards to the service method the REST API uses too.

use crate::domain::compute::credentials::DeleteCredentialsError;
use crate::domain::Core;
use app::error::AppError;
use app::model::*;
use app::ports::{ComputeBackend, CredentialKeysInput};
use async_trait::async_trait;

#[async_trait]
impl ComputeBackend for Core {
    async fn list_compute_envs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<ComputeEnvSummary>, AppError> {
        Core::list_compute_envs(self, actor, workspace_id).await
    }

    async fn create_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        env: ComputeEnvInput,
    ) -> Result<i64, AppError> {
        Core::create_compute_env(self, actor, workspace_id, env).await
    }

    async fn delete_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<(), AppError> {
        Core::delete_compute_env(self, actor, workspace_id, compute_env_id).await
    }

    async fn check_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        compute_env_id: i64,
    ) -> Result<ComputeCheck, AppError> {
        Core::check_compute_env(self, actor, workspace_id, compute_env_id).await
    }

    async fn list_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<CredentialsSummary>, AppError> {
        Core::list_credentials(self, actor, workspace_id).await
    }

    async fn create_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        name: String,
        keys: CredentialKeysInput,
    ) -> Result<i64, AppError> {
        Core::create_credentials(self, actor, workspace_id, &name, keys).await
    }

    async fn delete_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        credentials_id: i64,
    ) -> Result<(), AppError> {
        Core::delete_credentials(self, actor, workspace_id, credentials_id).await.map_err(|e| match e {
            DeleteCredentialsError::Refused(error) => error,
            DeleteCredentialsError::InUse(in_use) => AppError::conflict(in_use.message()),
        })
    }
}
