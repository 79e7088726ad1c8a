//! `PUT /workspaces/{workspaceId}/host-identity` (Strongroom's own, not in Seqera's API): an
//! instance administrator allows or withdraws a workspace's use of the Strongroom host's own
//! cloud identity, and learns the external id Strongroom sends for it.

use super::extract::{ApiError, ApiJson, ApiPath, Caller};
use crate::http::AppState;
use app::error::AppError;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct HostIdentityRequest {
    allowed: Option<bool>,
}

pub async fn set(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(workspace_id): ApiPath<i64>,
    ApiJson(body): ApiJson<HostIdentityRequest>,
) -> Result<Json<Value>, ApiError> {
    let allowed = body.allowed.ok_or_else(|| AppError::bad_request("Give allowed: true or false."))?;
    let grant = state.ports.host_identity.set_host_identity(&actor, workspace_id, allowed).await?;
    Ok(Json(json!({
        "workspaceId": workspace_id.to_string(),
        "hostIdentityAllowed": grant.allowed,
        "externalId": grant.external_id,
    })))
}
