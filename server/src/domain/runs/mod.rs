//! Runs: launching (`launch`, with the checks of `launch_input`), the launch command of HPC
//! environments (`launch_command`, `launch_env`), reading and ending runs and the trace reports
//! of Nextflow (`lifecycle`, `trace`), and opening the secret store of a run's target (`stores`).

pub mod launch;
pub mod launch_command;
pub mod launch_env;
pub mod launch_input;
pub mod lifecycle;
pub mod stores;
pub mod trace;

use crate::domain::Core;
use app::error::AppError;
use app::model::*;
use app::ports::{ComputeEnvsPort, Page, RunsPort, SecretsPort, TracedRun};
use async_trait::async_trait;
use std::sync::Arc;

/// Launching and following runs: the `RunsPort`. A launch reads the compute and secrets areas
/// through their ports, as any caller does.
pub struct Runs {
    core: Arc<Core>,
    secrets: Arc<dyn SecretsPort>,
    compute: Arc<dyn ComputeEnvsPort>,
}

impl Runs {
    pub fn new(core: Arc<Core>, secrets: Arc<dyn SecretsPort>, compute: Arc<dyn ComputeEnvsPort>) -> Runs {
        Runs { core, secrets, compute }
    }
}

/// Each method runs the one of the same name in the file that owns its rules: `launch`,
/// `lifecycle` (reading and ending) and `trace`.
#[async_trait]
impl RunsPort for Runs {
    async fn launch_options(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<LaunchOptions, AppError> {
        Runs::launch_options(self, actor, workspace_id).await
    }

    async fn launch(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        request: LaunchRequest,
    ) -> Result<String, AppError> {
        Runs::launch(self, actor, workspace_id, request).await
    }

    async fn list_runs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        max: i64,
        offset: i64,
    ) -> Result<Page<RunSummary>, AppError> {
        Runs::list_runs(self, actor, workspace_id, max, offset).await
    }

    async fn describe_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        workflow_id: String,
    ) -> Result<RunDetail, AppError> {
        Runs::describe_run(self, actor, workspace_id, &workflow_id).await
    }

    async fn cancel_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        workflow_id: String,
    ) -> Result<(), AppError> {
        Runs::cancel_run(self, actor, workspace_id, &workflow_id).await
    }

    async fn trace_create(
        &self,
        actor: &SessionUser,
        workspace_id: Option<i64>,
        workflow_id: Option<&str>,
        run_name: Option<&str>,
        project_name: Option<&str>,
        session_id: Option<&str>,
    ) -> Result<TracedRun, AppError> {
        Runs::trace_create(self, actor, workspace_id, workflow_id, run_name, project_name, session_id).await
    }

    async fn trace_begin(
        &self,
        actor: &SessionUser,
        workflow_id: &str,
        workspace_id: Option<i64>,
    ) -> Result<String, AppError> {
        Runs::trace_begin(self, actor, workflow_id, workspace_id).await
    }

    async fn trace_heartbeat(
        &self,
        actor: &SessionUser,
        workflow_id: &str,
        workspace_id: Option<i64>,
    ) -> Result<(), AppError> {
        Runs::trace_heartbeat(self, actor, workflow_id, workspace_id).await
    }

    async fn trace_complete(
        &self,
        actor: &SessionUser,
        workflow_id: &str,
        workspace_id: Option<i64>,
        success: bool,
        error_message: Option<&str>,
    ) -> Result<(), AppError> {
        Runs::trace_complete(self, actor, workflow_id, workspace_id, success, error_message).await
    }
}
