//! The test cluster itself (scripts/cluster/start), proven without Strongroom's SSH code: the
//! system ssh client, pinned to the host key, logs in as each account and submits a Slurm job that
//! runs as that account; a different host key and a key nobody authorized are refused.

use crate::support::cluster::{owner_uid, read_as_root, TestCluster};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A known_hosts naming the cluster's main port with the public key in `public_key_file`.
fn known_hosts(cluster: &TestCluster, dir: &Path, public_key_file: &Path) -> std::path::PathBuf {
    let public_key = std::fs::read_to_string(public_key_file).unwrap();
    let key: Vec<&str> = public_key.split_whitespace().take(2).collect();
    let path = dir.join("known_hosts");
    std::fs::write(&path, format!("[{}]:{} {}\n", cluster.host, cluster.port, key.join(" "))).unwrap();
    path
}

fn fingerprint(public_key_file: &Path) -> String {
    let out = Command::new("ssh-keygen").arg("-lf").arg(public_key_file).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1).unwrap_or_default().to_string()
}

#[test]
fn a_job_submitted_over_ssh_runs_as_the_account() {
    let Some(cluster) = TestCluster::require() else { return };
    assert_eq!(fingerprint(&cluster.host_key_pub), cluster.host_key_fingerprint);
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = known_hosts(cluster, dir.path(), &cluster.host_key_pub);
    for account in &cluster.accounts {
        let marker = format!("who-smoke-{}-{}", std::process::id(), account.uid);
        let submit = format!("cd ~ && sbatch --parsable -o /dev/null --wrap 'id -un > ~/{marker}'");
        let key = &account.private_key_path;
        let out = cluster.ssh_with(&known_hosts, key, &account.name, cluster.port, &submit);
        assert_eq!(out.status, 0, "sbatch over ssh as {}: {}", account.name, out.stderr);
        let job_id = out.stdout.trim().split(';').next().unwrap().to_string();

        let state = cluster.wait_for_job(&job_id, &["COMPLETED", "FAILED"], Duration::from_secs(30));
        assert_eq!(state.as_deref(), Some("COMPLETED"), "job {job_id} of {}", account.name);
        assert_eq!(cluster.job_user(&job_id).as_deref(), Some(account.name.as_str()));
        assert!(!cluster.squeue_has(&job_id), "an ended job is not in squeue");
        let written = account.home.join(&marker);
        assert_eq!(read_as_root(&written).as_deref(), Some(format!("{}\n", account.name).as_str()));
        assert_eq!(owner_uid(&written), Some(account.uid));
        std::fs::remove_file(&written).unwrap();
    }
}

#[test]
fn the_login_node_refuses_another_host_key_and_an_unauthorized_key() {
    let Some(cluster) = TestCluster::require() else { return };
    let alice = cluster.alice();
    let dir = tempfile::tempdir().unwrap();

    // A known_hosts that pins some other key for the cluster's address: the client refuses.
    let other = dir.path().join("other.pub");
    let derived = Command::new("ssh-keygen").arg("-yf").arg(&cluster.stranger_key_path).output().unwrap();
    std::fs::write(&other, &derived.stdout).unwrap();
    let wrong = known_hosts(cluster, dir.path(), &other);
    let out = cluster.ssh_with(&wrong, &alice.private_key_path, &alice.name, cluster.port, "true");
    assert_eq!(out.status, 255);
    assert!(out.stderr.contains("Host key verification failed"), "{}", out.stderr);

    let out =
        cluster.ssh_with(&cluster.known_hosts, &cluster.stranger_key_path, &alice.name, cluster.port, "true");
    assert_eq!(out.status, 255);
    assert!(out.stderr.contains("Permission denied (publickey)"), "{}", out.stderr);

    let out = cluster.ssh(alice, cluster.port, "id -un");
    assert_eq!((out.status, out.stdout.trim()), (0, alice.name.as_str()), "{}", out.stderr);
}
