//! `/orgs/{orgId}/workspaces/{workspaceId}/participants…`.

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::{Participant, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

const DEFAULT_PAGE: i64 = 100;

fn participant_dto(p: &Participant) -> Value {
    json!({
        "participantId": p.participant_id,
        "memberId": p.user_id,
        "userName": p.email,
        "email": p.email,
        "firstName": p.display_name,
        "type": "MEMBER",
        "wspRole": p.role,
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    max: Option<i64>,
    offset: Option<i64>,
    search: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((org_id, workspace_id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let search = query.search.filter(|s| !s.is_empty());
    let (max, offset) = (query.max.unwrap_or(DEFAULT_PAGE), query.offset.unwrap_or(0));
    let page =
        state.ports.workspaces.list_participants(&actor, org_id, workspace_id, search, max, offset).await?;
    let dtos: Vec<Value> = page.items.iter().map(participant_dto).collect();
    Ok(Json(json!({ "participants": dtos, "totalSize": page.total })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddParticipantRequest {
    user_name_or_email: Option<String>,
    member_id: Option<i64>,
    team_id: Option<i64>,
    /// Not in Seqera's request (it adds as `launch` and changes the role separately); accepted
    /// here to save a round trip.
    role: Option<String>,
}

pub async fn add(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((org_id, workspace_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<AddParticipantRequest>,
) -> Result<Json<Value>, ApiError> {
    if body.team_id.is_some() {
        return Err(AppError::bad_request("Teams are not supported; add users by email.").into());
    }
    let role = match body.role.as_deref() {
        Some(role) => role.parse::<Role>().map_err(AppError::BadRequest)?,
        None => Role::Launch,
    };
    // Seqera's memberId names an organization membership, which Strongroom does not model:
    // participants are added by email.
    let Some(email) = body.user_name_or_email.filter(|e| !e.trim().is_empty()) else {
        let hint = if body.member_id.is_some() { " memberId is not supported." } else { "" };
        return Err(AppError::bad_request(format!("Give the user's email as userNameOrEmail.{hint}")).into());
    };
    let added = state.ports.workspaces.add_participant(&actor, org_id, workspace_id, email, role).await?;
    Ok(Json(json!({ "participant": participant_dto(&added) })))
}

pub async fn remove(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((org_id, workspace_id, participant_id)): ApiPath<(i64, i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state.ports.workspaces.remove_participant(&actor, org_id, workspace_id, participant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct UpdateRoleRequest {
    role: Option<String>,
}

pub async fn set_role(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((org_id, workspace_id, participant_id)): ApiPath<(i64, i64, i64)>,
    ApiJson(body): ApiJson<UpdateRoleRequest>,
) -> Result<StatusCode, ApiError> {
    let role = body
        .role
        .ok_or_else(|| AppError::bad_request("Give the new role."))?
        .parse::<Role>()
        .map_err(AppError::BadRequest)?;
    state.ports.workspaces.set_participant_role(&actor, org_id, workspace_id, participant_id, role).await?;
    Ok(StatusCode::NO_CONTENT)
}
