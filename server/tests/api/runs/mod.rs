//! Launch, the run lifecycle and cleanup on the `local` HPC environment, end to end over HTTP.
//! This module holds the launch and polling helpers that the other run tests (AWS, faults, crash,
//! hostile endpoints, run tokens) share.

mod launch_checks;
mod lifecycle;

use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// Fast job timing for tests; the reconciler only runs when a test calls it.
pub fn quick_jobs(config: &mut server::config::Config) {
    config.worker_poll_ms = 50;
    config.retry_base_ms = 20;
    config.retry_cap_ms = 200;
    config.reconcile_interval_secs = 3600;
    config.reconcile_grace_secs = 0;
}

/// Fast jobs for the cloud head-job tests: `quick_jobs`, with head jobs polled every 100 ms.
pub fn head_job_jobs(config: &mut server::config::Config) {
    quick_jobs(config);
    config.head_job_poll_ms = 100;
}

/// Creates a secret (in `workspace`, or the caller's own) and returns its id.
pub async fn create_secret(
    app: &TestApp,
    client: &Client,
    workspace: Option<i64>,
    name: &str,
    value: &str,
) -> i64 {
    let path = match workspace {
        Some(ws) => format!("/api/pipeline-secrets?workspaceId={ws}"),
        None => "/api/pipeline-secrets".to_string(),
    };
    let (status, body) =
        app.send_json(client, Method::POST, &path, json!({ "name": name, "value": value })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["secretId"].as_i64().expect("the created secret's id")
}

pub async fn launch(app: &TestApp, client: &Client, ws: i64, body: Value) -> (StatusCode, Value) {
    app.send_json(
        client,
        Method::POST,
        &format!("/api/workflow/launch?workspaceId={ws}"),
        json!({ "launch": body }),
    )
    .await
}

pub async fn describe(app: &TestApp, client: &Client, ws: i64, wf: &str) -> Value {
    let (status, body) = app.get_json(client, &format!("/api/workflow/{wf}?workspaceId={ws}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Polls the run until `done` holds (or fails after 20 s, printing the last answer).
pub async fn wait_for(
    app: &TestApp,
    client: &Client,
    ws: i64,
    wf: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let run = describe(app, client, ws, wf).await;
        if done(&run) {
            return run;
        }
        assert!(std::time::Instant::now() < deadline, "the run did not get there in time: {run:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn stage(run: &Value) -> &str {
    run["cleanupStage"].as_str().unwrap_or_default()
}

pub fn copy_states(run: &Value) -> Vec<(String, String)> {
    run["secretCopies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["state"].as_str().unwrap().to_string()))
        .collect()
}

async fn token(app: &TestApp, client: &Client, name: &str) -> String {
    let (status, body) = app.send_json(client, Method::POST, "/api/tokens", json!({ "name": name })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["accessKey"].as_str().unwrap().to_string()
}

async fn local_env_id(app: &TestApp, client: &Client, ws: i64) -> String {
    let (_, envs) = app.get_json(client, &format!("/api/compute-envs?workspaceId={ws}")).await;
    let env =
        envs["computeEnvs"].as_array().unwrap().iter().find(|e| e["name"] == "local").expect("a local env");
    env["id"].as_str().unwrap().to_string()
}

/// Reports, as Nextflow does with the launcher's (or the run's) token, that the run succeeded.
pub async fn report_success(app: &TestApp, bearer: &Client, wf: &str) {
    let complete = format!("/api/trace/{wf}/complete");
    let body = serde_json::json!({ "workflow": { "success": true } });
    let (status, _) = app.send_json(bearer, reqwest::Method::PUT, &complete, body).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{complete}");
}
