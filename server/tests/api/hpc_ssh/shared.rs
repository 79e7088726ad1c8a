//! Shared SSH credentials on Slurm: a run that succeeds, one cancelled while it runs, one whose
//! head job fails at once and one whose head job exits without Nextflow reporting anything.
//! Every one ends with nothing of it left on the cluster.

use super::*;

async fn alice_env(site: &Site<'_>) -> String {
    let cluster = site.cluster;
    let (key, fingerprint) = (&cluster.alice().private_key_pem, Some(cluster.host_key_fingerprint.as_str()));
    site.shared_env("slurm-platform", cluster.port, "srtest-alice", key, fingerprint, json!({})).await
}

#[tokio::test]
async fn a_run_on_shared_ssh_credentials_succeeds_and_leaves_nothing_behind() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let value = site.secret("API_KEY").await;
    let env = alice_env(&site).await;

    let wf = site.launch(&site.owner, &env, "test/ok", &["API_KEY"]).await;
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(status(&run), "SUCCEEDED", "{run:#}");
    assert_eq!(run["jobInfo"]["status"], "SUCCEEDED", "the follower saw the job end: {run:#}");
    assert!(run["jobInfo"]["submit"].is_string(), "{run:#}");
    let job = job_id(&run);
    assert_eq!(cluster.job_user(&job).as_deref(), Some("srtest-alice"));
    let proof = site.proof(&wf);
    assert_eq!(proof["user"], "srtest-alice");
    assert_eq!(proof["digests"]["API_KEY"], sha256_hex(&value));
    let env_names: Vec<&str> =
        proof["env_names"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for name in ["NXF_SECRETS_FILE", "TOWER_WORKFLOW_ID", "TOWER_WORKSPACE_ID", "TOWER_ACCESS_TOKEN"] {
        assert!(env_names.contains(&name), "{name} missing from the head job: {env_names:?}");
    }
    let argv = proof["argv"].to_string();
    assert!(argv.contains(&app.url("/api")), "-with-tower points here: {argv}");
    assert!(site.leftovers(&wf).is_empty(), "left on the cluster: {:?}", site.leftovers(&wf));
    assert!(proof["nf_secrets_file"].is_string(), "the stand-in left a .nf-*.secrets file to clean");
    assert!(!site.all_text().contains(&value), "a value outside the store");
}

#[tokio::test]
async fn cancelling_a_running_ssh_run_stops_its_job_and_removes_its_files() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let value = site.secret("API_KEY").await;
    let env = alice_env(&site).await;

    let wf = site.launch(&site.owner, &env, "test/sleep", &["API_KEY"]).await;
    let run = site.wait(&site.owner, &wf, 60, |run| status(run) == "RUNNING").await;
    let job = job_id(&run);
    assert!(cluster.squeue_has(&job), "the job is running");
    // While it runs, the store is alice's alone.
    let store = site.leftovers(&wf).into_iter().find(|p| p.ends_with("secrets.json")).expect("the store");
    assert_eq!(crate::support::cluster::owner_uid(&store), Some(cluster.alice().uid));
    assert_eq!(crate::support::cluster::file_mode(&store), Some(0o600));
    assert_eq!(crate::support::cluster::file_mode(store.parent().unwrap()), Some(0o700));
    let (code, read) = cluster.run_as("srtest-bob", &format!("cat {}", store.display()));
    assert!(code != 0 && !read.contains(&value), "bob read alice's store");

    let path = format!("/api/workflow/{wf}/cancel?workspaceId={}", site.ws);
    let (code, body) = app.send_json(&site.owner, Method::POST, &path, json!({})).await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(status(&run), "CANCELLED");
    assert_eq!(run["jobInfo"]["status"], "CANCELLED", "{run:#}");
    assert!(!cluster.squeue_has(&job), "the job is gone from squeue");
    assert!(site.leftovers(&wf).is_empty(), "left on the cluster: {:?}", site.leftovers(&wf));
}

#[tokio::test]
async fn a_head_job_that_fails_at_once_fails_the_run_with_the_schedulers_words() {
    let Some(cluster) = TestCluster::require() else { return };
    // A heartbeat timeout far beyond the test: the run must end because the job ended.
    let app = spawn_app_with(|c| {
        cluster_jobs(c);
        c.run_heartbeat_timeout_secs = 3600;
    })
    .await;
    let site = Site::new(&app, cluster).await;
    site.secret("API_KEY").await;
    let env = alice_env(&site).await;

    let wf = site.launch(&site.owner, &env, "test/fail", &["API_KEY"]).await;
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(status(&run), "FAILED", "{run:#}");
    let said = message(&run);
    assert!(said.starts_with("The head job ended ("), "{said}");
    assert!(said.ends_with(") before Nextflow reported the end of the run."), "{said}");
    assert!(said.contains("FAILED") && said.contains('3'), "the scheduler's state and exit code: {said}");
    assert_eq!(run["jobInfo"]["status"], "FAILED");
    assert!(site.leftovers(&wf).is_empty(), "left on the cluster: {:?}", site.leftovers(&wf));
}

#[tokio::test]
async fn a_head_job_that_exits_without_a_report_fails_the_run() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(|c| {
        cluster_jobs(c);
        c.run_heartbeat_timeout_secs = 3600;
    })
    .await;
    let site = Site::new(&app, cluster).await;
    let env = alice_env(&site).await;

    let wf = site.launch(&site.owner, &env, "test/unreported", &[]).await;
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(status(&run), "FAILED", "{run:#}");
    assert!(message(&run).contains("exited successfully but Nextflow never reported"), "{}", message(&run));
    assert_eq!(run["jobInfo"]["status"], "SUCCEEDED");
    assert!(site.leftovers(&wf).is_empty(), "left on the cluster: {:?}", site.leftovers(&wf));
}
