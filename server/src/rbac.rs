//! The one policy point. Every workspace-scoped action, from the UI or the REST API, asks
//! `authorize` first and receives a `WorkspaceAccess` capability, which is the only way to obtain
//! the workspace row the action then works on.
//!
//! Guarantees: deny by default (no role, no access); a workspace the caller does not take part in,
//! or one paired with another organization's id, is "not found", never "forbidden", so ids outside
//! the caller's reach reveal nothing; a role change is seen by the very next request, because the
//! role is read from the database on every call and never cached.

use crate::audit::{self, Event};
use crate::db::{workspaces, Db};
use crate::domain::internal;
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
    // Read before the first await: a page's data loading may be polled later where neither the
    // request's task-local nor its Leptos context is reachable.
    let ip = audit::client_ip();
    let row = workspaces::find_with_role(&db.pool, actor.id, org_id, workspace_id).await.map_err(internal)?;
    recorded(db, actor, &ip, workspace_id, permission, decide(actor, row, workspace_id, permission)).await
}

/// `authorize` for APIs that name the workspace without its organization.
pub async fn authorize_workspace(
    db: &Db,
    actor: &SessionUser,
    workspace_id: i64,
    permission: Permission,
) -> Result<WorkspaceAccess, AppError> {
    let ip = audit::client_ip();
    let row = workspaces::find_with_role_by_id(&db.pool, actor.id, workspace_id).await.map_err(internal)?;
    recorded(db, actor, &ip, workspace_id, permission, decide(actor, row, workspace_id, permission)).await
}

/// A refusal to a participant goes to the workspace's audit trail. (A workspace the caller does
/// not take part in answers "not found" and is not recorded there: its admins need not see it.)
async fn recorded(
    db: &Db,
    actor: &SessionUser,
    ip: &str,
    workspace_id: i64,
    permission: Permission,
    decision: Result<WorkspaceAccess, AppError>,
) -> Result<WorkspaceAccess, AppError> {
    if let Err(AppError::Forbidden(_)) = &decision {
        let event = Event::denied(actor, format!("needs the {} permission", permission_label(permission)))
            .workspace(workspace_id)
            .from_ip(ip);
        audit::append_alone(db, event, crate::domain::now_ms()).await;
    }
    decision
}

fn permission_label(permission: Permission) -> &'static str {
    match permission {
        Permission::ReadWorkspace => "read-workspace",
        Permission::WriteSecrets => "write-secrets",
        Permission::LaunchWorkflow => "launch",
        Permission::ManageCompute => "manage-compute",
        Permission::ManageParticipants => "manage-participants",
    }
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

/// Instance administration (users, the instance audit view) is for instance admins only;
/// a refusal is recorded in the instance's audit trail.
pub async fn require_instance_admin(db: &Db, actor: &SessionUser, what: &str) -> Result<(), AppError> {
    if actor.is_instance_admin {
        return Ok(());
    }
    let event = Event::denied(actor, format!("{what} needs an instance administrator"));
    audit::append_alone(db, event, crate::domain::now_ms()).await;
    Err(AppError::Forbidden(format!("Only an instance administrator can {what}.")))
}
