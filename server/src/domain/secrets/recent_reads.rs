//! Describes and lists of secrets this server answered within the last second, kept per caller,
//! so an API client that polls one secret or one page costs the database nothing for that
//! second (on PostgreSQL a describe is otherwise a round trip to another process).
//!
//! Only answers the caller was allowed to see are kept, with everything that decided them: the
//! caller's role in the workspace, the secret's row, and for a list the override badges drawn
//! from the caller's own secrets. Refusals and "not found" are never kept, so each is decided,
//! and audited, afresh. Every change this server commits that could alter one of them (a
//! secret's create, update or delete, a launch's `lastUsed`, a member added or removed, a role
//! changed, a user disabled: all of them audited, through `Core::commit_audited` or the batched
//! secret writes) empties this memory after its commit, so the next read here sees it. A change
//! made elsewhere, on another replica or by the command line straight in the database, is seen
//! within `recent::TRUST_FOR`, as for access tokens (`recent_tokens`).

use crate::domain::recent::Recent;
use app::model::{SecretMeta, SecretScope};
use app::ports::Page;

/// Distinct describes kept at most within `TRUST_FOR`.
const MAX_DESCRIBES: usize = 10_000;
/// Secrets held in kept lists at most (a list counts its length): about 3 MB.
const MAX_LISTED: usize = 20_000;

#[derive(Hash, PartialEq, Eq)]
pub struct DescribeKey {
    pub user_id: i64,
    /// `None` for the caller's own secrets.
    pub workspace_id: Option<i64>,
    pub secret_id: i64,
}

#[derive(Hash, PartialEq, Eq)]
pub struct ListKey {
    pub user_id: i64,
    pub workspace_id: Option<i64>,
    pub search: String,
    pub max: i64,
    pub offset: i64,
}

/// The workspace of a scope, as the keys name it.
pub fn workspace_of(scope: SecretScope) -> Option<i64> {
    match scope {
        SecretScope::Workspace(workspace_id) => Some(workspace_id),
        SecretScope::Mine => None,
    }
}

pub struct RecentSecretReads {
    pub describes: Recent<DescribeKey, SecretMeta>,
    pub lists: Recent<ListKey, Page<SecretMeta>>,
}

impl Default for RecentSecretReads {
    fn default() -> RecentSecretReads {
        RecentSecretReads { describes: Recent::new(MAX_DESCRIBES), lists: Recent::new(MAX_LISTED) }
    }
}

impl RecentSecretReads {
    /// A change was committed: no kept answer may be served again.
    pub fn forget_all(&self) {
        self.describes.forget_all();
        self.lists.forget_all();
    }
}
