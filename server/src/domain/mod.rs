//! The product's rules, one folder per area (`accounts`, `workspaces`, `secrets`, `compute`,
//! `identities`, `runs`), and the shared core they stand on (`Core`: the database, the
//! key-encryption key, the settings, and the audit helpers `commit_audited`, `record` and
//! `denied`). The UI's server
//! functions and the REST API both reach these, so each rule is written once.

pub mod accounts;
mod audit_trail;
pub mod compute;
pub mod identities;
pub mod recent;
pub mod runs;
pub mod secrets;
pub mod workspaces;

pub use accounts::tokens::{BearerCaller, RunScope};
pub use accounts::NewAccount;
pub use compute::credential_versions::RunUsingCredentials;
pub use runs::launch::new_workflow_id;
pub use runs::stores::StoreCache;

use crate::audit::Event;
use crate::crypto::Kek;
use crate::db::{Db, Tx};
use crate::domain::accounts::rate_limit::LoginRateLimiter;
use crate::domain::accounts::session::SessionPolicy;
use app::error::AppError;
use app::model::SessionUser;
use app::ports::Ports;
use std::sync::Arc;

/// The domain as the application holds it: the shared core and each area's service, which
/// implements that area's ports (one or more, each in the file that holds its rules). `ports()`
/// hands the services to the HTTP layer as the one value the server functions and the REST
/// handlers call, one field per port.
#[derive(Clone)]
pub struct Domain {
    pub core: Arc<Core>,
    pub accounts: Arc<accounts::Accounts>,
    pub workspaces: Arc<workspaces::Workspaces>,
    pub compute: Arc<compute::Compute>,
    pub identities: Arc<identities::Identities>,
    pub runs: Arc<runs::Runs>,
    pub secrets: Arc<secrets::Secrets>,
    pub tokens: Arc<accounts::tokens::Tokens>,
    pub audit: Arc<audit_trail::AuditTrail>,
}

impl Domain {
    pub fn new(core: Core, sessions: SessionPolicy, login_limiter: LoginRateLimiter) -> Domain {
        let core = Arc::new(core);
        let secrets = Arc::new(secrets::Secrets::new(core.clone()));
        let compute = Arc::new(compute::Compute::new(core.clone()));
        Domain {
            accounts: Arc::new(accounts::Accounts::new(core.clone(), sessions, login_limiter)),
            workspaces: Arc::new(workspaces::Workspaces::new(core.clone())),
            compute: compute.clone(),
            identities: Arc::new(identities::Identities::new(core.clone())),
            runs: Arc::new(runs::Runs::new(core.clone(), secrets.clone(), compute)),
            secrets,
            tokens: Arc::new(accounts::tokens::Tokens::new(core.clone())),
            audit: Arc::new(audit_trail::AuditTrail::new(core.clone())),
            core,
        }
    }

    pub fn ports(&self) -> Ports {
        Ports {
            accounts: self.accounts.clone(),
            workspaces: self.workspaces.clone(),
            compute_envs: self.compute.clone(),
            compute_checks: self.compute.clone(),
            cloud_identity: self.compute.clone(),
            credentials: self.compute.clone(),
            host_identity: self.compute.clone(),
            identities: self.identities.clone(),
            launch: self.runs.clone(),
            runs: self.runs.clone(),
            trace: self.runs.clone(),
            secrets: self.secrets.clone(),
            tokens: self.tokens.clone(),
            audit: self.audit.clone(),
        }
    }
}

/// What every area stands on: storage, the key, the settings, the open stores, and the audit
/// helpers. Its methods beyond those are the areas' crate-internal entry points for each other
/// and for the background jobs (`store_for`, `end_run`, `open_secret_for_copy`…), each defined
/// in its area's folder.
pub struct Core {
    pub db: Db,
    /// Audited writes committed in batches (`audit::batch`): the secrets' create, update and
    /// delete go through it, so concurrent writers share commits instead of queueing one each.
    pub writes: crate::audit::AuditedWrites,
    /// The key-encryption key; only sealing (writes) and the provisioning path use it.
    pub kek: Arc<Kek>,
    /// The data directory, absolute: the `local` compute environments' work directories are under it.
    pub data_dir: std::path::PathBuf,
    /// The external base URL (`public_url`): runs report to `<public_url>/api`.
    pub public_url: String,
    /// This install's id, the `managed-by` mark on every copy it makes.
    pub install_id: String,
    pub jobs: JobSettings,
    pub stores: StoreCache,
    /// Wakes idle workers when a launch or an end makes work.
    pub worker_wake: Arc<tokio::sync::Notify>,
    // --- Cloud endpoints (issue 10, item 4) ---
    /// Which custom `endpointUrl`s this server may call (`endpoint_allow`).
    pub endpoints: crate::providers::endpoints::EndpointPolicy,
    // Host identity (issue 10, item 5).
    /// Where the host identity lent to allowed workspaces comes from, instead of the SDK's
    /// default chain (`Config::aws_host_credentials_file`).
    pub aws_host_credentials_file: Option<std::path::PathBuf>,
    // --- HPC work roots and launch commands (issue 10 items 1 and 6) ---
    /// Where HPC work directories may be, who launch commands run as, what they may see.
    pub hpc_host: Arc<crate::providers::hpc::host::HpcHost>,
    /// Strongroom as an OIDC issuer: the tokens of managed cloud identities (issue 14).
    pub oidc: Arc<crate::oidc::Issuer>,
    /// Where a run's Azure app registration is checked with a real exchange (issue 14).
    pub azure: crate::providers::azure::AzureAuthority,
    /// Personal access tokens resolved within the last second (`accounts::recent_tokens`):
    /// filled by the bearer check, emptied when a token is revoked or a user disabled.
    pub recent_tokens: accounts::recent_tokens::RecentTokens,
    /// Describes and lists of secrets answered within the last second (`secrets::recent_reads`):
    /// emptied after every audited commit.
    pub recent_secret_reads: secrets::recent_reads::RecentSecretReads,
}

/// Timing of the run lifecycle and the background jobs, from the configuration.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub workers: usize,
    pub poll_ms: u64,
    pub heartbeat_timeout_ms: i64,
    pub max_duration_ms: i64,
    pub retry_base_ms: i64,
    pub retry_cap_ms: i64,
    pub max_create_attempts: i64,
    pub reconcile_interval_secs: u64,
    pub reconcile_grace_ms: i64,
    /// Between two status polls of a run's head job (`jobs::head_jobs`).
    pub head_job_poll_ms: i64,
    /// How long a worker's claim on a step lasts (`jobs`): a step's provider deadline, and the
    /// time to record its outcome, fit inside it.
    pub claim_lease_ms: i64,
    // --- Provider deadlines (issue 10, item 3) ---
    /// The deadline of one provider step of a worker; always below the claim lease.
    pub provider_call_timeout_ms: u64,
    /// The time the reconciler gives one target per pass.
    pub reconcile_target_budget_ms: u64,
    /// Targets the reconciler works on at once.
    pub reconcile_concurrency: usize,
}

impl JobSettings {
    /// The settings, checked: a claim lease out of its range stops the start with its name.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<JobSettings> {
        use crate::jobs::{lease_margin_ms, MAX_LEASE_SECS, MIN_LEASE_SECS};
        let lease = config.claim_lease_secs;
        if !(MIN_LEASE_SECS..=MAX_LEASE_SECS).contains(&lease) {
            anyhow::bail!(
                "claim_lease_secs is {lease}; it must be {MIN_LEASE_SECS} to {MAX_LEASE_SECS} seconds"
            );
        }
        let claim_lease_ms = (lease * 1000) as i64;
        Ok(JobSettings {
            workers: config.workers,
            poll_ms: config.worker_poll_ms.max(10),
            heartbeat_timeout_ms: (config.run_heartbeat_timeout_secs * 1000) as i64,
            max_duration_ms: (config.run_max_duration_hours * 3_600_000) as i64,
            retry_base_ms: config.retry_base_ms.max(1) as i64,
            retry_cap_ms: config.retry_cap_ms.max(config.retry_base_ms) as i64,
            max_create_attempts: config.max_create_attempts.max(1),
            reconcile_interval_secs: config.reconcile_interval_secs,
            reconcile_grace_ms: (config.reconcile_grace_secs * 1000) as i64,
            head_job_poll_ms: config.head_job_poll_ms.max(10) as i64,
            claim_lease_ms,
            // Provider deadlines: a step must end, answered or abandoned, before its lease does.
            provider_call_timeout_ms: config
                .provider_call_timeout_ms
                .clamp(100, (claim_lease_ms - lease_margin_ms(claim_lease_ms)) as u64),
            reconcile_target_budget_ms: config.reconcile_target_budget_secs.max(1) * 1000,
            reconcile_concurrency: config.reconcile_concurrency.max(1),
        })
    }
}

pub use crate::clock::now_ms;
pub use crate::error::internal;

impl Core {
    /// Records `event` as the transaction's last write and commits both, or neither: an action
    /// whose audit entry cannot be written does not happen.
    pub async fn commit_audited(&self, mut tx: Tx<'static>, event: Event) -> Result<(), AppError> {
        crate::audit::append(&mut tx, event, now_ms()).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        // After the commit: a read that began before it is not kept (`recent`'s generation),
        // and one after it sees the change.
        self.recent_secret_reads.forget_all();
        Ok(())
    }

    /// Records an event with no action to roll back (a denied request, a failed sign-in).
    pub async fn record(&self, event: Event) {
        crate::audit::append_alone(&self.db, event, now_ms()).await
    }

    /// Records a refusal made by a service rule (beyond the role table) and hands it back.
    pub async fn denied(
        &self,
        actor: &SessionUser,
        workspace_id: Option<i64>,
        refusal: AppError,
    ) -> AppError {
        let mut event = Event::denied(actor, refusal.to_string());
        event.workspace_id = workspace_id;
        self.record(event).await;
        refusal
    }
}

#[cfg(test)]
mod tests {
    use super::JobSettings;
    use crate::config::Config;

    fn with_lease(claim_lease_secs: u64, provider_call_timeout_ms: u64) -> anyhow::Result<JobSettings> {
        JobSettings::from_config(&Config { claim_lease_secs, provider_call_timeout_ms, ..Config::default() })
    }

    #[test]
    fn the_claim_lease_bounds_the_provider_deadline_and_is_refused_out_of_range() {
        let default = JobSettings::from_config(&Config::default()).unwrap();
        assert_eq!((default.claim_lease_ms, default.provider_call_timeout_ms), (60_000, 30_000));
        // A deadline longer than the lease leaves it a sixth to record the outcome in.
        assert_eq!(with_lease(60, 120_000).unwrap().provider_call_timeout_ms, 50_000);
        let short = with_lease(12, 30_000).unwrap();
        assert_eq!((short.claim_lease_ms, short.provider_call_timeout_ms), (12_000, 10_000));
        for refused in [0, 4, 3601] {
            let error = with_lease(refused, 30_000).expect_err("refused").to_string();
            assert!(error.contains("claim_lease_secs is") && error.contains("5 to 3600"), "{error}");
        }
    }
}
