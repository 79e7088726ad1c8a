//! Accounts as the UI sees them: the signed-in user, and users as instance admins list them.

use serde::{Deserialize, Serialize};

/// The signed-in user as the UI and the policy point see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub is_instance_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub is_instance_admin: bool,
    pub disabled: bool,
    /// Milliseconds since the Unix epoch, UTC.
    pub created_at: i64,
}
