//! Managed identities (issue 12, item 2): an organization's owners describe each cluster once
//! (name, scheduler platform, SSH host and port, pinned host key), and each member registers
//! their own cluster account and SSH key for it, so their runs execute as themselves.
//!
//! - `port`: the `IdentitiesPort` (who may do what is `policy::authorize_org`);
//! - `identity_input` and `ssh_key`: what is accepted, with refusals that say what to fix;
//! - `sealing`: where a member's key is encrypted and decrypted;
//! - `in_use`: the runs that still need a member's key (changes and deletes wait for them);
//! - `for_launch`: what launching, following and cleaning up a run need (see its doc).
//!
//! Guarantees: a private key or passphrase is never returned, logged, put in an error or an
//! audit entry; pages and the API show the cluster account and the public key's fingerprint.

pub mod for_launch;
mod identity_input;
mod in_use;
mod port;
mod sealing;
pub(crate) mod ssh_key;

use crate::audit::Event;
use crate::db::managed_credentials::MemberCredentialsRow;
use crate::db::managed_identities::{self, IdentityRow};
use crate::domain::{internal, Core};
use app::error::AppError;
use app::model::{ManagedCredentialsSummary, ManagedIdentity, SessionUser};
use std::sync::Arc;

/// Managed identities and managed credentials: the `IdentitiesPort`.
pub struct Identities {
    core: Arc<Core>,
}

impl Identities {
    pub fn new(core: Arc<Core>) -> Identities {
        Identities { core }
    }

    /// The identity, scoped by organization (an id of another organization is "not found").
    async fn find(&self, org_id: i64, identity_id: i64) -> Result<ManagedIdentity, AppError> {
        let row =
            managed_identities::find(&self.core.db.pool, org_id, identity_id).await.map_err(internal)?;
        identity_from_row(row.ok_or_else(not_found)?).map_err(internal)
    }

    /// A new or moved login node must be one this server may connect to (the instance's
    /// endpoint rules: loopback and private addresses only when listed).
    async fn check_host(&self, host: &str, port: u16) -> Result<(), AppError> {
        self.core.endpoints.check_ssh_host(host, port, false).await.map_err(AppError::BadRequest)
    }
}

fn not_found() -> AppError {
    AppError::not_found("Managed identity")
}

/// A stored identity; an error only for a row this code did not write.
pub(crate) fn identity_from_row(row: IdentityRow) -> anyhow::Result<ManagedIdentity> {
    Ok(ManagedIdentity {
        platform: row.platform.parse().map_err(anyhow::Error::msg)?,
        config: serde_json::from_str(&row.config)?,
        id: row.id,
        org_id: row.org_id,
        name: row.name,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn summary(row: MemberCredentialsRow) -> ManagedCredentialsSummary {
    ManagedCredentialsSummary {
        user_id: row.user_id,
        email: row.email,
        display_name: row.display_name,
        credentials_id: row.credentials_id,
        user_name: row.user_name,
        public_key_fingerprint: row.public_key_fingerprint,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_used_at: row.last_used_at,
    }
}

/// The audit entry for a change to an identity: names, ids and public settings only.
fn identity_event(actor: &SessionUser, action: &'static str, id: i64, name: &str) -> Event {
    Event::by(actor, action).target(format!("managed identity '{name}' (id {id})"))
}

/// The audit entry for a change to a member's credentials: ids, the cluster account and the key's
/// fingerprint, never the key.
fn credentials_event(
    actor: &SessionUser,
    action: &'static str,
    identity: &ManagedIdentity,
    credentials_id: i64,
    user_id: i64,
) -> Event {
    Event::by(actor, action).target(format!(
        "cluster credentials (id {credentials_id}) of user {user_id} on managed identity '{}' (id {})",
        identity.name, identity.id
    ))
}
