//! Crash safety over SSH: the real `strongroom` binary runs the jobs (copies written over SFTP,
//! head jobs submitted with `sbatch`, cancelled and cleaned) and is killed with SIGKILL at
//! seeded random moments, then started again; the web requests go to an in-process replica that
//! runs no jobs, as in `crate::crash`. After the last restart and a reconcile, nothing of any run
//! is left on the cluster: no run directory, no store, no `.nf-*.secrets`, no job in `squeue`.

use super::*;
use crate::runs::describe;
use rand::{Rng, SeedableRng};

/// The job-running server, reporting URL set to the web replica (where head jobs report).
fn start_worker(app: &TestApp) -> tokio::process::Child {
    let extra = [("STRONGROOM_PUBLIC_URL", app.url("")), ("STRONGROOM_HEAD_JOB_POLL_MS", "200".to_string())];
    crate::crash::start_worker_with(app, &extra)
}

async fn run_then_kill(app: &TestApp, rng: &mut rand::rngs::StdRng) {
    let mut child = start_worker(app);
    tokio::time::sleep(Duration::from_millis(rng.gen_range(100..1000))).await;
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
    // Two waves of launches, each killed while its stores are written and its jobs submitted.
    for _ in 0..2 {
        for _ in 0..3 {
            runs.push(site.launch(&site.owner, &env, "test/sleep", &names).await);
        }
        for _ in 0..3 {
            run_then_kill(&app, &mut rng).await;
        }
    }
    // Cancelled whatever state each is in; killed again while cancelling and cleaning.
    for wf in &runs {
        let run = describe(&app, &site.owner, site.ws, wf).await;
        eprintln!("before cancel: {wf} {} head job {}", run["cleanupStage"], run["jobInfo"]);
    }
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
    let mut before = Vec::new();
    walk(&site.work_dir, &mut |path| before.push(path.to_path_buf()));
    let services = app.services().await;
    let report = server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    assert_eq!((report.found, report.unreachable), (0, 0), "{report:?}, on the cluster: {before:#?}");
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

/// Takes the background steps a worker would, until none is due.
async fn drive(services: &server::domain::Core) {
    use server::jobs::{copies, head_jobs, run_steps};
    for _ in 0..200 {
        let now = server::domain::now_ms();
        let copied = copies::step(services, now).await.unwrap();
        let stepped = run_steps::step(services, now).await.unwrap();
        let followed = head_jobs::step(services, now).await.unwrap();
        if !(copied || stepped || followed) {
            return;
        }
    }
    panic!("the jobs never settled");
}

/// The ids of the Slurm jobs named `sr-<wf>` (pending, running or completing).
fn jobs_named(wf: &str) -> Vec<String> {
    let name = format!("sr-{wf}");
    let out = std::process::Command::new("squeue").args(["-h", "-o", "%i", "-n", &name]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect()
}

/// The state a crash between the scheduler's answer and the database leaves: a submit due,
/// with no job id recorded.
async fn forget_the_job(app: &TestApp, wf: &str) {
    app.run_sql(&format!(
        "UPDATE runs SET head_job_id = NULL, head_job_state = NULL, head_job_submitted_at = NULL, \
         head_job_poll_at = 0 WHERE id = '{wf}'"
    ))
    .await;
}

#[tokio::test]
async fn a_submit_whose_job_id_was_never_recorded_finds_the_same_job_again() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(|c| {
        cluster_jobs(c);
        c.workers = 0;
    })
    .await;
    let public_url = app.url("");
    let services = app
        .services_with(|c| {
            cluster_jobs(c);
            c.public_url = public_url;
        })
        .await;
    let site = Site::new(&app, cluster).await;
    site.secret("API_KEY").await;
    let (key, fingerprint) = (&cluster.alice().private_key_pem, Some(cluster.host_key_fingerprint.as_str()));
    let env =
        site.shared_env("slurm-platform", cluster.port, "srtest-alice", key, fingerprint, json!({})).await;
    let wf = site.launch(&site.owner, &env, "test/sleep", &["API_KEY"]).await;
    drive(&services).await;
    let first = job_id(&describe(&app, &site.owner, site.ws, &wf).await);

    forget_the_job(&app, &wf).await;
    drive(&services).await;
    let run = describe(&app, &site.owner, site.ws, &wf).await;
    assert_eq!(job_id(&run), first, "submitted again, the same job was found: {run:#}");
    assert_eq!(jobs_named(&wf), vec![first.clone()], "one head job only");

    // Forgotten again and cancelled meanwhile: the cleanup waits until the job is found, then
    // cancels it.
    forget_the_job(&app, &wf).await;
    let path = format!("/api/workflow/{wf}/cancel?workspaceId={}", site.ws);
    let (code, _) = app.send_json(&site.owner, Method::POST, &path, json!({})).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    drive(&services).await;
    let run = describe(&app, &site.owner, site.ws, &wf).await;
    assert_eq!(run["cleanupStage"], "cleaned", "{run:#}");
    assert_eq!((job_id(&run), run["jobInfo"]["status"].as_str()), (first, Some("CANCELLED")), "{run:#}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !jobs_named(&wf).is_empty() {
        assert!(Instant::now() < deadline, "the head job still runs: {:?}", jobs_named(&wf));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(site.leftovers(&wf).is_empty(), "left on the cluster: {:?}", site.leftovers(&wf));
}
