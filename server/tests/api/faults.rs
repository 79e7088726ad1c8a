//! Provisioning and cleanup under a misbehaving provider: the Google Secret Manager fake answers
//! 20 % of calls with 429 RESOURCE_EXHAUSTED and 5 % with 503 UNAVAILABLE, and the real Google
//! client talks to it. Every run must still reach `cleaned`, with exactly one copy (one secret,
//! one version) per name while it ran, and nothing left afterwards.

use crate::fakes::gsm::FakeGsm;
use crate::helpers::*;
use crate::runs::{create_secret, describe, launch, quick_jobs, report_success, stage, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

/// Adds a Google Batch environment pointing at the fake (anonymous credentials) and returns its id.
pub async fn google_env(app: &TestApp, ws: i64, fake: &FakeGsm) -> i64 {
    let config =
        json!({ "project": "proj-faults", "location": "europe-west1", "endpointUrl": fake.endpoint() });
    app.run_sql(&format!(
        "INSERT INTO compute_envs (workspace_id, name, platform, config, status, created_at, updated_at) \
         VALUES ({ws}, 'gcp', 'google-batch', '{config}', 'AVAILABLE', 0, 0)"
    ))
    .await;
    let (_, envs) = app
        .get_json(&app.login(ADMIN_EMAIL, PASSWORD).await, &format!("/api/compute-envs?workspaceId={ws}"))
        .await;
    envs["computeEnvs"].as_array().unwrap().iter().find(|e| e["name"] == "gcp").unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_run_is_cleaned_without_duplicates_when_the_provider_throttles_and_fails() {
    let fake = FakeGsm::start().await;
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.max_create_attempts = 1000;
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = google_env(&app, ws, &fake).await;
    let names = ["ALPHA", "BRAVO", "CHARLIE", "DELTA"];
    for name in names {
        create_secret(&app, &admin, Some(ws), name, &format!("value-of-{name}")).await;
    }

    // Launch answers only after a real preflight; the faults start once the runs are accepted,
    // so they hit the copies the worker makes and deletes.
    let mut runs = Vec::new();
    for _ in 0..5 {
        let (status, body) = launch(
            &app,
            &admin,
            ws,
            json!({ "pipeline": "nf-core/demo", "computeEnvId": env.to_string(), "workspaceSecrets": names }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        runs.push(body["workflowId"].as_str().unwrap().to_string());
    }
    fake.set_faults(0.20, 0.05, 7);

    let mut total_retries = 0;
    for wf in &runs {
        let run = wait_for(&app, &admin, ws, wf, |r| stage(r) == "launched").await;
        let retried: i64 =
            run["secretCopies"].as_array().unwrap().iter().map(|c| c["attempts"].as_i64().unwrap()).sum();
        let held = fake.secrets();
        for name in names {
            let copy = held
                .get(&format!("tower-{wf}-{name}"))
                .unwrap_or_else(|| panic!("no copy of {name} for {wf}"));
            assert_eq!(copy.versions.len(), 1, "exactly one version of {name} in {wf}");
            assert_eq!(copy.versions[0].data, format!("value-of-{name}").into_bytes());
        }
        let copies = held.keys().filter(|id| id.starts_with(&format!("tower-{wf}-"))).count();
        assert_eq!(copies, names.len(), "no duplicate copies for {wf} (retries: {retried})");
        total_retries += retried;
    }
    // The faults were real: some creates failed and were retried.
    assert!(total_retries > 0, "no call was retried");

    let bearer = client_with_bearer(&{
        let (_, t) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "nf" })).await;
        t["accessKey"].as_str().unwrap().to_string()
    });
    for wf in &runs {
        report_success(&app, &bearer, wf).await;
    }
    for wf in &runs {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let run = describe(&app, &admin, ws, wf).await;
            if stage(&run) == "cleaned" {
                assert_eq!(run["workflow"]["status"], "SUCCEEDED");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not cleaned in time: {run:#}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let left: Vec<String> = fake.secrets().keys().filter(|id| id.starts_with("tower-")).cloned().collect();
    assert!(left.is_empty(), "copies left behind: {left:?}");
}
