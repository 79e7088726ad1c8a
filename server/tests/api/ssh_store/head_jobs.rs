//! Head jobs on the real Slurm: submitted as the account, followed to their end in Slurm's own
//! words, cancelled; and no value or token in the script, the log or Slurm's records.

use super::{cluster, copy, secret_text, value, workflow_id, Env, FakeTower};
use crate::support::cluster::TestCluster;
use server::providers::{CreatedCopy, HeadJobSpec, HeadJobState, SharedStore};
use sha2::Digest;
use std::time::{Duration, Instant};

pub struct Launch {
    pub workflow_id: String,
    pub env: Vec<(String, String)>,
    pub token: secrecy::SecretString,
}

/// Copies the secrets, prepares the launch and returns what the head job is started with.
pub async fn prepare(store: &SharedStore, secrets: &[(&str, &str)]) -> Launch {
    let wf = workflow_id();
    let mut created = Vec::new();
    for (name, text) in secrets {
        let reference = store.create_copy(copy(&wf, name), &value(text)).await.unwrap();
        created.push(CreatedCopy { name: name.to_string(), reference });
    }
    let mut env = store.prepare_launch(&wf, &created).await.unwrap();
    env.push(("TOWER_WORKFLOW_ID".into(), wf.clone()));
    env.push(("NXF_ENABLE_SECRETS".into(), "true".into()));
    let token = secrecy::SecretString::from(format!("sr_run_{}", super::fresh_id(24)));
    Launch { workflow_id: wf, env, token }
}

pub fn spec<'a>(launch: &'a Launch, pipeline: &'a str, tower: &'a str) -> HeadJobSpec<'a> {
    HeadJobSpec {
        workflow_id: &launch.workflow_id,
        run_name: "happy_turing",
        pipeline,
        revision: None,
        tower_endpoint: tower,
        launch_env: &launch.env,
        run_token: &launch.token,
        params_text: Some(r#"{"input": "samples.csv"}"#),
        config_text: None,
        pre_run_script: None,
        post_run_script: None,
        work_dir: None,
        config_profiles: &[],
        web_identity: None,
    }
}

/// Polls the head job until it is over (or `timeout`); returns the last state.
pub async fn follow(store: &SharedStore, wf: &str, job_id: &str, timeout: Duration) -> HeadJobState {
    let started = Instant::now();
    loop {
        let state = store.head_jobs().unwrap().status(wf, job_id).await.unwrap();
        if state.is_over() || started.elapsed() > timeout {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn slurm_text(cluster: &TestCluster, job_id: &str) -> String {
    let shown = std::process::Command::new("scontrol").args(["show", "job", job_id]).output().unwrap();
    let script =
        std::process::Command::new("scontrol").args(["write", "batch_script", job_id, "-"]).output().unwrap();
    let _ = cluster;
    format!("{}{}", String::from_utf8_lossy(&shown.stdout), String::from_utf8_lossy(&script.stdout))
}

#[tokio::test]
async fn a_slurm_head_job_runs_as_the_account_reads_the_store_and_leaves_no_value_behind() {
    use secrecy::ExposeSecret;
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    let tower = FakeTower::start().await;
    let env = Env::slurm(cluster, alice);
    let store = env.store().await;
    let (db, api) = (secret_text("db"), secret_text("api"));
    let launch = prepare(&store, &[("DB_PASSWORD", &db), ("API_KEY", &api)]).await;
    let wf = launch.workflow_id.clone();
    let jobs = store.head_jobs().unwrap();
    let job_id = jobs.submit(&spec(&launch, "test/ok", &tower.url)).await.unwrap();
    // Submitting again (a resumed launch) finds the same job.
    assert_eq!(jobs.submit(&spec(&launch, "test/ok", &tower.url)).await.unwrap(), job_id);

    let state = follow(&store, &wf, &job_id, Duration::from_secs(90)).await;
    assert_eq!(
        state,
        HeadJobState::Succeeded,
        "log: {:?}",
        std::fs::read_to_string(env.run_dir(&wf).join("head.log"))
    );
    assert_eq!(cluster.job_user(&job_id).as_deref(), Some(alice.name.as_str()));

    // The stand-in nextflow read the store as the account, with the modes Nextflow needs.
    let proof_path = env.work_dir().join(format!("proof-{wf}.json"));
    let proof: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&proof_path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&proof_path);
    assert_eq!(proof["user"], alice.name.as_str());
    assert_eq!(proof["store"], env.run_dir(&wf).join("secrets.json").to_string_lossy().as_ref());
    let digest = |text: &str| hex::encode(sha2::Sha256::digest(text.as_bytes()));
    assert_eq!(proof["digests"]["DB_PASSWORD"], digest(&db));
    assert_eq!(proof["digests"]["API_KEY"], digest(&api));
    let argv: Vec<String> = serde_json::from_value(proof["argv"].clone()).unwrap();
    assert!(argv.iter().any(|a| a == "-params-file") && argv.iter().any(|a| a == "-c"), "{argv:?}");
    // The token reached Strongroom's trace API as the bearer, from the run-token file.
    let token = launch.token.expose_secret();
    let requests = tower.requests();
    assert!(requests.iter().any(|r| r.starts_with("POST /api/trace/create")), "{requests:?}");
    assert!(requests.iter().all(|r| r.contains(&format!("Bearer {token}"))), "{requests:?}");

    let script = std::fs::read_to_string(env.run_dir(&wf).join("head.sh")).unwrap();
    let log = std::fs::read_to_string(env.run_dir(&wf).join("head.log")).unwrap_or_default();
    let slurm = slurm_text(cluster, &job_id);
    for (what, text) in [("head.sh", &script), ("head.log", &log), ("scontrol", &slurm)] {
        for needle in [db.as_str(), api.as_str(), token] {
            assert!(!text.contains(needle), "{what} holds a secret value or the token");
        }
    }
    // Control: the leak check below finds the store while it is there.
    let store_path = env.run_dir(&wf).join("secrets.json").to_string_lossy().into_owned();
    assert!(super::files_holding(&cluster.state_dir, &[&db]).contains(&store_path));
    store.finish_cleanup(&wf).await.unwrap();
    assert!(!env.run_dir(&wf).exists(), "the run directory is left");
    // Slurm's state and spool, the whole cluster directory: nothing of the run is left.
    let found = super::files_holding(&cluster.state_dir, &[&db, &api, token]);
    assert!(found.is_empty(), "values or token left on the cluster: {found:?}");
}

#[tokio::test]
async fn a_head_job_that_fails_ends_in_slurms_words() {
    let Some(cluster) = cluster() else { return };
    let env = Env::slurm(cluster, cluster.alice());
    let store = env.store().await;
    let launch = prepare(&store, &[("DB", &secret_text("db"))]).await;
    let job_id = store
        .head_jobs()
        .unwrap()
        .submit(&spec(&launch, "test/fail", "http://127.0.0.1:9/api"))
        .await
        .unwrap();
    let state = follow(&store, &launch.workflow_id, &job_id, Duration::from_secs(90)).await;
    let HeadJobState::Failed(reason) = state else { panic!("not failed: {state:?}") };
    assert!(reason.starts_with("FAILED, exit code 3:0"), "{reason}");
    store.finish_cleanup(&launch.workflow_id).await.unwrap();
}

#[tokio::test]
async fn cancel_takes_the_head_job_off_the_queue() {
    let Some(cluster) = cluster() else { return };
    let tower = FakeTower::start().await;
    let env = Env::slurm(cluster, cluster.bob());
    let store = env.store().await;
    let launch = prepare(&store, &[("DB", &secret_text("db"))]).await;
    let wf = launch.workflow_id.clone();
    let jobs = store.head_jobs().unwrap();
    let job_id = jobs.submit(&spec(&launch, "test/sleep", &tower.url)).await.unwrap();
    assert_eq!(
        cluster.wait_for_job(&job_id, &["RUNNING"], Duration::from_secs(60)).as_deref(),
        Some("RUNNING")
    );
    assert_eq!(cluster.job_user(&job_id).as_deref(), Some(cluster.bob().name.as_str()));
    jobs.cancel(&wf, &job_id).await.unwrap();
    let started = Instant::now();
    while cluster.squeue_has(&job_id) && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!cluster.squeue_has(&job_id), "the job is still queued");
    jobs.cancel(&wf, &job_id).await.unwrap();
    let state = follow(&store, &wf, &job_id, Duration::from_secs(30)).await;
    assert!(matches!(&state, HeadJobState::Failed(r) if r.starts_with("CANCELLED")), "{state:?}");
    store.finish_cleanup(&wf).await.unwrap();
    assert!(!env.run_dir(&wf).exists());
}
