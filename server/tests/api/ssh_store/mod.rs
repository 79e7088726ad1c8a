//! The SSH provider (`server::providers::ssh`) against the real test cluster that
//! `scripts/cluster/start` brings up: a real sshd, a real one-node Slurm and two accounts; LSF,
//! PBS Pro, Moab and Grid Engine through recording stand-ins (no real one can be installed
//! here). The tests drive `server::providers` directly, as the jobs do, with a Target for the
//! cluster; each test uses its own install id and workflow ids, so tests running at once never
//! see each other's runs.

mod connection;
mod head_jobs;
mod preflight;
mod stand_ins;
mod store_files;
mod timings;

use crate::support::cluster::{ClusterAccount, TestCluster};
use app::model::{ComputeConfig, Platform};
use server::crypto::SecretBytes;
use server::providers::{self, CopySpec, ProviderError, SharedStore, Target};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A fresh id made of letters and digits (`len` of them).
pub fn fresh_id(len: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..len].to_string()
}

/// A workflow id in Strongroom's shape: 14 base62 characters.
pub fn workflow_id() -> String {
    fresh_id(14)
}

/// A secret value no other test uses, so a leak check can look for it anywhere.
pub fn secret_text(label: &str) -> String {
    format!("{label}-value-{}", fresh_id(20))
}

pub fn value(text: &str) -> SecretBytes {
    SecretBytes::from(text.as_bytes().to_vec())
}

pub fn copy<'a>(workflow_id: &'a str, name: &'a str) -> CopySpec<'a> {
    CopySpec { workflow_id, name }
}

/// Seqera's SSH credentials JSON.
pub fn keys(private_key_pem: &str, passphrase: Option<&str>) -> SecretBytes {
    let mut json = serde_json::json!({ "privateKey": private_key_pem });
    if let Some(passphrase) = passphrase {
        json["passphrase"] = passphrase.into();
    }
    SecretBytes::from(serde_json::to_vec(&json).unwrap())
}

/// One environment on the cluster: platform, login port, account, work directory, pin.
pub struct Env {
    pub platform: Platform,
    pub config: ComputeConfig,
    pub keys: SecretBytes,
    pub install_id: String,
}

impl Env {
    /// A Slurm environment for `account`, pinned to the cluster's real host key, working in
    /// the shared scratch directory.
    pub fn slurm(cluster: &TestCluster, account: &ClusterAccount) -> Env {
        Env {
            platform: Platform::Slurm,
            config: ComputeConfig {
                host_name: Some(cluster.host.clone()),
                port: Some(cluster.port),
                user_name: Some(account.name.clone()),
                work_dir: Some(cluster.scratch.to_string_lossy().into_owned()),
                host_key_fingerprint: Some(cluster.host_key_fingerprint.clone()),
                // The stand-in nextflow, as a site's module would be loaded.
                pre_run_script: Some(format!("export PATH={}:$PATH", cluster.bin_dir.display())),
                ..ComputeConfig::default()
            },
            keys: keys(&account.private_key_pem, None),
            install_id: format!("t-{}", fresh_id(10)),
        }
    }

    pub async fn open(&self) -> Result<SharedStore, ProviderError> {
        providers::open(Target {
            platform: self.platform,
            config: &self.config,
            credentials: Some(&self.keys),
            install_id: &self.install_id,
            host_identity: providers::HostIdentity::Refused,
            managed_identity: None,
        })
        .await
    }

    pub async fn store(&self) -> SharedStore {
        self.open().await.expect("the SSH store opens")
    }

    pub fn work_dir(&self) -> PathBuf {
        PathBuf::from(self.config.work_dir.as_deref().unwrap())
    }

    /// `<workDir>/.strongroom-<account>/<install>/<workflow>`.
    pub fn run_dir(&self, workflow_id: &str) -> PathBuf {
        self.install_dir().join(workflow_id)
    }

    pub fn install_dir(&self) -> PathBuf {
        let account = self.config.user_name.as_deref().unwrap();
        self.work_dir().join(format!(".strongroom-{account}")).join(&self.install_id)
    }
}

/// Every file under `dir` (not following links) that holds any of `needles`.
pub fn files_holding(dir: &Path, needles: &[&str]) -> Vec<String> {
    let out = std::process::Command::new("grep")
        .args(["-r", "-l", "-F", "--no-messages"])
        .args(needles.iter().flat_map(|n| ["-e", n]))
        .arg(dir)
        .output()
        .expect("grep runs");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

/// A stand-in for Strongroom's trace API, on loopback, for head jobs that report: answers every
/// request with `{}` and keeps each request's head (method, path, headers) for the assertions.
pub struct FakeTower {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl FakeTower {
    pub async fn start() -> FakeTower {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    let mut read = 0;
                    while read < buffer.len() {
                        match socket.read(&mut buffer[read..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => read += n,
                        }
                        let text = String::from_utf8_lossy(&buffer[..read]);
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().to_owned())
                                })
                                .and_then(|v| v.parse::<usize>().ok())
                                .unwrap_or(0);
                            if body.len() >= length {
                                seen.lock().unwrap().push(head.to_owned());
                                break;
                            }
                        }
                    }
                    let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
                                  Connection: close\r\n\r\n{}";
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        FakeTower { url, requests }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

pub fn cluster() -> Option<&'static TestCluster> {
    TestCluster::require()
}
