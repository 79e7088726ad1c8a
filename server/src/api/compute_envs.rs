//! `/compute-envs`: a workspace's compute environments, shaped like Seqera's
//! `ListComputeEnvsResponse` and `DescribeComputeEnvResponse`. Only fields Strongroom can fill
//! truthfully are sent; no credential ever is (only a credentials id).

use super::extract::{ApiError, ApiPath, ApiQuery, Caller};
use crate::startup::AppState;
use app::error::AppError;
use app::model::{format_timestamp_rfc3339, ComputeEnvSummary};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceQuery {
    workspace_id: Option<i64>,
    status: Option<String>,
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.into(), value.into());
    }
}

/// `ComputeConfig` with Seqera's names where its API has them (`workDir`, `region`,
/// `executionRole`, `computeQueue`, `projectId`, `location`), and Strongroom's own names for the
/// settings it adds (`kmsKeyId`, `customJobDefinition`, `endpointUrl`, `launchCommand`).
fn config_dto(env: &ComputeEnvSummary) -> Value {
    let c = &env.config;
    let mut map = Map::new();
    map.insert("discriminator".into(), env.platform.as_str().into());
    put(&mut map, "workDir", c.work_dir.clone());
    put(&mut map, "region", c.region.clone());
    put(&mut map, "executionRole", c.execution_role_arn.clone());
    put(&mut map, "computeQueue", c.job_queue.clone());
    put(&mut map, "kmsKeyId", c.kms_key_id.clone());
    put(&mut map, "customJobDefinition", c.custom_job_definition);
    put(&mut map, "projectId", c.project.clone());
    put(&mut map, "location", c.location.clone());
    put(&mut map, "endpointUrl", c.endpoint_url.clone());
    put(&mut map, "launchCommand", c.launch_command.clone());
    Value::Object(map)
}

fn entry_dto(env: &ComputeEnvSummary) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), env.id.to_string().into());
    map.insert("name".into(), env.name.clone().into());
    map.insert("platform".into(), env.platform.as_str().into());
    map.insert("status".into(), env.status.clone().into());
    put(&mut map, "credentialsId", env.credentials_id.map(|id| id.to_string()));
    put(&mut map, "region", env.config.region.clone());
    put(&mut map, "workDir", env.config.work_dir.clone());
    Value::Object(map)
}

fn describe_dto(env: &ComputeEnvSummary) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), env.id.to_string().into());
    map.insert("name".into(), env.name.clone().into());
    map.insert("platform".into(), env.platform.as_str().into());
    map.insert("status".into(), env.status.clone().into());
    map.insert("workspaceId".into(), env.workspace_id.into());
    map.insert("config".into(), config_dto(env));
    put(&mut map, "credentialsId", env.credentials_id.map(|id| id.to_string()));
    map.insert("dateCreated".into(), format_timestamp_rfc3339(env.created_at).into());
    map.insert("lastUpdated".into(), format_timestamp_rfc3339(env.updated_at).into());
    map.insert("deleted".into(), false.into());
    Value::Object(map)
}

/// Without `workspaceId`, Seqera lists the user's own environments: Strongroom has none.
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<Json<Value>, ApiError> {
    let envs = match query.workspace_id {
        Some(workspace_id) => state.services.list_compute_envs(&actor, workspace_id).await?,
        None => Vec::new(),
    };
    let dtos: Vec<Value> = envs
        .iter()
        .filter(|env| query.status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(&env.status)))
        .map(entry_dto)
        .collect();
    Ok(Json(json!({ "computeEnvs": dtos })))
}

pub async fn describe(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(compute_env_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::from(AppError::not_found("Compute environment"));
    // Ids are strings in Seqera's API; ours are numbers written as strings.
    let id: i64 = compute_env_id.parse().map_err(|_| not_found())?;
    let workspace_id = query.workspace_id.ok_or_else(not_found)?;
    let env = state.services.describe_compute_env(&actor, workspace_id, id).await?;
    Ok(Json(json!({ "computeEnv": describe_dto(&env) })))
}
