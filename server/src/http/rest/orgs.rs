//! `/orgs` and `/orgs/{orgId}/workspaces`.

use super::extract::{ApiError, ApiJson, ApiPath, Caller};
use crate::http::AppState;
use app::model::{OrgSummary, WorkspaceSummary};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

fn organization_dto(org: &OrgSummary) -> Value {
    json!({
        "orgId": org.id,
        "name": org.name,
        "fullName": org.full_name,
        "description": org.description,
        "memberRole": if org.is_owner { "owner" } else { "member" },
    })
}

fn workspace_dto(ws: &WorkspaceSummary) -> Value {
    json!({
        "id": ws.id,
        "name": ws.name,
        "fullName": ws.full_name,
        "description": ws.description,
        "visibility": ws.visibility,
    })
}

pub async fn list_orgs(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let orgs = state.ports.workspaces.list_orgs(&actor).await?;
    let dtos: Vec<Value> = orgs.iter().map(organization_dto).collect();
    Ok(Json(json!({ "totalSize": dtos.len(), "organizations": dtos })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedResource {
    #[serde(default)]
    name: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
pub struct CreateOrganizationRequest {
    organization: NamedResource,
}

pub async fn create_org(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<CreateOrganizationRequest>,
) -> Result<Json<Value>, ApiError> {
    let org = body.organization;
    let description = org.description.unwrap_or_default();
    let created = state.ports.workspaces.create_org(&actor, org.name, org.full_name, description).await?;
    Ok(Json(json!({ "organization": organization_dto(&created) })))
}

pub async fn list_workspaces(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(org_id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let workspaces = state.ports.workspaces.list_workspaces(&actor, org_id).await?;
    let dtos: Vec<Value> = workspaces.iter().map(workspace_dto).collect();
    Ok(Json(json!({ "workspaces": dtos })))
}

#[derive(Deserialize)]
pub struct CreateWorkspaceRequest {
    workspace: NamedResource,
}

pub async fn create_workspace(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(org_id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateWorkspaceRequest>,
) -> Result<Json<Value>, ApiError> {
    let ws = body.workspace;
    let description = ws.description.unwrap_or_default();
    let created =
        state.ports.workspaces.create_workspace(&actor, org_id, ws.name, ws.full_name, description).await?;
    Ok(Json(json!({ "workspace": workspace_dto(&created) })))
}
