//! One SSH connection per store, reused by all of a run's calls, and reopened once when it
//! drops: counted at a TCP relay between the store and the cluster's sshd, which can cut every
//! connection it carries.

use super::head_jobs::{follow, prepare, spec};
use super::{cluster, copy, secret_text, value, workflow_id, Env};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A loopback relay to `upstream` that counts the connections it accepted and can cut them all.
struct Relay {
    port: u16,
    accepted: Arc<AtomicUsize>,
    carried: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (accepted, carried) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())));
        let (count, tasks) = (accepted.clone(), carried.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let task = tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                tasks.lock().unwrap().push(task);
            }
        });
        Relay { port, accepted, carried }
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Drops every connection carried so far (both sockets close), as a network cut would.
    fn cut(&self) {
        for task in self.carried.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test]
async fn a_run_uses_one_connection_and_a_dropped_one_is_reopened_once() {
    let Some(cluster) = cluster() else { return };
    let relay = Relay::start(cluster.port).await;
    let mut env = Env::slurm(cluster, cluster.alice());
    env.config.port = Some(relay.port);
    let store = env.store().await;

    // A run's calls: copies, the launch environment, the head job, its status.
    let launch = prepare(&store, &[("A1", &secret_text("a")), ("A2", &secret_text("b"))]).await;
    let wf = launch.workflow_id.clone();
    let jobs = store.head_jobs().unwrap();
    let job_id = jobs.submit(&spec(&launch, "test/unreported", "http://127.0.0.1:9/api")).await.unwrap();
    // Followed to its end, as a run is before its cleanup: a head job Slurm starts only during
    // the cleanup below opens its head.log in the run directory after the cleanup listed it, and
    // the directory is then left (not empty), which a loaded CI machine once did.
    let state = follow(&store, &wf, &job_id, Duration::from_secs(60)).await;
    assert!(state.is_over(), "the head job did not end: {state:?}");
    store.delete_copy(copy(&wf, "A1")).await.unwrap();
    assert_eq!(relay.connections(), 1, "the run's calls opened more than one connection");

    relay.cut();
    // The next call finds the connection gone, reconnects once and succeeds.
    store.delete_copy(copy(&wf, "A2")).await.unwrap();
    assert_eq!(relay.connections(), 2);
    store.finish_cleanup(&wf).await.unwrap();
    assert_eq!(relay.connections(), 2);
    assert!(!env.run_dir(&wf).exists());

    // A store of another run (its own cache entry) opens its own connection.
    let other = env.store().await;
    other.create_copy(copy(&workflow_id(), "B1"), &value("x")).await.unwrap();
    assert_eq!(relay.connections(), 3);
    for found in other.list_managed().await.unwrap() {
        other.finish_cleanup(&found.workflow_id).await.unwrap();
    }
}
