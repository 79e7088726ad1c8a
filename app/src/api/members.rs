use crate::error::AppError;
use crate::model::Participant;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {super::context::*, crate::model::Role};

/// How many participants the UI shows at once; the REST API pages with `max`/`offset`.
#[cfg(feature = "ssr")]
const UI_PARTICIPANT_LIMIT: i64 = 1000;

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse().map_err(AppError::BadRequest)
}

#[server(prefix = "/sfn", endpoint = "list_participants")]
pub async fn list_participants(org_id: i64, workspace_id: i64) -> Result<Vec<Participant>, AppError> {
    let page = ports()?
        .workspaces
        .list_participants(&actor()?, org_id, workspace_id, None, UI_PARTICIPANT_LIMIT, 0)
        .await;
    finish(page.map(|page| page.items))
}

#[server(prefix = "/sfn", endpoint = "add_participant")]
pub async fn add_participant(
    org_id: i64,
    workspace_id: i64,
    email: String,
    role: String,
) -> Result<Participant, AppError> {
    let result = async {
        let role = parse_role(&role)?;
        ports()?.workspaces.add_participant(&actor()?, org_id, workspace_id, email, role).await
    };
    finish(result.await)
}

#[server(prefix = "/sfn", endpoint = "set_participant_role")]
pub async fn set_participant_role(
    org_id: i64,
    workspace_id: i64,
    participant_id: i64,
    role: String,
) -> Result<(), AppError> {
    let result = async {
        let role = parse_role(&role)?;
        ports()?.workspaces.set_participant_role(&actor()?, org_id, workspace_id, participant_id, role).await
    };
    finish(result.await)
}

#[server(prefix = "/sfn", endpoint = "remove_participant")]
pub async fn remove_participant(org_id: i64, workspace_id: i64, participant_id: i64) -> Result<(), AppError> {
    finish(ports()?.workspaces.remove_participant(&actor()?, org_id, workspace_id, participant_id).await)
}
