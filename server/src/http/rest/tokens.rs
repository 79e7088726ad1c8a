//! `/tokens`: the caller's personal access tokens.

use super::extract::{ApiError, ApiJson, ApiPath, Caller};
use crate::http::AppState;
use app::model::{format_timestamp_rfc3339, TokenSummary};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};

fn token_dto(token: &TokenSummary) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "dateCreated": format_timestamp_rfc3339(token.created_at),
        "lastUsed": token.last_used_at.map(format_timestamp_rfc3339),
        "expiresAt": token.expires_at.map(format_timestamp_rfc3339),
    })
}

pub async fn list(State(state): State<AppState>, Caller(actor): Caller) -> Result<Json<Value>, ApiError> {
    let tokens = state.ports.tokens.list_tokens(&actor).await?;
    Ok(Json(json!({ "tokens": tokens.iter().map(token_dto).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    #[serde(default)]
    name: String,
    /// Strongroom extension: the token expires after this many days (none: never).
    expires_in_days: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<Json<Value>, ApiError> {
    let (token, secret) = state.ports.tokens.create_token(&actor, body.name, body.expires_in_days).await?;
    // The one response that carries the token: the caller must store it now.
    Ok(Json(json!({ "accessKey": secret.expose_secret(), "token": token_dto(&token) })))
}

pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(token_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.ports.tokens.delete_token(&actor, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
