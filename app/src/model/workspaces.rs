//! Organizations, workspaces and their participants, as listed and as a workspace page's header.

use super::{Grants, Role};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub description: String,
    /// Whether the caller owns the organization (and so may create workspaces in it).
    pub is_owner: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSummary {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub full_name: String,
    pub description: String,
    pub visibility: String,
    /// The caller's role; `None` for an organization owner who is not a participant.
    pub role: Option<Role>,
}

/// A workspace page header: the workspace, the caller's role and what that role may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub org: OrgSummary,
    pub workspace: WorkspaceSummary,
    pub role: Role,
    pub grants: Grants,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub participant_id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}
