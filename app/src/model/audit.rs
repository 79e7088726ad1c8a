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
    /// The workspace's full name today (the instance view shows it), if the workspace still exists.
    pub workspace_name: Option<String>,
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

/// What the audit pages narrow the trail to; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Part of the actor's email (or of what was typed at a failed sign-in), any case.
    pub who: Option<String>,
    /// An action (`secret.deleted`) or a group of them (`secret`), see `AUDIT_ACTION_GROUPS`.
    pub what: Option<String>,
    /// `ok`, `failed` or `denied`.
    pub outcome: Option<String>,
    /// Entries at or after this time (milliseconds since the epoch, UTC).
    pub from: Option<i64>,
    /// Entries before this time (milliseconds since the epoch, UTC).
    pub to: Option<i64>,
}

impl AuditFilter {
    /// Blank text means "any": a form submits its empty fields as empty strings.
    pub fn normalized(self) -> AuditFilter {
        let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        AuditFilter { who: text(self.who), what: text(self.what), outcome: text(self.outcome), ..self }
    }

    pub fn is_empty(&self) -> bool {
        *self == AuditFilter::default()
    }
}

/// The outcomes an entry can have, for the filter's picker.
pub const AUDIT_OUTCOMES: [&str; 3] = ["ok", "failed", "denied"];

/// Groups of actions for the filter's picker: the part of an action before its dot, and a label.
pub const AUDIT_ACTION_GROUPS: [(&str, &str); 12] = [
    ("secret", "Secrets"),
    ("participant", "Members"),
    ("compute_env", "Compute environments"),
    ("credentials", "Credentials"),
    ("managed_identity", "Cluster identities"),
    ("managed_credentials", "Cluster credentials"),
    ("run", "Runs"),
    ("token", "Access tokens"),
    ("sign-in", "Sign-ins"),
    ("password", "Passwords"),
    ("user", "Users"),
    ("workspace", "Workspaces"),
];
