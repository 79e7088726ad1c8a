//! What a launch costs over SSH, measured on the test cluster (run by hand:
//! `cargo test -p server --test api -- ssh_store::timings --ignored --nocapture`): a new
//! store's first call (TCP, handshake, authentication, `id -u`, SFTP), writing a store of five
//! secrets on the open connection, and submitting the head job to Slurm. Median of 10 each.

use super::head_jobs::{prepare, spec};
use super::{cluster, copy, secret_text, value, workflow_id, Env};
use std::time::Instant;

fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn connect_write_and_submit_cost() {
    let Some(cluster) = cluster() else { return };
    let env = Env::slurm(cluster, cluster.alice());
    let (mut connect, mut write, mut submit) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..10 {
        let store = env.store().await;
        let started = Instant::now();
        store.list_managed().await.unwrap();
        connect.push(started.elapsed().as_millis());

        let wf = workflow_id();
        let started = Instant::now();
        for name in ["A1", "A2", "A3", "A4", "A5"] {
            store.create_copy(copy(&wf, name), &value(&secret_text(name))).await.unwrap();
        }
        write.push(started.elapsed().as_millis());
        store.finish_cleanup(&wf).await.unwrap();

        let launch = prepare(&store, &[("A1", "x")]).await;
        let started = Instant::now();
        store
            .head_jobs()
            .unwrap()
            .submit(&spec(&launch, "test/unreported", "http://127.0.0.1:9/api"))
            .await
            .unwrap();
        submit.push(started.elapsed().as_millis());
        store.finish_cleanup(&launch.workflow_id).await.unwrap();
    }
    println!(
        "ssh costs (median of 10): connect {} ms, write store (5 secrets) {} ms, submit {} ms",
        median(connect),
        median(write),
        median(submit)
    );
}
