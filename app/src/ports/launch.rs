//! Launching runs, for the launch form and `POST /api/workflow/launch` (`LaunchPort`,
//! implemented in the server's `domain/runs/launch.rs`).

use crate::error::AppError;
use crate::model::{LaunchOptions, LaunchRequest, SessionUser};
use async_trait::async_trait;

#[async_trait]
pub trait LaunchPort: Send + Sync + 'static {
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
}
