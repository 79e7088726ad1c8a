//! `/pipeline-secrets`: one resource for both scopes, as in Seqera's API. With `?workspaceId=N`
//! it is the workspace's secrets; without it, the caller's own. No response ever holds a value.

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::{format_timestamp_rfc3339, SecretMeta, SecretScope};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeQuery {
    workspace_id: Option<i64>,
    name: Option<String>,
    /// Strongroom extensions for large lists; Seqera's API returns everything.
    max: Option<i64>,
    offset: Option<i64>,
    search: Option<String>,
}

impl ScopeQuery {
    fn scope(&self) -> SecretScope {
        self.workspace_id.map_or(SecretScope::Mine, SecretScope::Workspace)
    }
}

/// Seqera's `PipelineSecret`. A typed struct, not a `json!` map: a list of 10,000 serializes
/// straight to the body without building a map per secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretDto<'a> {
    id: i64,
    name: &'a str,
    date_created: String,
    last_updated: String,
    last_used: Option<String>,
}

fn secret_dto(secret: &SecretMeta) -> SecretDto<'_> {
    SecretDto {
        id: secret.id,
        name: &secret.name,
        date_created: format_timestamp_rfc3339(secret.created_at),
        last_updated: format_timestamp_rfc3339(secret.updated_at),
        last_used: secret.last_used_at.map(format_timestamp_rfc3339),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretListDto<'a> {
    pipeline_secrets: Vec<SecretDto<'a>>,
    total_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DescribeDto<'a> {
    pipeline_secret: SecretDto<'a>,
}

pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let search = query.search.clone().unwrap_or_default();
    let (max, offset) = (query.max.unwrap_or(10_000), query.offset.unwrap_or(0));
    let page = state.ports.secrets.list_secrets(&actor, query.scope(), search, max, offset).await?;
    let list = SecretListDto {
        pipeline_secrets: page.items.iter().map(secret_dto).collect(),
        total_size: page.total,
    };
    Ok(Json(list).into_response())
}

/// The value arrives as JSON text and goes straight into a `SecretString`: the request type has
/// no `Debug`, so it cannot end up in a log line.
#[derive(Deserialize)]
pub struct CreateRequest {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
pub struct UpdateRequest {
    value: Option<String>,
}

fn required_value(value: Option<String>) -> Result<SecretString, ApiError> {
    value.map(SecretString::from).ok_or_else(|| AppError::bad_request("Give the secret's value.").into())
}

pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<ScopeQuery>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<Json<Value>, ApiError> {
    let name = body.name.unwrap_or_default();
    let value = required_value(body.value)?;
    let id = state.ports.secrets.create_secret(&actor, query.scope(), name, value).await?;
    Ok(Json(json!({ "secretId": id })))
}

pub async fn validate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<StatusCode, ApiError> {
    let name = query.name.clone().unwrap_or_default();
    state.ports.secrets.validate_secret_name(&actor, query.scope(), name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn describe(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(secret_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let secret = state.ports.secrets.describe_secret(&actor, query.scope(), secret_id).await?;
    Ok(Json(DescribeDto { pipeline_secret: secret_dto(&secret) }).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(secret_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ScopeQuery>,
    ApiJson(body): ApiJson<UpdateRequest>,
) -> Result<StatusCode, ApiError> {
    let value = required_value(body.value)?;
    state.ports.secrets.update_secret(&actor, query.scope(), secret_id, value).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(secret_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<StatusCode, ApiError> {
    state.ports.secrets.delete_secret(&actor, query.scope(), secret_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
