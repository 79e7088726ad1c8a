//! LSF and PBS Pro, which cannot be installed here: the recording stand-ins on their own sshd
//! ports (`bsub`/`bjobs`/`bkill`, `qsub`/`qstat`/`qdel`) answer as the real tools do and never run
//! the script. A run's head job is submitted as the account with its queue and options, followed
//! from queued to running, cancelled with the run, and an ended job fails a run it ended early.

use super::*;

/// The calls a stand-in recorded that concern `wf` (its job name) or `job` (its id).
fn calls(cluster: &TestCluster, scheduler: &str, wf: &str, job: &str) -> Vec<Value> {
    let job_name = format!("sr-{wf}");
    cluster
        .records(scheduler)
        .into_iter()
        .filter(|r| r["argv"].as_array().unwrap().iter().any(|a| a == job_name.as_str() || a == job))
        .collect()
}

/// Whether `text` holds something shaped like an access token: `sr_` and 43 characters of
/// URL-safe base64.
pub fn holds_a_token(text: &str) -> bool {
    let url_safe = |c: &char| c.is_ascii_alphanumeric() || *c == '-' || *c == '_';
    text.match_indices("sr_").any(|(at, _)| text[at + 3..].chars().take_while(url_safe).count() >= 43)
}

fn tool_of(record: &Value) -> &str {
    record["argv"][0].as_str().unwrap()
}

async fn follows_and_cancels(platform: &str, scheduler: &str, port: u16, submit: &str, kill: &str) {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let value = site.secret("API_KEY").await;
    let (key, fingerprint) = (&cluster.alice().private_key_pem, Some(cluster.host_key_fingerprint.as_str()));
    let extra = json!({ "headQueue": "long", "headJobOptions": "-W 10" });
    let env = site.shared_env(platform, port, "srtest-alice", key, fingerprint, extra).await;

    // Submitted, then seen running (the stand-in queues a job for its first second).
    let wf = site.launch(&site.owner, &env, "test/ok", &["API_KEY"]).await;
    let run = site.wait(&site.owner, &wf, 60, |run| run["jobInfo"]["status"] == "RUNNING").await;
    let job = job_id(&run);
    assert!(run["jobInfo"]["start"].is_string(), "{run:#}");
    let recorded = calls(cluster, scheduler, &wf, &job);
    let submitted = recorded.iter().find(|r| tool_of(r) == submit).unwrap_or_else(|| panic!("{recorded:#?}"));
    assert_eq!(submitted["account"], "srtest-alice");
    let argv: Vec<&str> = submitted["argv"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for expected in ["long", "-W", "10"] {
        assert!(argv.contains(&expected), "{expected} missing from {argv:?}");
    }
    let script = submitted["script"].as_str().unwrap_or_default();
    assert!(script.contains("nextflow") && script.contains("run-token"), "{script}");
    let everything = serde_json::to_string(&recorded).unwrap();
    assert!(!everything.contains(&value), "a value reached the scheduler");
    assert!(!holds_a_token(&everything), "a token reached the scheduler: {everything}");

    // Cancelling the run kills the job.
    let path = format!("/api/workflow/{wf}/cancel?workspaceId={}", site.ws);
    let (code, _) = app.send_json(&site.owner, Method::POST, &path, json!({})).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(run["jobInfo"]["status"], "CANCELLED", "{run:#}");
    let killed = calls(cluster, scheduler, &wf, &job);
    assert!(killed.iter().any(|r| tool_of(r) == kill), "{killed:#?}");
    assert!(site.leftovers(&wf).is_empty(), "left on the cluster: {:?}", site.leftovers(&wf));

    // A job that exits by itself before Nextflow reports ends its run.
    let wf = site.launch(&site.owner, &env, "test/ok", &[]).await;
    let run = site.wait(&site.owner, &wf, 60, |run| run["jobInfo"]["operationId"].is_string()).await;
    cluster.fake_finish(scheduler, &job_id(&run), 2);
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(status(&run), "FAILED", "{run:#}");
    assert!(message(&run).starts_with("The head job ended ("), "{}", message(&run));
}

#[tokio::test]
async fn lsf_head_jobs_are_submitted_followed_and_cancelled() {
    let port = TestCluster::get().map(|c| c.lsf_port).unwrap_or_default();
    follows_and_cancels("lsf-platform", "lsf", port, "bsub", "bkill").await;
}

#[tokio::test]
async fn pbs_head_jobs_are_submitted_followed_and_cancelled() {
    let port = TestCluster::get().map(|c| c.pbs_port).unwrap_or_default();
    follows_and_cancels("altair-platform", "pbs", port, "qsub", "qdel").await;
}
