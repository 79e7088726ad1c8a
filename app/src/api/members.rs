use crate::error::AppError;
use crate::model::Participant;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {super::context::*, crate::model::Role};

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse().map_err(AppError::BadRequest)
}

#[server(prefix = "/sfn", endpoint = "list_participants")]
pub async fn list_participants(org_id: i64, workspace_id: i64) -> Result<Vec<Participant>, AppError> {
    finish(backend()?.list_participants(&actor()?, org_id, workspace_id).await)
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
        backend()?.add_participant(&actor()?, org_id, workspace_id, email, role).await
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
        backend()?.set_participant_role(&actor()?, org_id, workspace_id, participant_id, role).await
    };
    finish(result.await)
}

#[server(prefix = "/sfn", endpoint = "remove_participant")]
pub async fn remove_participant(org_id: i64, workspace_id: i64, participant_id: i64) -> Result<(), AppError> {
    finish(backend()?.remove_participant(&actor()?, org_id, workspace_id, participant_id).await)
}
