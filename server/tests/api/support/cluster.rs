//! The real one-node Slurm cluster behind a real sshd that `scripts/cluster/start` brings up on
//! loopback, as the `cluster.env` named by `STRONGROOM_TEST_CLUSTER` describes it, and what tests
//! (run as root, on the same machine) ask of it: who ran a job, whether it is still queued, file
//! modes and owners, a command as one of its accounts, what the scheduler stand-ins recorded.
//!
//! `scripts/test` starts a cluster and sets `STRONGROOM_REQUIRE_CLUSTER=1`, so there a missing
//! cluster fails the test; elsewhere a test without one is skipped with a message.

// The SSH store and head job tests use the helpers the smoke test does not.
#![allow(dead_code)]

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One of the cluster's two login accounts (`srtest-alice`, `srtest-bob`) and its SSH keys.
pub struct ClusterAccount {
    pub name: String,
    pub uid: u32,
    pub home: PathBuf,
    /// The account's own key (OpenSSH format, no passphrase), in its authorized_keys.
    pub private_key_path: PathBuf,
    pub private_key_pem: String,
    /// A second authorized key protected by `passphrase` (alice only).
    pub passphrase_key_pem: Option<String>,
    /// Test data, not a secret.
    pub passphrase: Option<String>,
}

pub struct TestCluster {
    pub host: String,
    /// The sshd port where the real Slurm commands are on PATH.
    pub port: u16,
    /// `SHA256:…` as OpenSSH prints it.
    pub host_key_fingerprint: String,
    /// A valid fingerprint of an unrelated key, for the wrong-host-key tests.
    pub other_host_key_fingerprint: String,
    /// The host's public key (`ssh-ed25519 AAAA… comment`), to write a known_hosts from.
    pub host_key_pub: PathBuf,
    /// `[127.0.0.1]:port` lines for every port with the host key.
    pub known_hosts: PathBuf,
    /// `sacct --completion` names a finished job's user (no slurmdbd: plain sacct cannot).
    pub sacct: bool,
    pub partition: String,
    pub head_partition: String,
    pub state_dir: PathBuf,
    /// Like /scratch: mode 1777.
    pub scratch: PathBuf,
    /// Owned by root, 0755: no account can write in it.
    pub readonly_dir: PathBuf,
    /// Holds the stand-in `nextflow` (put it on PATH in the head job's preRunScript).
    pub bin_dir: PathBuf,
    pub fake_lsf: PathBuf,
    pub fake_pbs: PathBuf,
    pub fake_moab: PathBuf,
    pub fake_uge: PathBuf,
    /// The same sshd with that stand-in's directory first on PATH.
    pub lsf_port: u16,
    pub pbs_port: u16,
    pub moab_port: u16,
    pub uge_port: u16,
    /// `<scheduler>.log`: one JSON line per stand-in call.
    pub records_dir: PathBuf,
    pub accounts: Vec<ClusterAccount>,
    /// A key in nobody's authorized_keys.
    pub stranger_key_path: PathBuf,
    pub stranger_key_pem: String,
}

impl TestCluster {
    /// The cluster `STRONGROOM_TEST_CLUSTER` names, read once; None when the variable is unset.
    /// Panics when it is set but the file is missing or incomplete (a stopped cluster).
    pub fn get() -> Option<&'static TestCluster> {
        static CLUSTER: OnceLock<Option<TestCluster>> = OnceLock::new();
        CLUSTER
            .get_or_init(|| {
                let path = std::env::var_os("STRONGROOM_TEST_CLUSTER")?;
                Some(TestCluster::load(Path::new(&path)))
            })
            .as_ref()
    }

    /// The cluster, or: a panic when `STRONGROOM_REQUIRE_CLUSTER=1` (scripts/test), else a
    /// printed skip and None (`let Some(cluster) = TestCluster::require() else { return };`).
    pub fn require() -> Option<&'static TestCluster> {
        if let Some(cluster) = TestCluster::get() {
            return Some(cluster);
        }
        if std::env::var("STRONGROOM_REQUIRE_CLUSTER").as_deref() == Ok("1") {
            panic!(
                "STRONGROOM_REQUIRE_CLUSTER=1 but there is no test cluster: start one with \
                 scripts/cluster/start and set STRONGROOM_TEST_CLUSTER to the cluster.env it prints"
            );
        }
        eprintln!("skipped: no test cluster (run scripts/cluster/start)");
        None
    }

    fn load(path: &Path) -> TestCluster {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("STRONGROOM_TEST_CLUSTER={}: {e} (is the cluster still running?)", path.display())
        });
        let env: HashMap<&str, &str> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .collect();
        let get = |key: &str| -> String {
            let value = env.get(key).unwrap_or_else(|| panic!("{} has no {key}", path.display()));
            value.to_string()
        };
        let dir = |key: &str| PathBuf::from(get(key));
        let port = |key: &str| get(key).parse::<u16>().unwrap_or_else(|e| panic!("{key}: {e}"));
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let accounts = get("ACCOUNTS")
            .split(',')
            .map(|name| {
                // srtest-alice's facts are the ALICE_… keys.
                let prefix = name.trim_start_matches("srtest-").to_uppercase();
                let key =
                    |suffix: &str| env.get(format!("{prefix}_{suffix}").as_str()).map(|v| v.to_string());
                let private_key_path = PathBuf::from(key("KEY").expect("an account key"));
                ClusterAccount {
                    name: name.to_string(),
                    uid: key("UID").and_then(|uid| uid.parse().ok()).expect("an account uid"),
                    home: home_of(name),
                    private_key_pem: read(private_key_path.clone()),
                    private_key_path,
                    passphrase_key_pem: key("PASS_KEY").map(PathBuf::from).map(read),
                    passphrase: key("PASSPHRASE"),
                }
            })
            .collect();
        TestCluster {
            host: get("HOST"),
            port: port("PORT"),
            host_key_fingerprint: get("HOST_KEY_FINGERPRINT"),
            other_host_key_fingerprint: get("OTHER_HOST_KEY_FINGERPRINT"),
            host_key_pub: dir("HOST_KEY_PUB_FILE"),
            known_hosts: dir("KNOWN_HOSTS"),
            sacct: get("SACCT") == "1",
            partition: get("PARTITION"),
            head_partition: get("HEAD_PARTITION"),
            state_dir: dir("STATE_DIR"),
            scratch: dir("SCRATCH"),
            readonly_dir: dir("READONLY_DIR"),
            bin_dir: dir("BIN_DIR"),
            fake_lsf: dir("FAKE_LSF"),
            fake_pbs: dir("FAKE_PBS"),
            fake_moab: dir("FAKE_MOAB"),
            fake_uge: dir("FAKE_UGE"),
            lsf_port: port("LSF_PORT"),
            pbs_port: port("PBS_PORT"),
            moab_port: port("MOAB_PORT"),
            uge_port: port("UGE_PORT"),
            records_dir: dir("RECORDS_DIR"),
            accounts,
            stranger_key_path: dir("STRANGER_KEY"),
            stranger_key_pem: read(dir("STRANGER_KEY")),
        }
    }

    pub fn account(&self, name: &str) -> &ClusterAccount {
        self.accounts.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("no account {name}"))
    }

    pub fn alice(&self) -> &ClusterAccount {
        self.account("srtest-alice")
    }

    pub fn bob(&self) -> &ClusterAccount {
        self.account("srtest-bob")
    }

    /// One `Key=Value` field of `scontrol show job -o ID` (None once Slurm forgot the job,
    /// 15 minutes after it ended).
    pub fn job_field(&self, job_id: &str, field: &str) -> Option<String> {
        let (status, out) = run(Command::new("scontrol").args(["show", "job", "-o", job_id]));
        let prefix = format!("{field}=");
        let value = out.split_whitespace().find_map(|word| word.strip_prefix(prefix.as_str()));
        value.filter(|_| status == 0).map(str::to_string)
    }

    /// The account a job ran as: `scontrol show job` (`UserId=srtest-alice(1001)`), or
    /// `sacct --completion` for an ended job Slurm no longer shows.
    pub fn job_user(&self, job_id: &str) -> Option<String> {
        let user = match self.job_field(job_id, "UserId") {
            Some(user) => user,
            None if self.sacct => {
                let sacct = ["--completion", "-n", "-X", "-o", "user%64", "-j", job_id];
                let (_, out) = run(Command::new("sacct").args(sacct));
                out.lines().next().map(str::trim).filter(|user| !user.is_empty())?.to_string()
            }
            None => return None,
        };
        Some(user.split('(').next().unwrap_or_default().to_string())
    }

    /// Pending, running or completing (what `squeue` lists).
    pub fn squeue_has(&self, job_id: &str) -> bool {
        let (status, out) = run(Command::new("squeue").args(["-h", "-o", "%i", "-j", job_id]));
        status == 0 && out.lines().any(|line| line.trim() == job_id)
    }

    /// Waits (up to `timeout`) until the job's JobState is one of `states`; returns the last one.
    pub fn wait_for_job(&self, job_id: &str, states: &[&str], timeout: Duration) -> Option<String> {
        let started = Instant::now();
        loop {
            let state = self.job_field(job_id, "JobState");
            if state.as_deref().is_some_and(|s| states.contains(&s)) || started.elapsed() > timeout {
                return state;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The stand-in calls recorded for `scheduler` (lsf, pbs, moab, uge): account, argv, cwd and,
    /// for a submission, the script's text.
    pub fn records(&self, scheduler: &str) -> Vec<serde_json::Value> {
        let log = self.records_dir.join(format!("{scheduler}.log"));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).expect("a JSON record")).collect()
    }

    /// Ends a stand-in job as a scheduler would when its script exits (DONE for 0, EXIT else).
    pub fn fake_finish(&self, scheduler: &str, job_id: &str, exit_code: i32) {
        let tool = self.state_dir.join(format!("fake-{scheduler}/fake-finish"));
        let (status, _) = run(Command::new(tool).args([job_id, &exit_code.to_string()]));
        assert_eq!(status, 0, "fake-finish {scheduler} {job_id}");
    }

    /// Runs `cmd` (bash) as `account` on this machine, from its home: (exit status, stdout).
    pub fn run_as(&self, account: &str, cmd: &str) -> (i32, String) {
        let home = self.account(account).home.clone();
        run(Command::new("runuser").args(["-u", account, "--", "bash", "-c", cmd]).current_dir(home))
    }

    /// Runs `cmd` over SSH as `account` with the system ssh client, checking the host key against
    /// `known_hosts`: (exit status, stdout, stderr).
    pub fn ssh_with(&self, known_hosts: &Path, key: &Path, user: &str, port: u16, cmd: &str) -> SshOutput {
        let out = Command::new("ssh")
            .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes"])
            .args(["-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
            .arg("-i")
            .arg(key)
            .args(["-p", &port.to_string(), &format!("{user}@{}", self.host), cmd])
            .stdin(Stdio::null())
            .output()
            .expect("the ssh client is installed");
        SshOutput {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `ssh_with` with the account's own key and the cluster's known_hosts.
    pub fn ssh(&self, account: &ClusterAccount, port: u16, cmd: &str) -> SshOutput {
        self.ssh_with(&self.known_hosts, &account.private_key_path, &account.name, port, cmd)
    }
}

pub struct SshOutput {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The file's content, read as root (the tests run as root); None when it cannot be read.
pub fn read_as_root(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Permission bits (e.g. 0o600) of the path itself (a link is not followed).
pub fn file_mode(path: &Path) -> Option<u32> {
    std::fs::symlink_metadata(path).ok().map(|m| m.mode() & 0o7777)
}

pub fn owner_uid(path: &Path) -> Option<u32> {
    std::fs::symlink_metadata(path).ok().map(|m| m.uid())
}

fn home_of(account: &str) -> PathBuf {
    let (_, passwd) = run(Command::new("getent").args(["passwd", account]));
    let home = passwd.trim().split(':').nth(5).unwrap_or_else(|| panic!("no account {account}"));
    PathBuf::from(home)
}

fn run(command: &mut Command) -> (i32, String) {
    let out = command.stdin(Stdio::null()).output().expect("the command is installed");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}
