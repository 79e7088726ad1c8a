//! The Check really connects: each failure names its step, the reason and the fix, and a host
//! key that is not the pinned one is refused before anything is sent.

use super::{cluster, copy, keys, value, Env};
use app::model::Platform;
use server::providers::{PreflightFailure, ProviderError};

async fn check(env: &Env) -> Result<(), PreflightFailure> {
    env.store().await.preflight().await
}

fn sshd_log(cluster: &crate::support::cluster::TestCluster) -> String {
    std::fs::read_to_string(cluster.state_dir.join("sshd/sshd.log")).unwrap_or_default()
}

#[tokio::test]
async fn a_check_without_a_pinned_key_records_the_host_key_and_nothing_else_works_until_then() {
    let Some(cluster) = cluster() else { return };
    let mut env = Env::slurm(cluster, cluster.alice());
    env.config.host_key_fingerprint = None;
    let store = env.store().await;
    store.preflight().await.unwrap();
    assert_eq!(store.host_key_seen().as_deref(), Some(cluster.host_key_fingerprint.as_str()));
    let refused = store.create_copy(copy(&super::workflow_id(), "DB"), &value("x")).await.unwrap_err();
    let expected = "Run Check on the compute environment first: it records the cluster's host key.";
    assert_eq!(refused, ProviderError::Rejected(expected.into()));
    assert!(store.list_managed().await.is_err());
    assert!(store.head_jobs().is_some());
}

#[tokio::test]
async fn a_host_key_that_is_not_the_pinned_one_is_refused_before_logging_in() {
    let Some(cluster) = cluster() else { return };
    // An account name no other test uses: sshd logs it as soon as a client asks to log in as it.
    let probe_user = format!("srtest-pin{}", super::fresh_id(8));
    let mut env = Env::slurm(cluster, cluster.alice());
    env.config.user_name = Some(probe_user.clone());
    env.config.host_key_fingerprint = Some(cluster.other_host_key_fingerprint.clone());
    let store = env.store().await;
    let failure = store.preflight().await.unwrap_err();
    assert_eq!(failure.step, "check the cluster's host key");
    assert!(failure.message.contains(&cluster.other_host_key_fingerprint), "{}", failure.message);
    assert!(failure.message.contains(&cluster.host_key_fingerprint), "{}", failure.message);
    assert!(failure.fix.contains("an admin replaces the pinned fingerprint"), "{}", failure.fix);
    assert_eq!(store.host_key_seen(), None);
    let error = store.create_copy(copy(&super::workflow_id(), "DB"), &value("x")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Rejected(m) if m.contains(&cluster.host_key_fingerprint)),
        "{error:?}"
    );
    assert!(!sshd_log(cluster).contains(&probe_user), "the user name reached sshd");

    // Control: with the right key the same login does reach sshd (and is refused there).
    env.config.host_key_fingerprint = Some(cluster.host_key_fingerprint.clone());
    let failure = check(&env).await.unwrap_err();
    assert_eq!(failure.step, "log in to the cluster");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        sshd_log(cluster).contains(&probe_user),
        "sshd does not log user names; the check above proves nothing"
    );
}

#[tokio::test]
async fn a_key_the_account_does_not_accept_is_named_with_the_fix() {
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    let mut env = Env::slurm(cluster, alice);
    env.keys = keys(&cluster.stranger_key_pem, None);
    let failure = check(&env).await.unwrap_err();
    assert_eq!(failure.step, "log in to the cluster");
    assert_eq!(failure.message, format!("the cluster refused the key for {}", alice.name));
    assert!(failure.fix.contains(&format!("~{}/.ssh/authorized_keys", alice.name)), "{}", failure.fix);
    assert!(failure.fix.contains("SHA256:") && failure.fix.contains("ssh-ed25519 "), "{}", failure.fix);
    assert!(!failure.fix.contains("PRIVATE KEY"), "{}", failure.fix);
}

#[tokio::test]
async fn a_passphrase_key_logs_in_and_a_wrong_passphrase_is_named() {
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    let (pem, passphrase) =
        (alice.passphrase_key_pem.as_deref().unwrap(), alice.passphrase.as_deref().unwrap());
    let mut env = Env::slurm(cluster, alice);
    env.keys = keys(pem, Some(passphrase));
    check(&env).await.unwrap();
    env.keys = keys(pem, Some("not-the-passphrase-5521"));
    let ProviderError::Rejected(message) = env.open().await.err().unwrap() else { panic!("not rejected") };
    assert!(
        message.contains("the passphrase in the SSH credentials does not open the private key"),
        "{message}"
    );
    assert!(!message.contains("not-the-passphrase-5521"));
    env.keys = keys(pem, None);
    let ProviderError::Rejected(message) = env.open().await.err().unwrap() else { panic!("not rejected") };
    assert!(message.contains("add its passphrase"), "{message}");
}

#[tokio::test]
async fn a_work_directory_the_account_cannot_write_is_named() {
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    let mut env = Env::slurm(cluster, alice);
    env.config.work_dir = Some(cluster.readonly_dir.to_string_lossy().into_owned());
    let failure = check(&env).await.unwrap_err();
    assert_eq!(failure.step, "write a private secrets file in the work directory");
    let dir = cluster.readonly_dir.display();
    assert_eq!(
        failure.message,
        format!("{} cannot write in {dir} on {}: permission denied", alice.name, cluster.host)
    );
    assert!(failure.fix.contains(&format!("Give {} write access to {dir}", alice.name)), "{}", failure.fix);

    env.config.work_dir = Some(format!("{}/missing-{}", cluster.scratch.display(), super::fresh_id(6)));
    let failure = check(&env).await.unwrap_err();
    assert!(failure.message.contains("does not exist"), "{}", failure.message);
}

#[tokio::test]
async fn a_scheduler_that_is_not_on_the_path_is_named() {
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    // LSF on the login port where only Slurm is installed: bsub is not there.
    let mut env = Env::slurm(cluster, alice);
    env.platform = Platform::Lsf;
    let failure = check(&env).await.unwrap_err();
    assert_eq!(failure.step, "find the scheduler");
    assert_eq!(failure.message, format!("bsub was not found on {} for {}", cluster.host, alice.name));
    assert!(failure.fix.contains("PATH"), "{}", failure.fix);
    // The same environment on the port whose PATH has the LSF stand-in passes.
    env.config.port = Some(cluster.lsf_port);
    check(&env).await.unwrap();
}

#[tokio::test]
async fn a_host_that_does_not_answer_is_named() {
    let Some(cluster) = cluster() else { return };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut env = Env::slurm(cluster, cluster.alice());
    env.config.port = Some(closed);
    let failure = check(&env).await.unwrap_err();
    assert_eq!(failure.step, "reach the cluster");
    assert!(failure.message.contains("refused"), "{}", failure.message);
    assert!(failure.fix.contains(&format!("port ({closed})")), "{}", failure.fix);
}
