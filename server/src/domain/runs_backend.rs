//! The UI's runs port: each method forwards to the service method the REST API uses too.

use crate::domain::{Core, Domain};
use app::error::AppError;
use app::model::*;
use app::ports::RunsBackend;
use app::ports::{ComputePort, SecretsPort};
use async_trait::async_trait;

#[async_trait]
impl RunsBackend for Domain {
    async fn launch_options(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<LaunchOptions, AppError> {
        let compute_envs = self.compute.list_compute_envs(actor, workspace_id).await?;
        let scope = SecretScope::Workspace(workspace_id);
        let workspace = self.secrets.list_secrets(actor, scope, String::new(), 10_000, 0).await?;
        let mine = self.secrets.list_secrets(actor, SecretScope::Mine, String::new(), 10_000, 0).await?;
        let role =
            crate::rbac::authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace)
                .await?
                .role;
        Ok(LaunchOptions {
            compute_envs,
            workspace_secrets: workspace.items.into_iter().map(|s| s.name).collect(),
            user_secrets: mine.items.into_iter().map(|s| s.name).collect(),
            can_launch: role.allows(Permission::LaunchWorkflow),
        })
    }

    async fn launch(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        request: LaunchRequest,
    ) -> Result<String, AppError> {
        Core::launch(&self.core, actor, workspace_id, request).await
    }

    async fn list_runs(&self, actor: &SessionUser, workspace_id: i64) -> Result<Vec<RunSummary>, AppError> {
        Ok(Core::list_runs(&self.core, actor, workspace_id, 100, 0).await?.0)
    }

    async fn describe_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        workflow_id: String,
    ) -> Result<RunDetail, AppError> {
        Core::describe_run(&self.core, actor, workspace_id, &workflow_id).await
    }

    async fn cancel_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        workflow_id: String,
    ) -> Result<(), AppError> {
        Core::cancel_run(&self.core, actor, workspace_id, &workflow_id).await
    }
}
