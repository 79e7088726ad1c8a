//! Crash safety over SSH: the real `strongroom` binary runs the jobs (copies written over SFTP,
//! head jobs submitted with `sbatch`, cancelled and cleaned) and is killed with SIGKILL at
//! seeded random moments, then started again; the web requests go to an in-process replica that
//! runs no jobs, as in `crate::crash`. After the last restart and a reconcile, nothing of any run
//! is left on the cluster: no run directory, no store, no `.nf-*.secrets`, no job in `squeue`.

use super::*;
use crate::cli::db_env;
use rand::{Rng, SeedableRng};
use std::process::Stdio;

/// The job-running server, reporting URL set to the web replica (where head jobs report).
fn start_worker(app: &TestApp) -> tokio::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(db_env(app))
        .env("STRONGROOM_ADDR", format!("127.0.0.1:{port}"))
        .env("STRONGROOM_PUBLIC_URL", app.url(""))
        .env("STRONGROOM_WORKERS", "4")
        .env("STRONGROOM_WORKER_POLL_MS", "50")
        .env("STRONGROOM_HEAD_JOB_POLL_MS", "200")
        .env("STRONGROOM_RETRY_BASE_MS", "20")
        .env("STRONGROOM_RETRY_CAP_MS", "200")
        .env("STRONGROOM_MAX_CREATE_ATTEMPTS", "1000")
        .env("STRONGROOM_RECONCILE_INTERVAL_SECS", "1")
        .env("STRONGROOM_RECONCILE_GRACE_SECS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the strongroom binary starts")
}

async fn run_then_kill(app: &TestApp, rng: &mut rand::rngs::StdRng) {
    let mut child = start_worker(app);
    tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1500))).await;
    child.kill().await.expect("SIGKILL");
}

/// The names of the jobs Slurm still holds (pending, running or completing).
fn queued_job_names() -> Vec<String> {
    let out = std::process::Command::new("squeue").args(["-h", "-o", "%j"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect()
}

#[tokio::test]
async fn killing_the_server_during_ssh_launches_leaves_nothing_on_the_cluster() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(|c| {
        cluster_jobs(c);
        c.workers = 0;
    })
    .await;
    let site = Site::new(&app, cluster).await;
    let names = ["ALPHA", "BRAVO", "CHARLIE"];
    for name in names {
        site.secret(name).await;
    }
    let (key, fingerprint) = (&cluster.alice().private_key_pem, Some(cluster.host_key_fingerprint.as_str()));
    let env =
        site.shared_env("slurm-platform", cluster.port, "srtest-alice", key, fingerprint, json!({})).await;

    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(site.launch(&site.owner, &env, "test/sleep", &names).await);
    }
    // Killed while writing stores and submitting head jobs.
    for _ in 0..3 {
        run_then_kill(&app, &mut rng).await;
    }
    // Cancelled whatever state each is in; killed again while cancelling and cleaning.
    for wf in &runs {
        let path = format!("/api/workflow/{wf}/cancel?workspaceId={}", site.ws);
        let (code, body) = app.send_json(&site.owner, Method::POST, &path, json!({})).await;
        assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
    }
    for _ in 0..2 {
        run_then_kill(&app, &mut rng).await;
    }

    let _worker = start_worker(&app);
    for wf in &runs {
        site.wait(&site.owner, wf, 120, |run| run["cleanupStage"] == "cleaned").await;
    }
    let services = app.services().await;
    let report = server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    assert_eq!((report.found, report.unreachable), (0, 0), "{report:?}");
    for wf in &runs {
        assert!(site.leftovers(wf).is_empty(), "left on the cluster: {:?}", site.leftovers(wf));
    }
    // A cancelled job may show as completing for a moment.
    let ours = |jobs: &[String]| runs.iter().any(|wf| jobs.contains(&format!("sr-{wf}")));
    let deadline = Instant::now() + Duration::from_secs(15);
    while ours(&queued_job_names()) {
        assert!(Instant::now() < deadline, "a head job still runs: {:?}", queued_job_names());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
