//! HPC over SSH end to end, against the real test cluster (`TestCluster::require()`: a real sshd
//! and a real one-node Slurm, with recording stand-ins for LSF and PBS): launches through the
//! REST API on environments with shared SSH credentials or a managed identity, the head job
//! submitted with the scheduler as the run's own account, followed, cancelled and cleaned, and
//! the refusals and Check messages a cluster admin sees. The stand-in `nextflow` (on the head
//! job's PATH through the environment's preRunScript) reports to the test app and leaves a
//! proof file of what it saw: its account, the store's modes and SHA-256 digests, never a value.
//!
//! Files: `managed` (two users, one managed identity; a user without credentials), `shared`
//! (shared credentials: success, cancel, failure, a silent head job), `refusals` (host keys,
//! keys, work directories, the Check), `schedulers` (LSF and PBS stand-ins), `crash` (kill -9
//! during SSH launches).

mod crash;
mod managed;
mod refusals;
mod schedulers;
mod shared;

use crate::helpers::*;
use crate::runs::{create_secret, describe, launch};
use crate::support::cluster::{ClusterAccount, TestCluster};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Fast jobs for these tests: head jobs polled every 200 ms.
pub fn cluster_jobs(config: &mut server::config::Config) {
    crate::runs::quick_jobs(config);
    config.head_job_poll_ms = 200;
}

/// One test's organization and workspace, its owner, and its own work directory on the cluster
/// (mode 1777 under the cluster's scratch, like a shared `/scratch`).
pub struct Site<'a> {
    pub app: &'a TestApp,
    pub cluster: &'static TestCluster,
    pub owner: Client,
    pub org_id: i64,
    pub ws: i64,
    pub work_dir: PathBuf,
}

impl<'a> Site<'a> {
    pub async fn new(app: &'a TestApp, cluster: &'static TestCluster) -> Site<'a> {
        let owner = app.setup_admin().await;
        let (org_id, ws) = app.org_and_workspace(&owner, "hpc").await;
        let work_dir = cluster.scratch.join(format!("t-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&work_dir).unwrap();
        std::fs::set_permissions(&work_dir, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
        Site { app, cluster, owner, org_id, ws, work_dir }
    }

    /// A new user taking part in the workspace with the `launch` role.
    pub async fn launcher(&self, email: &str) -> Client {
        let user = self.app.user(&self.owner, email).await;
        self.app.add_participant(&self.owner, self.org_id, self.ws, email, "launch").await;
        user
    }

    /// The grid settings every environment here gets: the work directory, and the stand-in
    /// Nextflow on the head job's PATH.
    pub fn grid_config(&self) -> Value {
        json!({
            "workDir": self.work_dir.display().to_string(),
            "preRunScript": format!("export PATH={}:$PATH", self.cluster.bin_dir.display()),
        })
    }

    /// Shared SSH credentials of the workspace holding `key_pem`; returns their id.
    pub async fn ssh_credentials(&self, name: &str, key_pem: &str, passphrase: Option<&str>) -> String {
        let mut keys = json!({ "privateKey": key_pem });
        if let Some(passphrase) = passphrase {
            keys["passphrase"] = json!(passphrase);
        }
        let body = json!({ "credentials": { "name": name, "provider": "ssh", "keys": keys } });
        let path = format!("/api/credentials?workspaceId={}", self.ws);
        let (status, created) = self.app.send_json(&self.owner, Method::POST, &path, body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["credentialsId"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| created["credentialsId"].to_string())
    }

    /// Adds a compute environment; returns (status, body) for tests of refusals.
    pub async fn try_env(&self, env: Value) -> (StatusCode, Value) {
        let path = format!("/api/compute-envs?workspaceId={}", self.ws);
        self.app.send_json(&self.owner, Method::POST, &path, json!({ "computeEnv": env })).await
    }

    /// An environment on `platform` reached at `port` as `account` with shared credentials made
    /// from `key_pem`, its host key pinned as `host_key` (`None`: not pinned). Returns its id.
    pub async fn shared_env(
        &self,
        platform: &str,
        port: u16,
        account: &str,
        key_pem: &str,
        host_key: Option<&str>,
        extra: Value,
    ) -> String {
        let credentials = self.ssh_credentials(&format!("key-{account}-{port}"), key_pem, None).await;
        let mut config = self.grid_config();
        config["hostName"] = json!(self.cluster.host);
        config["port"] = json!(port);
        config["userName"] = json!(account);
        if let Some(host_key) = host_key {
            config["hostKeyFingerprint"] = json!(host_key);
        }
        merge(&mut config, extra);
        let name = format!("{platform}-{account}-{port}");
        let env =
            json!({ "name": name, "platform": platform, "credentialsId": credentials, "config": config });
        let (status, created) = self.try_env(env).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["computeEnvId"].as_str().unwrap().to_string()
    }

    /// A managed identity for the cluster's Slurm port, its host key pinned as `host_key`.
    pub async fn identity(&self, name: &str, host_key: Option<&str>) -> i64 {
        let mut config = json!({ "hostName": self.cluster.host, "port": self.cluster.port });
        if let Some(host_key) = host_key {
            config["hostKeyFingerprint"] = json!(host_key);
        }
        let body = json!({ "name": name, "platform": "slurm-platform", "config": config });
        let path = format!("/api/identities?orgId={}", self.org_id);
        let (status, created) = self.app.send_json(&self.owner, Method::POST, &path, body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["id"].as_i64().unwrap()
    }

    /// `who` registers `account` (its own key) on the identity.
    pub async fn register(&self, who: &Client, identity: i64, account: &ClusterAccount) {
        let body = json!({
            "provider": "ssh",
            "credentials": { "provider": "ssh", "keys": { "privateKey": account.private_key_pem } },
            "metadata": { "userName": account.name },
        });
        let path = format!("/api/identities/{identity}/credentials?orgId={}", self.org_id);
        let (status, created) = self.app.send_json(who, Method::POST, &path, body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
    }

    /// An environment on the managed identity; returns its id.
    pub async fn managed_env(&self, identity: i64) -> String {
        let env = json!({
            "name": format!("managed-{identity}"),
            "platform": "slurm-platform",
            "managedIdentityId": identity.to_string(),
            "config": self.grid_config(),
        });
        let (status, created) = self.try_env(env).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["computeEnvId"].as_str().unwrap().to_string()
    }

    /// Runs the environment's Check as the owner (or `who`).
    pub async fn check(&self, who: Option<&Client>, env: &str) -> Value {
        let path = format!("/api/compute-envs/{env}/validate?workspaceId={}", self.ws);
        let (status, body) =
            self.app.send_json(who.unwrap_or(&self.owner), Method::POST, &path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A workspace secret whose value is a canary unique to this test; returns the value.
    pub async fn secret(&self, name: &str) -> String {
        let value = format!("canary-{}", uuid::Uuid::new_v4().simple());
        create_secret(self.app, &self.owner, Some(self.ws), name, &value).await;
        value
    }

    /// `who` launches `pipeline` on `env` with the workspace secrets `secrets`.
    pub async fn try_launch(
        &self,
        who: &Client,
        env: &str,
        pipeline: &str,
        secrets: &[&str],
    ) -> (StatusCode, Value) {
        let body = json!({ "pipeline": pipeline, "computeEnvId": env, "workspaceSecrets": secrets });
        launch(self.app, who, self.ws, body).await
    }

    pub async fn launch(&self, who: &Client, env: &str, pipeline: &str, secrets: &[&str]) -> String {
        let (status, body) = self.try_launch(who, env, pipeline, secrets).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["workflowId"].as_str().unwrap().to_string()
    }

    /// Polls the run (as `who`) until `done` holds; fails after `secs` seconds with the last answer.
    pub async fn wait(&self, who: &Client, wf: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let run = describe(self.app, who, self.ws, wf).await;
            if done(&run) {
                return run;
            }
            assert!(Instant::now() < deadline, "the run did not get there in {secs} s: {run:#}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the run is cleaned.
    pub async fn cleaned(&self, who: &Client, wf: &str) -> Value {
        self.wait(who, wf, 60, |run| run["cleanupStage"] == "cleaned").await
    }

    /// The stand-in Nextflow's proof file of a `test/ok` run (written in the work directory).
    pub fn proof(&self, wf: &str) -> Value {
        let path = self.work_dir.join(format!("proof-{wf}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("no proof {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    /// Every file or directory under the work directory whose path names `wf`, or that is a
    /// `.nf-*.secrets` file, except the stand-in's proof: what a cleaned run must not leave.
    pub fn leftovers(&self, wf: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(&self.work_dir, &mut |path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let is_proof = name == format!("proof-{wf}.json");
            let nf_secrets = name.starts_with(".nf-") && name.ends_with(".secrets");
            if !is_proof && (path.to_string_lossy().contains(wf) || nf_secrets) {
                found.push(path.to_path_buf());
            }
        });
        found
    }

    /// Every file under the work directory, read as root, for leak checks.
    pub fn all_text(&self) -> String {
        let mut text = String::new();
        walk(&self.work_dir, &mut |path| {
            if let Ok(content) = std::fs::read_to_string(path) {
                text.push_str(&content);
            }
        });
        text
    }
}

/// Calls `visit` for every path under `dir` (depth first; links not followed).
pub fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        visit(&path);
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, visit);
        }
    }
}

/// Adds the fields of `extra` (an object) to `config`.
pub fn merge(config: &mut Value, extra: Value) {
    if let Value::Object(extra) = extra {
        for (key, value) in extra {
            config[key] = value;
        }
    }
}

pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The run's head job as the REST API shows it (`jobInfo`).
pub fn job_id(run: &Value) -> String {
    run["jobInfo"]["operationId"].as_str().unwrap_or_else(|| panic!("no head job yet: {run:#}")).to_string()
}

pub fn status(run: &Value) -> &str {
    run["workflow"]["status"].as_str().unwrap_or_default()
}

/// The run's message (why it failed), or "".
pub fn message(run: &Value) -> &str {
    run["message"].as_str().unwrap_or_default()
}
