//! `/pipeline-secrets`: one resource for both scopes, as in Seqera's API. With `?workspaceId=N`
//! it is the workspace's secrets; without it, the caller's own. No response ever holds a value.

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::{format_timestamp_rfc3339, SecretMeta, SecretScope};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use secrecy::SecretString;
use serde::Deserialize;
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

fn secret_dto(secret: &SecretMeta) -> Value {
    json!({
        "id": secret.id,
        "name": secret.name,
        "dateCreated": format_timestamp_rfc3339(secret.created_at),
        "lastUpdated": format_timestamp_rfc3339(secret.updated_at),
        "lastUsed": secret.last_used_at.map(format_timestamp_rfc3339),
    })
}

pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Json<Value>, ApiError> {
    let search = query.search.clone().unwrap_or_default();
    let (max, offset) = (query.max.unwrap_or(10_000), query.offset.unwrap_or(0));
    let page = state.ports.secrets.list_secrets(&actor, query.scope(), search, max, offset).await?;
    let dtos: Vec<Value> = page.items.iter().map(secret_dto).collect();
    Ok(Json(json!({ "pipelineSecrets": dtos, "totalSize": page.total })))
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
) -> Result<Json<Value>, ApiError> {
    let secret = state.ports.secrets.describe_secret(&actor, query.scope(), secret_id).await?;
    Ok(Json(json!({ "pipelineSecret": secret_dto(&secret) })))
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
