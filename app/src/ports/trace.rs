//! The trace reports Nextflow's `-with-tower` client sends (`/api/trace`): create, begin,
//! heartbeat and complete (`TracePort`, implemented in the server's `domain/runs/trace.rs`).

use crate::error::AppError;
use crate::model::SessionUser;
use async_trait::async_trait;

/// The run a `trace/create` report is about, and its page for Nextflow's `watchUrl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedRun {
    pub workflow_id: String,
    pub watch_url: String,
}

#[async_trait]
pub trait TracePort: Send + Sync + 'static {
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
