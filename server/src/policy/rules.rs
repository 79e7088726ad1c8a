//! The pure rules behind `authorize`: from the caller's participant row (if any) to a
//! `WorkspaceAccess` or a refusal. No database here, so each rule can be read (and tested) alone.
//!
//! Guarantees: no row or no known role is "not found" (deny by default, and ids outside the
//! caller's reach reveal nothing); a known role without the permission is "forbidden".

use super::WorkspaceAccess;
use crate::db::workspaces;
use app::error::AppError;
use app::model::{Permission, Role, SessionUser};

/// The permission as audit entries name it.
pub(super) fn permission_label(permission: Permission) -> &'static str {
    match permission {
        Permission::ReadWorkspace => "read-workspace",
        Permission::WriteSecrets => "write-secrets",
        Permission::LaunchWorkflow => "launch",
        Permission::ManageCompute => "manage-compute",
        Permission::ManageParticipants => "manage-participants",
    }
}

/// Deny by default: access only for a participant whose role allows `permission`.
pub(super) fn decide(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> SessionUser {
        SessionUser {
            id: 1,
            email: "a@example.org".into(),
            display_name: "A".into(),
            is_instance_admin: false,
        }
    }

    fn row(role: Option<&str>) -> Option<workspaces::WorkspaceRow> {
        Some(workspaces::WorkspaceRow {
            id: 7,
            org_id: 3,
            name: "ws".into(),
            full_name: "Workspace".into(),
            description: String::new(),
            visibility: "PRIVATE".into(),
            role: role.map(str::to_string),
        })
    }

    #[test]
    fn no_participation_and_unknown_roles_are_not_found() {
        for row in [None, row(None), row(Some("superuser"))] {
            let refusal = decide(&actor(), row, 7, Permission::ReadWorkspace).unwrap_err();
            assert!(matches!(refusal, AppError::NotFound(_)), "{refusal:?}");
        }
    }

    #[test]
    fn a_role_without_the_permission_is_forbidden_and_one_with_it_gets_access() {
        let refusal = decide(&actor(), row(Some(Role::View.as_str())), 7, Permission::WriteSecrets);
        assert!(matches!(refusal, Err(AppError::Forbidden(_))), "{refusal:?}");
        let access = decide(&actor(), row(Some(Role::Owner.as_str())), 7, Permission::WriteSecrets).unwrap();
        assert_eq!((access.workspace_id(), access.role), (7, Role::Owner));
    }
}
