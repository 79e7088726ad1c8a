//! Organizations, workspaces and their participants.

use crate::audit::Event;
use crate::db::{self, orgs, participants, users, workspaces, Tx};
use crate::domain::{internal, now_ms, Core};
use crate::policy::{authorize, WorkspaceAccess};
use app::error::AppError;
use app::model::*;
use app::ports::{Page, WorkspacesPort};
use async_trait::async_trait;
use std::sync::Arc;

/// Organizations, workspaces and participants: the `WorkspacesPort`.
pub struct Workspaces {
    core: Arc<Core>,
}

fn org_summary(row: orgs::OrgRow) -> OrgSummary {
    OrgSummary {
        id: row.id,
        is_owner: row.is_owner != 0,
        name: row.name,
        full_name: row.full_name,
        description: row.description,
    }
}

fn workspace_summary(row: workspaces::WorkspaceRow) -> WorkspaceSummary {
    WorkspaceSummary {
        role: row.role.as_deref().and_then(|r| r.parse().ok()),
        id: row.id,
        org_id: row.org_id,
        name: row.name,
        full_name: row.full_name,
        description: row.description,
        visibility: row.visibility,
    }
}

fn participant(row: participants::ParticipantRow) -> Result<Participant, AppError> {
    Ok(Participant {
        role: row.role.parse().map_err(internal)?,
        participant_id: row.id,
        user_id: row.user_id,
        email: row.email,
        display_name: row.display_name,
    })
}

struct CheckedNames {
    name: String,
    full_name: String,
    description: String,
}

fn check_names(what: &str, name: &str, full_name: &str, description: &str) -> Result<CheckedNames, AppError> {
    let name = name.trim();
    check_resource_name(what, name).map_err(AppError::BadRequest)?;
    check_full_name(what, full_name).map_err(AppError::BadRequest)?;
    check_description(description).map_err(AppError::BadRequest)?;
    Ok(CheckedNames {
        name: name.to_string(),
        full_name: full_name.trim().to_string(),
        description: description.trim().to_string(),
    })
}

/// Only owners may make, unmake or remove owners: an admin cannot promote themselves or take the
/// workspace away from its owners.
fn check_owner_rule(access: &WorkspaceAccess, touches_owner: bool) -> Result<(), AppError> {
    if touches_owner && access.role != Role::Owner {
        return Err(AppError::Forbidden("Only an owner can grant, change or remove the owner role.".into()));
    }
    Ok(())
}

async fn is_last_owner(tx: &mut Tx<'_>, access: &WorkspaceAccess) -> Result<bool, AppError> {
    let owners = participants::count_owners(tx, access.workspace_id()).await.map_err(internal)?;
    Ok(owners <= 1)
}

impl Workspaces {
    pub fn new(core: Arc<Core>) -> Workspaces {
        Workspaces { core }
    }

    /// Checks the caller may manage participants, opens a transaction holding the workspace's
    /// lock (so owner counts stay true until commit) and finds the participant in it.
    async fn lock_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
    ) -> Result<(WorkspaceAccess, Tx<'static>, participants::ParticipantRow), AppError> {
        let access =
            authorize(&self.core.db, actor, org_id, workspace_id, Permission::ManageParticipants).await?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        workspaces::lock(&mut tx, access.workspace_id(), now_ms()).await.map_err(internal)?;
        let current = participants::find(&mut tx, access.workspace_id(), participant_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::not_found("Participant"))?;
        Ok((access, tx, current))
    }

    async fn visible_org(&self, actor: &SessionUser, org_id: i64) -> Result<OrgSummary, AppError> {
        orgs::find_for_user(&self.core.db.pool, actor.id, org_id)
            .await
            .map_err(internal)?
            .map(org_summary)
            .ok_or_else(|| AppError::not_found("Organization"))
    }
}

#[async_trait]
impl WorkspacesPort for Workspaces {
    async fn list_orgs(&self, actor: &SessionUser) -> Result<Vec<OrgSummary>, AppError> {
        let rows = orgs::list_for_user(&self.core.db.pool, actor.id).await.map_err(internal)?;
        Ok(rows.into_iter().map(org_summary).collect())
    }

    /// Any signed-in user may create an organization and becomes its owner.
    async fn create_org(
        &self,
        actor: &SessionUser,
        name: String,
        full_name: String,
        description: String,
    ) -> Result<OrgSummary, AppError> {
        let checked = check_names("organization", &name, &full_name, &description)?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let new = orgs::NewOrg {
            name: &checked.name,
            full_name: &checked.full_name,
            description: &checked.description,
            created_by: actor.id,
        };
        let id = match orgs::insert(&mut tx, new, now_ms()).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::conflict(format!(
                    "An organization named '{}' already exists.",
                    checked.name
                )))
            }
            Err(e) => return Err(internal(e)),
        };
        let event = Event::by(actor, "organization.created")
            .target(format!("organization '{}' (id {id})", checked.name));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(org_id = id, by = actor.id, "organization created");
        self.visible_org(actor, id).await
    }

    async fn list_workspaces(
        &self,
        actor: &SessionUser,
        org_id: i64,
    ) -> Result<Vec<WorkspaceSummary>, AppError> {
        self.visible_org(actor, org_id).await?;
        let rows = workspaces::list_for_user(&self.core.db.pool, actor.id, org_id).await.map_err(internal)?;
        Ok(rows.into_iter().map(workspace_summary).collect())
    }

    /// Organization owners create workspaces and become their first owner.
    async fn create_workspace(
        &self,
        actor: &SessionUser,
        org_id: i64,
        name: String,
        full_name: String,
        description: String,
    ) -> Result<WorkspaceSummary, AppError> {
        let org = self.visible_org(actor, org_id).await?;
        if !org.is_owner {
            let refusal =
                AppError::Forbidden("Only the organization's owners can create workspaces in it.".into());
            return Err(self.core.denied(actor, None, refusal).await);
        }
        let checked = check_names("workspace", &name, &full_name, &description)?;
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let new = workspaces::NewWorkspace {
            org_id,
            name: &checked.name,
            full_name: &checked.full_name,
            description: &checked.description,
        };
        let id = match workspaces::insert(&mut tx, new, now).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::conflict(format!(
                    "This organization already has a workspace named '{}'.",
                    checked.name
                )))
            }
            Err(e) => return Err(internal(e)),
        };
        participants::insert(&mut tx, id, actor.id, Role::Owner.as_str(), now).await.map_err(internal)?;
        self.core.insert_local_compute_env(&mut tx, id, now).await?;
        let event = Event::by(actor, "workspace.created")
            .workspace(id)
            .target(format!("workspace '{}' (id {id})", checked.name))
            .detail(format!("{} joined as owner", actor.email));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(org_id, workspace_id = id, by = actor.id, "workspace created");
        let row =
            workspaces::find_with_role(&self.core.db.pool, actor.id, org_id, id).await.map_err(internal)?;
        row.map(workspace_summary).ok_or(AppError::Internal)
    }

    async fn workspace_view(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
    ) -> Result<WorkspaceView, AppError> {
        let access = authorize(&self.core.db, actor, org_id, workspace_id, Permission::ReadWorkspace).await?;
        let org = self.visible_org(actor, org_id).await?;
        Ok(WorkspaceView {
            org,
            role: access.role,
            grants: Grants::from(access.role),
            workspace: workspace_summary(access.workspace),
        })
    }

    async fn list_participants(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        search: Option<String>,
        max: i64,
        offset: i64,
    ) -> Result<Page<Participant>, AppError> {
        let access = authorize(&self.core.db, actor, org_id, workspace_id, Permission::ReadWorkspace).await?;
        if !(1..=1000).contains(&max) || offset < 0 {
            return Err(AppError::bad_request("max must be 1 to 1000 and offset 0 or more."));
        }
        let (rows, total) =
            participants::list(&self.core.db.pool, access.workspace_id(), search.as_deref(), max, offset)
                .await
                .map_err(internal)?;
        let participants = rows.into_iter().map(participant).collect::<Result<_, _>>()?;
        Ok(Page { items: participants, total })
    }

    async fn add_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        email: String,
        role: Role,
    ) -> Result<Participant, AppError> {
        let access =
            authorize(&self.core.db, actor, org_id, workspace_id, Permission::ManageParticipants).await?;
        if let Err(refusal) = check_owner_rule(&access, role == Role::Owner) {
            return Err(self.core.denied(actor, Some(access.workspace_id()), refusal).await);
        }
        let email = normalize_email(&email);
        check_email(&email).map_err(AppError::BadRequest)?;
        let user =
            users::find_by_email(&self.core.db.pool, &email).await.map_err(internal)?.ok_or_else(|| {
                AppError::NotFound(
                    "No Strongroom user has that email. The instance administrator creates accounts first."
                        .into(),
                )
            })?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let id = match participants::insert(&mut tx, access.workspace_id(), user.id, role.as_str(), now_ms())
            .await
        {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::conflict("That user already takes part in this workspace."))
            }
            Err(e) => return Err(internal(e)),
        };
        let event = Event::by(actor, "participant.added")
            .workspace(access.workspace_id())
            .target(format!("{} (participant {id})", user.email))
            .detail(format!("role {role}"));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(workspace_id, user_id = user.id, %role, by = actor.id, "participant added");
        Ok(Participant {
            participant_id: id,
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
            role,
        })
    }

    async fn set_participant_role(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
        role: Role,
    ) -> Result<(), AppError> {
        let (access, mut tx, current) =
            self.lock_participant(actor, org_id, workspace_id, participant_id).await?;
        let was_owner = current.role == Role::Owner.as_str();
        if let Err(refusal) = check_owner_rule(&access, was_owner || role == Role::Owner) {
            drop(tx); // releases the workspace lock before the refusal is recorded
            return Err(self.core.denied(actor, Some(access.workspace_id()), refusal).await);
        }
        if was_owner && role != Role::Owner && is_last_owner(&mut tx, &access).await? {
            return Err(AppError::bad_request(
                "This is the workspace's last owner. Make another participant an owner first.",
            ));
        }
        participants::set_role(&mut tx, access.workspace_id(), participant_id, role.as_str())
            .await
            .map_err(internal)?;
        let event = Event::by(actor, "participant.role_changed")
            .workspace(access.workspace_id())
            .target(format!("{} (participant {participant_id})", current.email))
            .detail(format!("role {} → {role}", current.role));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(workspace_id, participant_id, %role, by = actor.id, "participant role changed");
        Ok(())
    }

    async fn remove_participant(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        participant_id: i64,
    ) -> Result<(), AppError> {
        let (access, mut tx, current) =
            self.lock_participant(actor, org_id, workspace_id, participant_id).await?;
        let was_owner = current.role == Role::Owner.as_str();
        if let Err(refusal) = check_owner_rule(&access, was_owner) {
            drop(tx); // releases the workspace lock before the refusal is recorded
            return Err(self.core.denied(actor, Some(access.workspace_id()), refusal).await);
        }
        if was_owner && is_last_owner(&mut tx, &access).await? {
            return Err(AppError::bad_request("This is the workspace's last owner and cannot be removed."));
        }
        participants::delete(&mut tx, access.workspace_id(), participant_id).await.map_err(internal)?;
        let event = Event::by(actor, "participant.removed")
            .workspace(access.workspace_id())
            .target(format!("{} (participant {participant_id})", current.email))
            .detail(format!("had role {}", current.role));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(workspace_id, participant_id, by = actor.id, "participant removed");
        Ok(())
    }
}
