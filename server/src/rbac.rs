//! The one policy point. Every workspace-scoped action, from the UI or the REST API, asks
//! `authorize` first and receives a `WorkspaceAccess` capability, which is the only way to obtain
//! the workspace row the action then works on.
//!
//! Guarantees: deny by default (no role, no access); a workspace the caller does not take part in,
//! or one paired with another organization's id, is "not found", never "forbidden", so ids outside
//! the caller's reach reveal nothing; a role change is seen by the very next request, because the
//! role is read from the database on every call and never cached.

use crate::db::{workspaces, Db};
use crate::services::internal;
use app::error::AppError;
use app::model::{Permission, Role, SessionUser};

/// Proof that `actor` may do `permission` in this workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub workspace: workspaces::WorkspaceRow,
    pub role: Role,
}

impl WorkspaceAccess {
    pub fn workspace_id(&self) -> i64 {
        self.workspace.id
    }
}

pub async fn authorize(
    db: &Db,
    actor: &SessionUser,
    org_id: i64,
    workspace_id: i64,
    permission: Permission,
) -> Result<WorkspaceAccess, AppError> {
    let row = workspaces::find_with_role(&db.pool, actor.id, org_id, workspace_id).await.map_err(internal)?;
    decide(actor, row, workspace_id, permission)
}

/// `authorize` for APIs that name the workspace without its organization.
pub async fn authorize_workspace(
    db: &Db,
    actor: &SessionUser,
    workspace_id: i64,
    permission: Permission,
) -> Result<WorkspaceAccess, AppError> {
    let row = workspaces::find_with_role_by_id(&db.pool, actor.id, workspace_id).await.map_err(internal)?;
    decide(actor, row, workspace_id, permission)
}

fn decide(
    actor: &SessionUser,
    row: Option<workspaces::WorkspaceRow>,
    workspace_id: i64,
    permission: Permission,
) -> Result<WorkspaceAccess, AppError> {
    let Some(workspace) = row else {
        return Err(AppError::not_found("Workspace"));
    };
    let Some(role) = workspace.role.as_deref().and_then(|r| r.parse::<Role>().ok()) else {
        return Err(AppError::not_found("Workspace"));
    };
    if !role.allows(permission) {
        tracing::info!(user_id = actor.id, workspace_id, ?permission, %role, "access denied");
        return Err(AppError::forbidden());
    }
    Ok(WorkspaceAccess { workspace, role })
}

/// Instance administration (creating and disabling users) is for instance admins only.
pub fn require_instance_admin(actor: &SessionUser) -> Result<(), AppError> {
    if actor.is_instance_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only an instance administrator can manage users.".into()))
    }
}
