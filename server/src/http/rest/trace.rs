//! `/trace`: what Nextflow's `-with-tower` client calls while a run goes on (create, begin,
//! progress, heartbeat, complete), with the run token its launch command was given or the
//! launcher's own access token. Strongroom keeps what it needs from these reports: that the run
//! started, that it is alive, and how it ended. Task metadata in `progress` is acknowledged and
//! not stored.
//!
//! A run token reaches only these endpoints (the middleware sees to that) and only for its own
//! run: each handler compares the run it names with the token's `RunScope` again, after decoding.

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::domain::RunScope;
use crate::http::AppState;
use app::error::AppError;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceQuery {
    workspace_id: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    workflow_id: Option<String>,
    run_name: Option<String>,
    project_name: Option<String>,
    session_id: Option<String>,
}

type Scope = Option<Extension<RunScope>>;

/// Refuses a run token that names another run.
fn within_scope(scope: &Scope, workflow_id: &str) -> Result<(), ApiError> {
    match scope {
        Some(Extension(run)) if run.workflow_id != workflow_id => {
            Err(ApiError(AppError::Forbidden("This run token belongs to another run.".into())))
        }
        _ => Ok(()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    scope: Scope,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Json<Value>, ApiError> {
    // A run token's create is about its own run: named, or implied when Nextflow names none
    // (a run token never creates a new record).
    let workflow_id = match (&scope, body.workflow_id.as_deref().filter(|id| !id.is_empty())) {
        (Some(Extension(run)), None) => Some(run.workflow_id.as_str()),
        (_, named) => named,
    };
    if let Some(id) = workflow_id {
        within_scope(&scope, id)?;
    }
    let run = state
        .ports
        .trace
        .trace_create(
            &actor,
            query.workspace_id,
            workflow_id,
            body.run_name.as_deref(),
            body.project_name.as_deref(),
            body.session_id.as_deref(),
        )
        .await?;
    Ok(Json(json!({ "workflowId": run.workflow_id, "watchUrl": run.watch_url })))
}

pub async fn begin(
    State(state): State<AppState>,
    Caller(actor): Caller,
    scope: Scope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(_body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    within_scope(&scope, &id)?;
    let watch_url = state.ports.trace.trace_begin(&actor, &id, query.workspace_id).await?;
    Ok(Json(json!({ "status": "OK", "workflowId": id, "watchUrl": watch_url })))
}

pub async fn progress(
    State(state): State<AppState>,
    Caller(actor): Caller,
    scope: Scope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(_body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    within_scope(&scope, &id)?;
    state.ports.trace.trace_heartbeat(&actor, &id, query.workspace_id).await?;
    Ok(Json(json!({ "status": "OK", "workflowId": id })))
}

pub async fn heartbeat(
    State(state): State<AppState>,
    Caller(actor): Caller,
    scope: Scope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(_body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    within_scope(&scope, &id)?;
    state.ports.trace.trace_heartbeat(&actor, &id, query.workspace_id).await?;
    Ok(Json(json!({ "message": "OK" })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteBody {
    workflow: Option<CompletedWorkflow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedWorkflow {
    success: Option<bool>,
    error_message: Option<String>,
    exit_status: Option<i64>,
}

pub async fn complete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    scope: Scope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(body): ApiJson<CompleteBody>,
) -> Result<Json<Value>, ApiError> {
    within_scope(&scope, &id)?;
    let workflow = body.workflow;
    let success =
        workflow.as_ref().map(|w| w.success.unwrap_or_else(|| w.exit_status == Some(0))).unwrap_or(false);
    let error: Option<String> =
        workflow.and_then(|w| w.error_message).map(|m| m.chars().take(2000).collect());
    state.ports.trace.trace_complete(&actor, &id, query.workspace_id, success, error.as_deref()).await?;
    Ok(Json(json!({ "status": "OK", "workflowId": id })))
}
