//! Launching and following runs from the UI.

#[cfg(feature = "ssr")]
use super::context::*;
use crate::error::AppError;
use crate::model::{LaunchOptions, LaunchRequest, RunDetail, RunSummary};
use leptos::prelude::*;

/// How many runs the Runs tab shows: the newest hundred.
#[cfg(feature = "ssr")]
const UI_RUN_LIMIT: i64 = 100;

#[server(prefix = "/sfn", endpoint = "launch_options")]
pub async fn get_launch_options(workspace_id: i64) -> Result<LaunchOptions, AppError> {
    finish(ports()?.launch.launch_options(&actor()?, workspace_id).await)
}

#[server(prefix = "/sfn", endpoint = "launch_run")]
pub async fn launch_run(workspace_id: i64, request: LaunchRequest) -> Result<String, AppError> {
    finish(ports()?.launch.launch(&actor()?, workspace_id, request).await)
}

#[server(prefix = "/sfn", endpoint = "list_runs")]
pub async fn list_runs(workspace_id: i64) -> Result<Vec<RunSummary>, AppError> {
    finish(ports()?.runs.list_runs(&actor()?, workspace_id, UI_RUN_LIMIT, 0).await.map(|page| page.items))
}

#[server(prefix = "/sfn", endpoint = "describe_run")]
pub async fn describe_run(workspace_id: i64, workflow_id: String) -> Result<RunDetail, AppError> {
    finish(ports()?.runs.describe_run(&actor()?, workspace_id, workflow_id).await)
}

#[server(prefix = "/sfn", endpoint = "cancel_run")]
pub async fn cancel_run(workspace_id: i64, workflow_id: String) -> Result<(), AppError> {
    finish(ports()?.runs.cancel_run(&actor()?, workspace_id, workflow_id).await)
}
