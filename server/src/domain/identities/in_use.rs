//! Which runs still need managed credentials: a run that is not cleaned yet deletes its copies of
//! secrets on the cluster over SSH as the account it was launched as, so the key it names
//! (`RunTarget::managed_credentials_id`) must stay until then. Changing or deleting them (or
//! their identity) meanwhile is refused, which is simpler than keeping replaced keys for such
//! runs and leaves nothing behind on the cluster.

use crate::db::{managed_credentials, Tx};
use crate::domain::internal;
use crate::providers::RunTarget;
use app::error::AppError;

/// What to look for in the runs' targets.
pub(super) enum Needed<'a> {
    /// One member's credentials.
    Credentials(i64),
    /// Any credentials of an identity (their ids, read before the delete), or any run launched
    /// on an environment of the identity.
    Identity { identity_id: i64, credentials_ids: &'a [i64] },
}

/// (workflow id, run name) of every run that is not cleaned yet and needs them. Call it in the
/// transaction that holds the rows' locks (after the delete or lock), so a launch that pinned
/// them meanwhile is seen.
pub(super) async fn runs_needing(
    tx: &mut Tx<'_>,
    needed: Needed<'_>,
) -> Result<Vec<(String, String)>, AppError> {
    let runs = managed_credentials::unfinished_runs(tx).await.map_err(internal)?;
    Ok(runs
        .into_iter()
        .filter(|run| {
            // A target that does not parse names nothing we could check; the run's own steps
            // report it.
            let Ok(target) = RunTarget::from_json(&run.target) else { return false };
            match &needed {
                Needed::Credentials(id) => target.managed_credentials_id == Some(*id),
                Needed::Identity { identity_id, credentials_ids } => {
                    target.config.managed_identity_id == Some(*identity_id)
                        || target.managed_credentials_id.is_some_and(|id| credentials_ids.contains(&id))
                }
            }
        })
        .map(|run| (run.id, run.run_name))
        .collect())
}
