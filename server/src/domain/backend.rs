//! The UI's port: each method forwards to the service method the REST API uses too.

use crate::domain::{Core, NewAccount};
use app::error::AppError;
use app::model::*;
use app::ports::{Authenticated, Backend, ClientInfo, SetCookie};
use async_trait::async_trait;
use secrecy::SecretString;

/// How many participants the UI shows at once; the REST API pages with `max`/`offset`.
const UI_PARTICIPANT_LIMIT: i64 = 1000;

#[async_trait]
impl Backend for Core {
    async fn needs_setup(&self) -> Result<bool, AppError> {
        Core::needs_setup(self).await
    }

    async fn setup_first_admin(
        &self,
        client: &ClientInfo,
        email: String,
        display_name: String,
        password: SecretString,
    ) -> Result<SetCookie, AppError> {
        Core::setup_first_admin(self, client, email, display_name, password).await
    }

    async fn login(
        &self,
        client: &ClientInfo,
        email: String,
        password: SecretString,
    ) -> Result<SetCookie, AppError> {
        Core::login(self, client, email, password).await
    }

    async fn logout(&self, auth: &Authenticated) -> Result<SetCookie, AppError> {
        Core::logout(self, auth).await
    }

    async fn change_password(
        &self,
        auth: &Authenticated,
        current: SecretString,
        new: SecretString,
    ) -> Result<(), AppError> {
        Core::change_password(self, &auth.user, auth.session_id, current, new).await
    }

    async fn list_users(&self, actor: &SessionUser) -> Result<Vec<UserSummary>, AppError> {
        Core::list_users(self, actor).await
    }

    async fn create_user(
        &self,
        actor: &SessionUser,
        email: String,
        display_name: String,
        password: SecretString,
    ) -> Result<UserSummary, AppError> {
        let account = NewAccount { email, display_name, password, is_instance_admin: false };
        Core::create_user(self, actor, account).await
    }

    async fn set_user_disabled(
        &self,
        actor: &SessionUser,
        user_id: i64,
        disabled: bool,
    ) -> Result<(), AppError> {
        Core::set_user_disabled(self, actor, user_id, disabled).await
    }

    async fn list_orgs(&self, actor: &SessionUser) -> Result<Vec<OrgSummary>, AppError> {
        Core::list_orgs(self, actor).await
    }

    async fn create_org(
        &self,
        actor: &SessionUser,
        name: String,
        full_name: String,
        description: String,
    ) -> Result<OrgSummary, AppError> {
        Core::create_org(self, actor, &name, &full_name, &description).await
    }

    async fn list_workspaces(
        &self,
        actor: &SessionUser,
        org_id: i64,
    ) -> Result<Vec<WorkspaceSummary>, AppError> {
        Core::list_workspaces(self, actor, org_id).await
    }

    async fn create_workspace(
        &self,
        actor: &SessionUser,
        org_id: i64,
        name: String,
        full_name: String,
        description: String,
    ) -> Result<WorkspaceSummary, AppError> {
        Core::create_workspace(self, actor, org_id, &name, &full_name, &description).await
    }

    async fn workspace_view(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
    ) -> Result<WorkspaceView, AppError> {
        Core::workspace_view(self, actor, org_id, workspace_id).await
    }

    async fn list_participants(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
    ) -> Result<Vec<Participant>, AppError> {
        Core::list_participants(self, actor, org_id, workspace_id, None, UI_PARTICIPANT_LIMIT, 0)
            .await
            .map(|page| page.participants)
    }

    async fn add_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        email: String,
        role: Role,
    ) -> Result<Participant, AppError> {
        Core::add_participant(self, actor, org_id, workspace_id, &email, role).await
    }

    async fn set_participant_role(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
        role: Role,
    ) -> Result<(), AppError> {
        Core::set_participant_role(self, actor, org_id, workspace_id, participant_id, role).await
    }

    async fn remove_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
    ) -> Result<(), AppError> {
        Core::remove_participant(self, actor, org_id, workspace_id, participant_id).await
    }
}
