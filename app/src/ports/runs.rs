//! Following runs after launch, for the Runs tab, the run page and `/api/workflow`: listing,
//! describing and cancelling (`RunsPort`, implemented in the server's `domain/runs/lifecycle.rs`).

use super::Page;
use crate::error::AppError;
use crate::model::{RunDetail, RunSummary, SessionUser};
use async_trait::async_trait;

#[async_trait]
pub trait RunsPort: Send + Sync + 'static {
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
}
