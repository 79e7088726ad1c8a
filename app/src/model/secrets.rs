//! Pipeline secrets as the UI lists them: names and dates, never a value.

use serde::{Deserialize, Serialize};

/// A pipeline secret as anyone may see it: name and dates. There is no value field, on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
    /// For a workspace secret: the caller has a personal secret of the same name, which is the
    /// one used at the caller's launches.
    #[serde(default)]
    pub overridden_by_yours: bool,
    /// For a personal secret: the workspaces ("org / workspace") whose secret of the same name it
    /// overrides at the caller's launches.
    #[serde(default)]
    pub overrides_in: Vec<String>,
}

/// Where a secret lives: a workspace's secrets, or the caller's own ("Your secrets").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretScope {
    Workspace(i64),
    Mine,
}
