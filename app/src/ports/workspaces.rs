//! Organizations, workspaces and their participants, for the home, workspace and members pages
//! and `/api/orgs…`.

use super::Page;
use crate::error::AppError;
use crate::model::{OrgSummary, Participant, Role, SessionUser, WorkspaceSummary, WorkspaceView};
use async_trait::async_trait;

#[async_trait]
pub trait WorkspacesPort: Send + Sync + 'static {
    async fn list_orgs(&self, actor: &SessionUser) -> Result<Vec<OrgSummary>, AppError>;
    /// Any signed-in user may create an organization and becomes its owner.
    async fn create_org(
        &self,
        actor: &SessionUser,
        name: String,
        full_name: String,
        description: String,
    ) -> Result<OrgSummary, AppError>;
    async fn list_workspaces(
        &self,
        actor: &SessionUser,
        org_id: i64,
    ) -> Result<Vec<WorkspaceSummary>, AppError>;
    /// Organization owners create workspaces and become their first owner.
    async fn create_workspace(
        &self,
        actor: &SessionUser,
        org_id: i64,
        name: String,
        full_name: String,
        description: String,
    ) -> Result<WorkspaceSummary, AppError>;
    async fn workspace_view(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
    ) -> Result<WorkspaceView, AppError>;
    /// Participants matching `search`, `max` (1 to 1000) from `offset`.
    async fn list_participants(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        search: Option<String>,
        max: i64,
        offset: i64,
    ) -> Result<Page<Participant>, AppError>;
    async fn add_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        email: String,
        role: Role,
    ) -> Result<Participant, AppError>;
    async fn set_participant_role(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
        role: Role,
    ) -> Result<(), AppError>;
    async fn remove_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
    ) -> Result<(), AppError>;
}
