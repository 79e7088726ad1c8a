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
use app::model::SessionUser;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
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
fn within_scope(scope: Option<&RunScope>, workflow_id: &str) -> Result<(), ApiError> {
    match scope {
        Some(run) if run.workflow_id != workflow_id => {
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
        within_scope(scope.as_ref().map(|Extension(run)| run), id)?;
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

/// What every report on one existing run names: who reports, with which run token scope (if
/// any), the run (from the path) and the workspace. Read in the order the handlers' own
/// extractors used, so a bad request gets the same answer; the scope is compared in the handler,
/// after the body has been read.
pub struct RunReport {
    actor: SessionUser,
    scope: Option<RunScope>,
    workflow_id: String,
    workspace_id: Option<i64>,
}

impl<S: Send + Sync> FromRequestParts<S> for RunReport {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Caller(actor) = Caller::from_request_parts(parts, state).await?;
        let scope = parts.extensions.get::<RunScope>().cloned();
        let ApiPath(workflow_id) = ApiPath::<String>::from_request_parts(parts, state).await?;
        let ApiQuery(query) = ApiQuery::<WorkspaceQuery>::from_request_parts(parts, state).await?;
        Ok(RunReport { actor, scope, workflow_id, workspace_id: query.workspace_id })
    }
}

impl RunReport {
    /// Refuses a run token that names another run.
    fn within_scope(&self) -> Result<(), ApiError> {
        within_scope(self.scope.as_ref(), &self.workflow_id)
    }
}

pub async fn begin(
    State(state): State<AppState>,
    report: RunReport,
    ApiJson(_body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    report.within_scope()?;
    let RunReport { actor, workflow_id: id, workspace_id, .. } = report;
    let watch_url = state.ports.trace.trace_begin(&actor, &id, workspace_id).await?;
    Ok(Json(json!({ "status": "OK", "workflowId": id, "watchUrl": watch_url })))
}

/// Task progress: acknowledged as a sign of life; its task metadata is not kept.
pub async fn progress(
    State(state): State<AppState>,
    report: RunReport,
    ApiJson(_body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    alive(&state, &report).await?;
    Ok(Json(json!({ "status": "OK", "workflowId": report.workflow_id })))
}

pub async fn heartbeat(
    State(state): State<AppState>,
    report: RunReport,
    ApiJson(_body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    alive(&state, &report).await?;
    Ok(Json(json!({ "message": "OK" })))
}

/// A sign of life from the run: progress and heartbeat differ only in their answer.
async fn alive(state: &AppState, report: &RunReport) -> Result<(), ApiError> {
    report.within_scope()?;
    let RunReport { actor, workflow_id, workspace_id, .. } = report;
    Ok(state.ports.trace.trace_heartbeat(actor, workflow_id, *workspace_id).await?)
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
    report: RunReport,
    ApiJson(body): ApiJson<CompleteBody>,
) -> Result<Json<Value>, ApiError> {
    report.within_scope()?;
    let RunReport { actor, workflow_id: id, workspace_id, .. } = report;
    let workflow = body.workflow;
    let success =
        workflow.as_ref().map(|w| w.success.unwrap_or_else(|| w.exit_status == Some(0))).unwrap_or(false);
    let error: Option<String> =
        workflow.and_then(|w| w.error_message).map(|m| m.chars().take(2000).collect());
    state.ports.trace.trace_complete(&actor, &id, workspace_id, success, error.as_deref()).await?;
    Ok(Json(json!({ "status": "OK", "workflowId": id })))
}

/// Which token `identity-token` hands out: the run's own cloud's (default), or with `cloud=azure`
/// the one for the Azure app registration its mapping adds.
#[derive(Deserialize)]
pub struct IdentityTokenQuery {
    cloud: Option<String>,
}

/// `POST /trace/{id}/identity-token[?cloud=azure]` (Strongroom): a fresh token of the run's
/// managed cloud identity, as text, for the head job's `AWS_WEB_IDENTITY_TOKEN_FILE` (or, for
/// Azure, `AZURE_FEDERATED_TOKEN_FILE`). Only the run's own run token may call it: a token that
/// acts in the cloud is never handed to a person's session or access token.
pub async fn identity_token(
    State(state): State<AppState>,
    report: RunReport,
    ApiQuery(query): ApiQuery<IdentityTokenQuery>,
) -> Result<String, ApiError> {
    let for_azure = match query.cloud.as_deref() {
        None => false,
        Some("azure") => true,
        Some(_) => return Err(ApiError(AppError::bad_request("cloud must be azure, or absent."))),
    };
    match &report.scope {
        Some(run) if run.workflow_id == report.workflow_id => {}
        Some(_) => {
            return Err(ApiError(AppError::Forbidden("This run token belongs to another run.".into())))
        }
        None => {
            return Err(ApiError(AppError::Forbidden(
                "Only the run's own run token (its head job) may fetch its identity token.".into(),
            )))
        }
    }
    Ok(state.domain.core.identity_token_for_run(&report.workflow_id, for_azure).await?)
}
