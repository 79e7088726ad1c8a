//! Launching and following runs, for the launch form, the Runs tab, the run page and
//! `/api/workflow`; and the trace reports Nextflow's `-with-tower` client sends (`/api/trace`).

use super::Page;
use crate::error::AppError;
use crate::model::{LaunchOptions, LaunchRequest, RunDetail, RunSummary, SessionUser};
use async_trait::async_trait;

/// The run a `trace/create` report is about, and its page for Nextflow's `watchUrl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedRun {
    pub workflow_id: String,
    pub watch_url: String,
}

#[async_trait]
pub trait RunsPort: Send + Sync + 'static {
    /// What the launch form offers the caller in this workspace.
    async fn launch_options(&self, actor: &SessionUser, workspace_id: i64)
        -> Result<LaunchOptions, AppError>;
    /// Launches and returns the workflow id.
    async fn launch(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        request: LaunchRequest,
    ) -> Result<String, AppError>;
    /// Newest first, `max` (clamped to 1 to 100) from `offset`.
    async fn list_runs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        max: i64,
        offset: i64,
    ) -> Result<Page<RunSummary>, AppError>;
    async fn describe_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        workflow_id: String,
    ) -> Result<RunDetail, AppError>;
    async fn cancel_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        workflow_id: String,
    ) -> Result<(), AppError>;
    /// Nextflow names the run it was launched for, or (run by hand) asks for a new record.
    async fn trace_create(
        &self,
        actor: &SessionUser,
        workspace_id: Option<i64>,
        workflow_id: Option<&str>,
        run_name: Option<&str>,
        project_name: Option<&str>,
        session_id: Option<&str>,
    ) -> Result<TracedRun, AppError>;
    /// The run started; answers its page's address.
    async fn trace_begin(
        &self,
        actor: &SessionUser,
        workflow_id: &str,
        workspace_id: Option<i64>,
    ) -> Result<String, AppError>;
    async fn trace_heartbeat(
        &self,
        actor: &SessionUser,
        workflow_id: &str,
        workspace_id: Option<i64>,
    ) -> Result<(), AppError>;
    /// Nextflow's verdict ends the run.
    async fn trace_complete(
        &self,
        actor: &SessionUser,
        workflow_id: &str,
        workspace_id: Option<i64>,
        success: bool,
        error_message: Option<&str>,
    ) -> Result<(), AppError>;
}
