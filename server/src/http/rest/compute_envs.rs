//! `/compute-envs`: a workspace's compute environments, shaped like Seqera's
//! `ListComputeEnvsResponse` and `DescribeComputeEnvResponse`. Only fields Strongroom can fill
//! truthfully are sent; no credential ever is (only a credentials id). Creating, changing and
//! deleting take the same `config` field names that describing returns (`config_dto` and
//! `config_from_dto` are each other's inverse).

use super::compute_config::{config_dto, config_from_dto};
use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::{format_timestamp_rfc3339, ComputeConfig, ComputeEnvInput, ComputeEnvSummary, Platform};
use app::ports::ComputeEnvChange;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceQuery {
    workspace_id: Option<i64>,
    status: Option<String>,
}

pub(super) fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.into(), value.into());
    }
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
    put(&mut map, "managedIdentityId", env.config.managed_identity_id.map(|id| id.to_string()));
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
        Some(workspace_id) => state.ports.compute_envs.list_compute_envs(&actor, workspace_id).await?,
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
    let env = state.ports.compute_envs.describe_compute_env(&actor, workspace_id, id).await?;
    Ok(Json(json!({ "computeEnv": describe_dto(&env) })))
}

/// `credentialsId` as Seqera sends it (a string), or a number; `null` or `""` for none.
fn credentials_id(value: Option<Value>) -> Result<Option<i64>, ApiError> {
    let bad = || {
        ApiError::from(AppError::bad_request(
            "credentialsId must be the id of credentials in this workspace.",
        ))
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| bad()),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// `managedIdentityId` (Seqera: a string, at the top of the environment), or a number.
fn managed_identity_id(value: Option<Value>) -> Result<Option<i64>, ApiError> {
    let bad =
        || ApiError::from(AppError::bad_request("managedIdentityId must be the id of a managed identity."));
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| bad()),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| AppError::not_found("Compute environment").into())
}

fn required_workspace(query: &WorkspaceQuery) -> Result<i64, ApiError> {
    query.workspace_id.ok_or_else(|| {
        AppError::bad_request("Give the workspaceId: compute environments belong to a workspace.").into()
    })
}

/// `ComputeEnv_ComputeConfig_` of `CreateComputeEnvRequest`: the fields Strongroom reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputeEnvBody {
    name: Option<String>,
    platform: Option<String>,
    credentials_id: Option<Value>,
    managed_identity_id: Option<Value>,
    config: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    compute_env: Option<ComputeEnvBody>,
}

pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = required_workspace(&query)?;
    let body = body.compute_env.ok_or_else(|| AppError::bad_request("Give the computeEnv object."))?;
    let platform: Platform = body
        .platform
        .as_deref()
        .ok_or_else(|| AppError::bad_request("Give the platform."))?
        .parse()
        .map_err(AppError::BadRequest)?;
    let input = ComputeEnvInput {
        name: body.name.unwrap_or_default(),
        platform,
        credentials_id: credentials_id(body.credentials_id)?,
        config: ComputeConfig {
            managed_identity_id: managed_identity_id(body.managed_identity_id)?,
            ..config_from_dto(platform, body.config.unwrap_or_default())?
        },
    };
    let id = state.ports.compute_envs.create_compute_env(&actor, workspace_id, input).await?;
    Ok(Json(json!({ "computeEnvId": id.to_string() })))
}

/// Seqera's `UpdateComputeEnvRequest` (`name`, `credentialsId`), plus `config` to replace the
/// settings. Absent fields keep their value; `credentialsId: null` removes the credentials.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRequest {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    credentials_id: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    managed_identity_id: Option<Option<Value>>,
    config: Option<Map<String, Value>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Option::<Value>::deserialize(d).map(Some)
}

pub async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(compute_env_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJson(body): ApiJson<UpdateRequest>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&compute_env_id)?;
    let workspace_id = required_workspace(&query)?;
    let config = if body.config.is_some() || body.managed_identity_id.is_some() {
        // The platform never changes: the current one decides which fields apply. A config
        // without `managedIdentityId` (at the top, as Seqera has it) keeps the current one.
        let current = state.ports.compute_envs.describe_compute_env(&actor, workspace_id, id).await?;
        let mut config = match body.config {
            Some(dto) => config_from_dto(current.platform, dto)?,
            None => current.config.clone(),
        };
        config.managed_identity_id = match body.managed_identity_id {
            Some(value) => managed_identity_id(value)?,
            None => current.config.managed_identity_id,
        };
        Some(config)
    } else {
        None
    };
    let credentials_id = match body.credentials_id {
        Some(value) => Some(credentials_id(value)?),
        None => None,
    };
    let change = ComputeEnvChange { name: body.name, credentials_id, config };
    state.ports.compute_envs.update_compute_env(&actor, workspace_id, id, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(compute_env_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&compute_env_id)?;
    let workspace_id = required_workspace(&query)?;
    state.ports.compute_envs.delete_compute_env(&actor, workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /compute-envs/{id}/validate`: the launch preflight on demand. Answers Seqera's
/// `ValidateComputeEnvResponse`, plus Strongroom's `fix` (what to grant, ready to copy).
pub async fn validate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id =
        query.workspace_id.ok_or_else(|| ApiError(AppError::bad_request("workspaceId is required.")))?;
    let id: i64 = id.parse().map_err(|_| ApiError(AppError::not_found("Compute environment")))?;
    let check = state.ports.compute_checks.check_compute_env(&actor, workspace_id, id).await?;
    Ok(Json(json!({
        "status": check.status,
        "message": check.message,
        "fix": check.fix,
        "transientError": false,
    })))
}

/// `GET /compute-envs/{id}/identity` (Strongroom): a managed environment's issuer, audience and
/// subjects, with the trust settings a cloud admin pastes (`CloudIdentityView`).
pub async fn identity(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
) -> Result<Json<app::model::CloudIdentityView>, ApiError> {
    let workspace_id =
        query.workspace_id.ok_or_else(|| ApiError(AppError::bad_request("workspaceId is required.")))?;
    let id: i64 = id.parse().map_err(|_| ApiError(AppError::not_found("Compute environment")))?;
    Ok(Json(state.ports.cloud_identity.cloud_identity_view(&actor, workspace_id, id).await?))
}
