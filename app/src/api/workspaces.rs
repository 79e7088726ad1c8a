#[cfg(feature = "ssr")]
use super::context::*;
use crate::error::AppError;
use crate::model::{OrgSummary, WorkspaceSummary, WorkspaceView};
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "list_orgs")]
pub async fn list_orgs() -> Result<Vec<OrgSummary>, AppError> {
    finish(ports()?.workspaces.list_orgs(&actor()?).await)
}

#[server(prefix = "/sfn", endpoint = "create_org")]
pub async fn create_org(
    name: String,
    full_name: String,
    description: String,
) -> Result<OrgSummary, AppError> {
    finish(ports()?.workspaces.create_org(&actor()?, name, full_name, description).await)
}

#[server(prefix = "/sfn", endpoint = "list_workspaces")]
pub async fn list_workspaces(org_id: i64) -> Result<Vec<WorkspaceSummary>, AppError> {
    finish(ports()?.workspaces.list_workspaces(&actor()?, org_id).await)
}

#[server(prefix = "/sfn", endpoint = "create_workspace")]
pub async fn create_workspace(
    org_id: i64,
    name: String,
    full_name: String,
    description: String,
) -> Result<WorkspaceSummary, AppError> {
    let result = ports()?.workspaces.create_workspace(&actor()?, org_id, name, full_name, description).await;
    finish(result)
}

#[server(prefix = "/sfn", endpoint = "workspace_view")]
pub async fn get_workspace_view(org_id: i64, workspace_id: i64) -> Result<WorkspaceView, AppError> {
    finish(ports()?.workspaces.workspace_view(&actor()?, org_id, workspace_id).await)
}
