//! Launching and following runs from the UI.

#[cfg(feature = "ssr")]
use super::context::*;
use crate::error::AppError;
use crate::model::{LaunchOptions, LaunchRequest, RunDetail, RunSummary};
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "launch_options")]
pub async fn get_launch_options(workspace_id: i64) -> Result<LaunchOptions, AppError> {
    finish(runs_backend()?.launch_options(&actor()?, workspace_id).await)
}

#[server(prefix = "/sfn", endpoint = "launch_run")]
pub async fn launch_run(workspace_id: i64, request: LaunchRequest) -> Result<String, AppError> {
    finish(runs_backend()?.launch(&actor()?, workspace_id, request).await)
}

#[server(prefix = "/sfn", endpoint = "list_runs")]
pub async fn list_runs(workspace_id: i64) -> Result<Vec<RunSummary>, AppError> {
    finish(runs_backend()?.list_runs(&actor()?, workspace_id).await)
}

#[server(prefix = "/sfn", endpoint = "describe_run")]
pub async fn describe_run(workspace_id: i64, workflow_id: String) -> Result<RunDetail, AppError> {
    finish(runs_backend()?.describe_run(&actor()?, workspace_id, workflow_id).await)
}

#[server(prefix = "/sfn", endpoint = "cancel_run")]
pub async fn cancel_run(workspace_id: i64, workflow_id: String) -> Result<(), AppError> {
    finish(runs_backend()?.cancel_run(&actor()?, workspace_id, workflow_id).await)
}
