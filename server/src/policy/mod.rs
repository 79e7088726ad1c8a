//! The one policy point. Every workspace-scoped action, from the UI or the REST API, asks
//! `authorize` first and receives a `WorkspaceAccess` capability, which is the only way to obtain
//! the workspace row the action then works on.
//!
//! Guarantees: deny by default (no role, no access); a workspace the caller does not take part in,
//! or one paired with another organization's id, is "not found", never "forbidden", so ids outside
//! the caller's reach reveal nothing; a role change is seen by the very next request, because the
//! role is read from the database on every call and never cached.
//!
//! Organization-scoped actions (managed identities) ask `authorize_org` and receive an
//! `OrgAccess` the same way: members (owners, and participants of any of its workspaces) use the
//! organization's identities, owners and instance administrators manage them, and anyone else is
//! told the organization is "not found".
//!
//! This file reads and records; the decision itself is a pure function of the caller's row
//! (`rules.rs`), and the role table is `app::model::Role::allows`.

mod rules;

use crate::audit::{self, Event};
use crate::db::{managed_identities, orgs, workspaces, Db};
use crate::error::internal;
use app::error::AppError;
use app::model::{Permission, Role, SessionUser};
use rules::{decide, decide_org, permission_label};

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

/// `authorize_workspace` for a read that fetches the caller's workspace row together with the
/// data it wants, in one query (one database round trip instead of two on a hot path). `fetch`
/// returns the workspace row with the caller's role (as `workspaces::find_with_role_by_id`
/// would) and the data; the data is handed back only with the access, so it is as unreachable
/// without the permission as after `authorize_workspace`.
pub async fn authorize_workspace_with<T, Fetch>(
    db: &Db,
    actor: &SessionUser,
    workspace_id: i64,
    permission: Permission,
    fetch: Fetch,
) -> Result<(WorkspaceAccess, T), AppError>
where
    Fetch: std::future::Future<Output = Result<Option<(workspaces::WorkspaceRow, T)>, sqlx::Error>>,
{
    let ip = audit::client_ip();
    let (row, data) = match fetch.await.map_err(internal)? {
        Some((row, data)) => (Some(row), Some(data)),
        None => (None, None),
    };
    let access =
        recorded(db, actor, &ip, workspace_id, permission, decide(actor, row, workspace_id, permission))
            .await?;
    // A granted access implies the row was found, and with it the data.
    Ok((access, data.ok_or(AppError::Internal)?))
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
        audit::append_alone(db, event, crate::clock::now_ms()).await;
    }
    decision
}

/// Instance administration (users, the instance audit view) is for instance admins only;
/// a refusal is recorded in the instance's audit trail.
pub async fn require_instance_admin(db: &Db, actor: &SessionUser, what: &str) -> Result<(), AppError> {
    if actor.is_instance_admin {
        return Ok(());
    }
    let event = Event::denied(actor, format!("{what} needs an instance administrator"));
    audit::append_alone(db, event, crate::clock::now_ms()).await;
    Err(AppError::Forbidden(format!("Only an instance administrator can {what}.")))
}

/// What an organization-scoped action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgPermission {
    /// List and describe managed identities, manage one's own managed credentials.
    UseIdentities,
    /// Create, change and delete managed identities; list and delete anyone's credentials.
    ManageIdentities,
}

/// Proof that `actor` may do an `OrgPermission` in this organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgAccess {
    pub org_id: i64,
    /// An owner of the organization, or an instance administrator (who count as owners here).
    pub is_owner: bool,
}

pub async fn authorize_org(
    db: &Db,
    actor: &SessionUser,
    org_id: i64,
    permission: OrgPermission,
) -> Result<OrgAccess, AppError> {
    let ip = audit::client_ip();
    let membership = orgs::find_for_user(&db.pool, actor.id, org_id).await.map_err(internal)?;
    let membership = membership.map(|org| org.is_owner != 0);
    // Instance administrators act as owners of organizations they take no part in.
    let exists = match membership {
        None if actor.is_instance_admin => {
            managed_identities::org_exists(&db.pool, org_id).await.map_err(internal)?
        }
        _ => membership.is_some(),
    };
    let decision = decide_org(actor, membership, exists, org_id, permission);
    if let Err(AppError::Forbidden(refusal)) = &decision {
        let event = Event::denied(actor, format!("organization {org_id}: {refusal}")).from_ip(&ip);
        audit::append_alone(db, event, crate::clock::now_ms()).await;
    }
    decision
}
