//! [`SshStore`]: the `SecretStore` of an HPC compute environment reached over SSH. One store
//! is one account on one cluster; it keeps one connection, reused by every call of a run.

use super::connect::{connect, Connection, SshEndpoint};
use super::errors::SshError;
use super::host_key::fingerprint_is_valid;
use super::key::SshKey;
use super::layout::{self, check_work_dir, Layout, STORE_FILE};
use super::scheduler::Scheduler;
use super::{head_script, preflight, run_files};
use crate::crypto::SecretBytes;
use crate::providers::{
    CopySpec, CreatedCopy, HeadJobs, ManagedCopy, PreflightFailure, ProviderError, SecretStore, Target,
};
use app::model::ConfigEnvVariable;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use zeroize::Zeroizing;

/// The environment's head-job settings, as Seqera names them.
pub(super) struct LaunchSettings {
    pub launch_dir: Option<String>,
    pub head_queue: Option<String>,
    pub compute_queue: Option<String>,
    pub head_job_options: Vec<String>,
    pub pre_run_script: Option<String>,
    pub post_run_script: Option<String>,
    pub nextflow_config: Option<String>,
    pub environment: Vec<ConfigEnvVariable>,
}

pub struct SshStore {
    pub(super) endpoint: SshEndpoint,
    pub(super) layout: Layout,
    pub(super) scheduler: Scheduler,
    pub(super) launch: LaunchSettings,
    key: SshKey,
    /// The pinned host key. Without one the store serves `preflight` only.
    pinned: Option<String>,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    /// What the host presented on the last handshake (also when refused, for the message).
    seen: Arc<Mutex<Option<String>>>,
    /// The host key of the last connection that was accepted and logged in.
    accepted: Mutex<Option<String>>,
}

const UNPINNED: &str = "Run Check on the compute environment first: it records the cluster's host key.";

fn setting(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

impl SshStore {
    /// Opens the store of an SSH compute environment: checks its settings and opens its key,
    /// without connecting. With a pinned host key (`hostKeyFingerprint`) every method works;
    /// without one, the store is for the environment's Check only: `preflight` connects,
    /// accepts the host's key and remembers it ([`SecretStore::host_key_seen`]) for the Check
    /// to pin, and every other method refuses with "Run Check … first".
    pub async fn open(target: &Target<'_>) -> Result<SshStore, ProviderError> {
        let rejected = |m: String| ProviderError::Rejected(format!("The compute environment's {m}"));
        let config = target.config;
        let scheduler = target
            .platform
            .scheduler()
            .and_then(Scheduler::for_platform)
            .ok_or_else(|| rejected(format!("platform {} is not reached over SSH", target.platform)))?;
        let host = setting(&config.host_name).ok_or_else(|| rejected("hostName is missing".into()))?;
        if host.starts_with('-') || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(rejected(format!("hostName '{host}' is not a host name")));
        }
        let port = config.port.unwrap_or(super::DEFAULT_PORT);
        if port == 0 {
            return Err(rejected("port must be between 1 and 65535".into()));
        }
        let user = setting(&config.user_name)
            .ok_or_else(|| rejected("userName (the cluster account to log in as) is missing".into()))?;
        let work_dir = setting(&config.work_dir).ok_or_else(|| rejected("workDir is missing".into()))?;
        let layout = Layout::new(&work_dir, &user, target.install_id).map_err(rejected)?;
        let pinned = setting(&config.host_key_fingerprint);
        if let Some(pin) = pinned.as_deref().filter(|p| !fingerprint_is_valid(p)) {
            return Err(rejected(format!(
                "hostKeyFingerprint '{pin}' is not a SHA256 fingerprint as `ssh-keygen -l` prints it"
            )));
        }
        let launch_dir = match setting(&config.launch_dir) {
            Some(dir) => Some(check_work_dir(&dir).map_err(|m| rejected(m.replace("workDir", "launchDir")))?),
            None => None,
        };
        let head_job_options = shell_words::split(config.head_job_options.as_deref().unwrap_or_default())
            .map_err(|_| rejected("headJobOptions has an unclosed quote".into()))?;
        let environment = config.environment.clone().unwrap_or_default();
        if let Some(bad) = environment.iter().find(|v| !head_script::is_variable_name(&v.name)) {
            return Err(rejected(format!("environment variable '{}' is not a valid name", bad.name)));
        }
        let key = SshKey::open(target.credentials).await.map_err(rejected)?;
        Ok(SshStore {
            endpoint: SshEndpoint { host, port, user },
            layout,
            scheduler,
            launch: LaunchSettings {
                launch_dir,
                head_queue: setting(&config.head_queue),
                compute_queue: setting(&config.compute_queue),
                head_job_options,
                pre_run_script: setting(&config.pre_run_script),
                post_run_script: setting(&config.post_run_script),
                nextflow_config: setting(&config.nextflow_config),
                environment,
            },
            key,
            pinned,
            connection: tokio::sync::Mutex::new(None),
            seen: Arc::new(Mutex::new(None)),
            accepted: Mutex::new(None),
        })
    }

    /// Whether the store has a pinned host key (else it is for a Check only).
    pub fn is_pinned(&self) -> bool {
        self.pinned.is_some()
    }

    pub(super) fn require_pinned(&self) -> Result<(), ProviderError> {
        if self.is_pinned() {
            Ok(())
        } else {
            Err(ProviderError::Rejected(UNPINNED.into()))
        }
    }

    /// The open connection, or a new one (one handshake at a time per store).
    pub(super) async fn connection(&self) -> Result<Arc<Connection>, SshError> {
        let mut slot = self.connection.lock().await;
        if let Some(open) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(open.clone());
        }
        let fresh = Arc::new(connect(&self.endpoint, &self.key, self.pinned.as_deref(), &self.seen).await?);
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        *self.accepted.lock().unwrap_or_else(|e| e.into_inner()) = seen;
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    async fn forget(&self, broken: &Arc<Connection>) {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|open| Arc::ptr_eq(open, broken)) {
            *slot = None;
        }
        broken.close().await;
    }

    /// Runs `work` on the connection; when the connection broke, reconnects once and runs it
    /// again (every step is idempotent).
    pub(super) async fn with_connection<T, F, Fut>(&self, step: &'static str, work: F) -> Result<T, SshError>
    where
        F: Fn(Arc<Connection>) -> Fut,
        Fut: Future<Output = Result<T, SshError>>,
    {
        let started = Instant::now();
        let conn = self.connection().await?;
        let result = match work(conn.clone()).await {
            Err(error) if error.is_transport() => {
                tracing::info!(host = %self.endpoint.host, port = self.endpoint.port,
                    account = %self.endpoint.user, step, "the SSH connection dropped; reconnecting once");
                self.forget(&conn).await;
                work(self.connection().await?).await
            }
            other => other,
        };
        tracing::debug!(host = %self.endpoint.host, port = self.endpoint.port, account = %self.endpoint.user,
            step, ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "ssh step");
        result
    }

    /// The lock of one run's files, so concurrent copies of a run do not lose each other's
    /// entries (see `run_lock`).
    pub(super) fn run_lock(&self, workflow_id: &str) -> &'static tokio::sync::Mutex<()> {
        run_lock(&self.endpoint, self.layout.work_dir(), workflow_id)
    }
}

/// How many run locks there are: a fixed set, so memory stays bounded however many runs there
/// are. Runs share one of them by a hash of (host, port, account, work directory, run): two
/// runs may wait for each other for a moment; one run never has two locks.
const RUN_LOCKS: usize = 64;

fn run_lock(endpoint: &SshEndpoint, work_dir: &str, workflow_id: &str) -> &'static tokio::sync::Mutex<()> {
    static LOCKS: [tokio::sync::Mutex<()>; RUN_LOCKS] =
        [const { tokio::sync::Mutex::const_new(()) }; RUN_LOCKS];
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(
        &(&endpoint.host, endpoint.port, &endpoint.user, work_dir, workflow_id),
        &mut hasher,
    );
    let slot = std::hash::Hasher::finish(&hasher) % RUN_LOCKS as u64;
    &LOCKS[usize::try_from(slot).expect("below RUN_LOCKS")]
}

#[async_trait]
impl SecretStore for SshStore {
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        self.require_pinned()?;
        let path = self.layout.run_file(copy.workflow_id, STORE_FILE)?;
        let text = std::str::from_utf8(value.expose_secret())
            .map_err(|_| ProviderError::Rejected(format!("the value of {} is not UTF-8 text", copy.name)))?;
        let value = Zeroizing::new(text.to_owned());
        let (layout, value) = (&self.layout, &value);
        let _guard = self.run_lock(copy.workflow_id).lock().await;
        self.with_connection("write the store", |conn| async move {
            run_files::upsert(&conn, layout, copy.workflow_id, copy.name, value).await
        })
        .await?;
        Ok(path)
    }

    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        self.require_pinned()?;
        layout::check_workflow_id(copy.workflow_id)?;
        let layout = &self.layout;
        let _guard = self.run_lock(copy.workflow_id).lock().await;
        self.with_connection("delete from the store", |conn| async move {
            run_files::remove_entry(&conn, layout, copy.workflow_id, copy.name).await
        })
        .await
        .map_err(Into::into)
    }

    async fn prepare_launch(
        &self,
        workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        self.require_pinned()?;
        if copies.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![("NXF_SECRETS_FILE".into(), self.layout.run_file(workflow_id, STORE_FILE)?)])
    }

    async fn finish_cleanup(&self, workflow_id: &str) -> Result<(), ProviderError> {
        self.require_pinned()?;
        layout::check_workflow_id(workflow_id)?;
        let layout = &self.layout;
        let _guard = self.run_lock(workflow_id).lock().await;
        self.with_connection("remove the run directory", |conn| async move {
            run_files::remove_run(&conn, layout, workflow_id).await
        })
        .await
        .map_err(Into::into)
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        self.require_pinned()?;
        let layout = &self.layout;
        self.with_connection("list the run directories", |conn| async move {
            run_files::list(&conn, layout).await
        })
        .await
        .map_err(Into::into)
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        preflight::run(self).await
    }

    fn head_jobs(&self) -> Option<&dyn HeadJobs> {
        Some(self)
    }

    fn host_key_seen(&self) -> Option<String> {
        self.accepted.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
