//! Audit entries as the Audit tab and the instance view show them. Entries name secrets, users
//! and roles; they never hold a value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The entry's position in the hash chain.
    pub seq: i64,
    /// Milliseconds since the epoch, UTC.
    pub at: i64,
    /// The signed-in user's email, or what was typed at a failed sign-in.
    pub actor: String,
    pub ip: String,
    /// What happened, e.g. `secret.created`.
    pub action: String,
    /// `ok`, `failed` or `denied`.
    pub outcome: String,
    pub workspace_id: Option<i64>,
    pub target: String,
    pub detail: String,
}

/// One page of entries, newest first, and where the next (older) page starts, if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub older_than: Option<i64>,
}

/// Entries per page in the UI.
pub const AUDIT_PAGE_SIZE: i64 = 50;
