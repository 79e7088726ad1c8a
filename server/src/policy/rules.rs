//! The pure rules behind `authorize`: from the caller's participant row (if any) to a
//! `WorkspaceAccess` or a refusal. No database here, so each rule can be read (and tested) alone.
//!
//! Guarantees: no row or no known role is "not found" (deny by default, and ids outside the
//! caller's reach reveal nothing); a known role without the permission is "forbidden".

use super::{OrgAccess, OrgPermission, WorkspaceAccess};
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

/// Deny by default, for an organization: `membership` is `Some(is_owner)` for a member, `exists`
/// whether the organization exists. Instance administrators count as owners; a non-member is
/// "not found"; a member who is not an owner cannot manage.
pub(super) fn decide_org(
    actor: &SessionUser,
    membership: Option<bool>,
    exists: bool,
    org_id: i64,
    permission: OrgPermission,
) -> Result<OrgAccess, AppError> {
    let is_owner = match membership {
        Some(is_owner) => is_owner || actor.is_instance_admin,
        None if actor.is_instance_admin && exists => true,
        None => return Err(AppError::not_found("Organization")),
    };
    if permission == OrgPermission::ManageIdentities && !is_owner {
        tracing::info!(user_id = actor.id, org_id, ?permission, "access denied");
        return Err(AppError::Forbidden(
            "Only the organization's owners can manage its managed identities and other members' \
             credentials."
                .into(),
        ));
    }
    Ok(OrgAccess { org_id, is_owner })
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
    fn organizations_let_members_use_and_owners_and_instance_admins_manage_identities() {
        use OrgPermission::{ManageIdentities, UseIdentities};
        let admin = SessionUser { is_instance_admin: true, ..actor() };
        let not_found = |r: Result<OrgAccess, AppError>| matches!(r, Err(AppError::NotFound(_)));
        assert!(not_found(decide_org(&actor(), None, true, 3, UseIdentities)));
        assert!(not_found(decide_org(&admin, None, false, 3, UseIdentities)));
        let member = decide_org(&actor(), Some(false), true, 3, UseIdentities).unwrap();
        assert_eq!(member, OrgAccess { org_id: 3, is_owner: false });
        let refusal = decide_org(&actor(), Some(false), true, 3, ManageIdentities);
        assert!(matches!(refusal, Err(AppError::Forbidden(_))), "{refusal:?}");
        for (who, membership) in [(actor(), Some(true)), (admin.clone(), None), (admin, Some(false))] {
            let access = decide_org(&who, membership, true, 3, ManageIdentities).unwrap();
            assert!(access.is_owner, "{who:?} {membership:?}");
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
