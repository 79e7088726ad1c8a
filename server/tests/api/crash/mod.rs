//! Crash safety: the real `strongroom` binary does the background jobs and is killed with
//! SIGKILL at seeded random moments while copies are being made and while they are being
//! deleted, then started again. The web requests (launch, Nextflow's reports) go to a second,
//! in-process server on the same database that runs no jobs (`workers = 0`), as a web-only
//! replica would. After the last restart and a reconcile, no copy of an ended run may remain in
//! Google Secret Manager (the fake, through the real client) and no run may be stuck.

mod process;
mod secret_writes;

pub(crate) use process::ServerProcess;

use crate::fakes::gsm::FakeGsm;
use crate::faults::google_env;
use crate::helpers::*;
use crate::runs::{create_secret, describe, launch, quick_jobs, report_success, stage};
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

/// Starts the job-running server (no one sends it requests; it only needs its own port).
fn start_worker(app: &TestApp) -> tokio::process::Child {
    start_worker_with(app, &[])
}

/// `start_worker`, with settings of its own on top (the SSH crash test's reporting URL and
/// head-job polling).
pub(crate) fn start_worker_with(app: &TestApp, extra: &[(&str, String)]) -> tokio::process::Child {
    ServerProcess::spawn(app, extra).child
}

/// Lets the worker run for a random while, then kills it with SIGKILL.
async fn run_then_kill(app: &TestApp, rng: &mut rand::rngs::StdRng) {
    let mut child = start_worker(app);
    tokio::time::sleep(Duration::from_millis(rng.gen_range(150..900))).await;
    child.kill().await.expect("SIGKILL");
}

#[tokio::test]
async fn killing_the_server_mid_provisioning_and_mid_cleanup_leaves_nothing_behind() {
    let fake = FakeGsm::start().await;
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.workers = 0;
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = google_env(&app, ws, &fake).await;
    let names = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"];
    for name in names {
        create_secret(&app, &admin, Some(ws), name, &format!("value-of-{name}")).await;
    }
    let (_, token) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "nf" })).await;
    let bearer = client_with_bearer(token["accessKey"].as_str().unwrap());

    let mut all_runs = Vec::new();
    for seed in [1u64, 2, 3] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        fake.set_faults(0.0, 0.0, seed);
        let mut runs = Vec::new();
        for _ in 0..3 {
            let body = json!({
                "pipeline": "nf-core/demo",
                "computeEnvId": env.to_string(),
                "workspaceSecrets": names,
            });
            let (status, body) = launch(&app, &admin, ws, body).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            runs.push(body["workflowId"].as_str().unwrap().to_string());
        }
        fake.set_faults(0.10, 0.05, seed);
        // Killed while copying.
        for _ in 0..3 {
            run_then_kill(&app, &mut rng).await;
        }
        // Some runs end while their copies may still be half made; Nextflow's reports reach the
        // web replica whatever the worker is doing.
        for wf in &runs {
            report_success(&app, &bearer, wf).await;
        }
        // Killed while deleting.
        for _ in 0..3 {
            run_then_kill(&app, &mut rng).await;
        }
        all_runs.extend(runs);
    }

    // The last start: it must finish every cleanup, and its reconciler runs every second.
    fake.set_faults(0.0, 0.0, 0);
    let _worker = start_worker(&app);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    for wf in &all_runs {
        loop {
            let run = describe(&app, &admin, ws, wf).await;
            if stage(&run) == "cleaned" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "run stuck after restarts: {run:#}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // One full reconcile pass after everything settled.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let left: Vec<String> = fake.secrets().keys().filter(|id| id.starts_with("tower-")).cloned().collect();
    assert!(left.is_empty(), "copies of ended runs left behind: {left:?}");
    let services = app.services().await;
    let report = server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    assert_eq!((report.found, report.deleted, report.unreachable), (0, 0, 0), "{report:?}");
}
