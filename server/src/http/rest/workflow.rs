//! `/workflow`: launch, describe, list and cancel runs, shaped like Seqera's
//! `SubmitWorkflowLaunchRequest`, `DescribeWorkflowResponse` and `ListWorkflowsResponse`.
//! Strongroom adds what its users need to see the secrets' journey: `secretCopies` (each copy's
//! state, never a value), `launchEnvironment`, `launchCommand` and `cleanupStage`. The head job
//! it submitted to a cluster is Seqera's `jobInfo` (`operationId`: the scheduler's job id,
//! `status`, `message`), with Strongroom's `submit`, `start` and `queuedDuration` added.

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::{format_timestamp_rfc3339, HeadJobView, LaunchFields, LaunchRequest, RunDetail, RunSummary};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceQuery {
    workspace_id: Option<i64>,
    max: Option<i64>,
    offset: Option<i64>,
}

fn workspace(query: &WorkspaceQuery) -> Result<i64, ApiError> {
    query.workspace_id.ok_or_else(|| ApiError(AppError::bad_request("workspaceId is required.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitLaunch {
    launch: Option<LaunchBody>,
}

/// The fields of `WorkflowLaunchRequest` Strongroom uses; others are accepted and ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchBody {
    compute_env_id: Option<String>,
    pipeline: Option<String>,
    run_name: Option<String>,
    revision: Option<String>,
    #[serde(default)]
    workspace_secrets: Vec<String>,
    #[serde(default)]
    user_secrets: Vec<String>,
    params_text: Option<String>,
    config_text: Option<String>,
    pre_run_script: Option<String>,
    post_run_script: Option<String>,
    work_dir: Option<String>,
    #[serde(default)]
    config_profiles: Vec<String>,
    /// Strongroom's: with a managed cloud identity, which of the launcher's mapped identities
    /// (its position in the environment's `cloudIdentity.mappings`, from 0).
    cloud_identity_mapping: Option<usize>,
}

pub async fn launch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(body): ApiJson<SubmitLaunch>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = workspace(&query)?;
    let body =
        body.launch.ok_or_else(|| ApiError(AppError::bad_request("The body needs a 'launch' object.")))?;
    let compute_env_id = match body.compute_env_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(id.parse::<i64>().map_err(|_| {
            ApiError(AppError::bad_request("That compute environment does not exist in this workspace."))
        })?),
    };
    let request = LaunchRequest {
        compute_env_id,
        pipeline: body.pipeline.unwrap_or_default(),
        run_name: body.run_name,
        revision: body.revision,
        workspace_secrets: body.workspace_secrets,
        user_secrets: body.user_secrets,
        launch_fields: LaunchFields {
            params_text: body.params_text,
            config_text: body.config_text,
            pre_run_script: body.pre_run_script,
            post_run_script: body.post_run_script,
            work_dir: body.work_dir,
            config_profiles: body.config_profiles,
        },
        cloud_identity_mapping: body.cloud_identity_mapping,
    };
    let workflow_id = state.ports.launch.launch(&actor, workspace_id, request).await?;
    Ok(Json(json!({ "workflowId": workflow_id })))
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.into(), value.into());
    }
}

/// Seqera's `WorkflowDbDto`, with the fields Strongroom knows.
fn workflow_dto(run: &RunSummary, detail: Option<&RunDetail>) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), run.id.clone().into());
    map.insert("runName".into(), run.run_name.clone().into());
    map.insert("projectName".into(), run.pipeline.clone().into());
    map.insert("repository".into(), run.pipeline.clone().into());
    map.insert("status".into(), run.status.as_str().into());
    map.insert("userName".into(), run.launched_by.clone().into());
    map.insert("dateCreated".into(), format_timestamp_rfc3339(run.created_at).into());
    put(&mut map, "complete", run.ended_at.map(format_timestamp_rfc3339));
    if let Some(detail) = detail {
        put(&mut map, "revision", detail.revision.clone());
        put(&mut map, "start", detail.started_at.map(format_timestamp_rfc3339));
        put(&mut map, "errorMessage", detail.message.clone().filter(|_| run.status.as_str() == "FAILED"));
        map.insert("success".into(), (run.status.as_str() == "SUCCEEDED").into());
    }
    Value::Object(map)
}

pub async fn describe(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(workflow_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = workspace(&query)?;
    let detail = state.ports.runs.describe_run(&actor, workspace_id, workflow_id).await?;
    let copies: Vec<Value> = detail
        .copies
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "source": c.source.as_str(),
                "state": c.state.as_str(),
                "reference": c.reference,
                "error": c.error,
                "attempts": c.attempts,
                "lastUpdated": format_timestamp_rfc3339(c.updated_at),
            })
        })
        .collect();
    let environment: Map<String, Value> =
        detail.launch_env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    Ok(Json(json!({
        "workflow": workflow_dto(&detail.summary, Some(&detail)),
        "workspaceId": detail.summary.workspace_id,
        "platform": detail.summary.compute_env_name.as_ref().map(|name| json!({ "name": name })),
        "cleanupStage": detail.summary.stage.as_str(),
        "message": detail.message,
        "secretCopies": copies,
        "launchEnvironment": environment,
        "launchCommand": detail.command,
        "jobInfo": detail.head_job.as_ref().map(job_info),
    })))
}

/// Seqera's `JobInfoDto` for the run's head job: the scheduler's id as `operationId` (Seqera's
/// int64 `id` is its own row id, which Strongroom does not have), its state as `status`, the
/// scheduler's reason as `message`. Strongroom's extensions: `submit` and `start` (as on
/// `WorkflowDbDto`), `queuedDuration`, the milliseconds it waited in the scheduler's queue, and
/// `consoleUrl`, where the cloud's console shows the job (AWS Batch, Google Batch).
fn job_info(job: &HeadJobView) -> Value {
    let mut map = Map::new();
    map.insert("operationId".into(), job.job_id.clone().into());
    map.insert("status".into(), job.state.clone().into());
    put(&mut map, "message", job.reason.clone());
    put(&mut map, "submit", job.submitted_at.map(format_timestamp_rfc3339));
    put(&mut map, "start", job.started_at.map(format_timestamp_rfc3339));
    put(&mut map, "queuedDuration", job.queued_ms(crate::clock::now_ms()));
    put(&mut map, "consoleUrl", job.console_url.clone());
    Value::Object(map)
}

pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = workspace(&query)?;
    let offset = query.offset.unwrap_or(0);
    let page = state.ports.runs.list_runs(&actor, workspace_id, query.max.unwrap_or(50), offset).await?;
    let (runs, total) = (page.items, page.total);
    let items: Vec<Value> = runs.iter().map(|run| json!({ "workflow": workflow_dto(run, None) })).collect();
    let has_more = offset + (items.len() as i64) < total;
    Ok(Json(json!({ "workflows": items, "totalSize": total, "hasMore": has_more })))
}

pub async fn cancel(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(workflow_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<StatusCode, ApiError> {
    let workspace_id = workspace(&query)?;
    state.ports.runs.cancel_run(&actor, workspace_id, workflow_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
