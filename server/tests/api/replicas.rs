//! Two replicas on one database, no sticky sessions: two real `strongroom` processes share the
//! database and the key and nothing else. A user signs in on one and works on the other with the
//! same cookie; 12 runs of 10 secrets each are launched across both; one replica is killed with
//! SIGKILL while copies are being made. The other must finish every run's provisioning and
//! cleanup, and the provider (the fake Secret Manager, which records what took effect) must have
//! made each copy once, given it one version and deleted it once. The audit chain, written by
//! both, must verify.
//!
//! Replicas are meant for PostgreSQL (workers claim rows with `FOR UPDATE SKIP LOCKED`); the test
//! also runs on SQLite, where two processes on one file queue on its write lock.

use crate::crash::ServerProcess;
use crate::fakes::gsm::FakeGsm;
use crate::faults::google_env;
use crate::helpers::*;
use crate::runs::quick_jobs;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

// 120 copies: three Secret Manager writes each (create, add the version, delete), paced by the
// one replica left at 9 writes a second per project, take about 40 s; 400 took 135 s and showed
// nothing more.
const RUNS: usize = 12;
const SECRETS: usize = 10;

/// A request to one replica, answered with its status and JSON body.
async fn call(
    replica: &ServerProcess,
    who: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = who.request(method, replica.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{path} on {}: {e}", replica.addr));
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signs in on `replica` as a browser does and returns the session cookie (`name=value`).
async fn sign_in(replica: &ServerProcess) -> String {
    let response = client()
        .post(replica.url("/sfn/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("location"), "sign-in failed: {}", response.status());
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_string()
}

/// The run as `replica` describes it.
async fn run_on(replica: &ServerProcess, who: &Client, ws: i64, wf: &str) -> Value {
    let (status, run) =
        call(replica, who, Method::GET, &format!("/api/workflow/{wf}?workspaceId={ws}"), None).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run
}

/// Waits (at most `limit`) until every run has reached `stage`, asking `replica`.
async fn wait_all(
    replica: &ServerProcess,
    who: &Client,
    ws: i64,
    runs: &[String],
    stage: &str,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    for wf in runs {
        loop {
            let run = run_on(replica, who, ws, wf).await;
            if run["cleanupStage"] == stage {
                break;
            }
            assert!(Instant::now() < deadline, "run {wf} did not reach {stage} in time: {run:#}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// How many times each effect (`created`, `version`, `deleted`) happened to each copy (the
/// preflight's `tower-preflight-…` probes left out).
fn effects_by_copy(fake: &FakeGsm) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut by_copy: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for effect in fake.effects() {
        let (what, id) = effect.split_once(' ').unwrap();
        if id.starts_with("tower-") && !id.starts_with("tower-preflight-") {
            *by_copy.entry(id.to_string()).or_default().entry(what.to_string()).or_default() += 1;
        }
    }
    by_copy
}

fn count(fake: &FakeGsm, what: &str) -> usize {
    effects_by_copy(fake).values().map(|e| e.get(what).copied().unwrap_or(0)).sum()
}

#[tokio::test]
async fn two_replicas_share_sessions_and_one_finishes_the_runs_of_the_other_after_it_is_killed() {
    let fake = FakeGsm::start().await;
    // The in-process app only migrates the database and makes the environment; it runs no jobs
    // and is not used after the set-up.
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.workers = 0;
    })
    .await;
    let setup = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&setup, "lab").await;
    let env = google_env(&app, ws, &fake).await;
    let limits = [("STRONGROOM_LOGIN_ATTEMPTS_PER_MINUTE", "1000".to_string())];
    let started = Instant::now();
    let mut a = ServerProcess::start(&app, &limits).await;
    let b = ServerProcess::start(&app, &limits).await;

    // Sessions live in the database: signed in on A, the same cookie works on B.
    let cookie = sign_in(&a).await;
    let user = client_with_cookie(&cookie);
    let (status, me) = call(&b, &user, Method::GET, "/api/user-info", None).await;
    assert_eq!(status, StatusCode::OK, "the cookie from A is a session on B: {me}");

    // The secrets are written on both; each replica reads what the other wrote.
    let names: Vec<String> = (0..SECRETS).map(|i| format!("SECRET_{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let on = if i % 2 == 0 { &a } else { &b };
        let body = json!({ "name": name, "value": format!("value-of-{name}") });
        let (status, body) =
            call(on, &user, Method::POST, &format!("/api/pipeline-secrets?workspaceId={ws}"), Some(body))
                .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for on in [&a, &b] {
        let (_, listed) =
            call(on, &user, Method::GET, &format!("/api/pipeline-secrets?workspaceId={ws}"), None).await;
        assert_eq!(listed["pipelineSecrets"].as_array().map(Vec::len), Some(SECRETS), "{listed}");
    }
    let (status, token) = call(&a, &user, Method::POST, "/api/tokens", Some(json!({ "name": "nf" }))).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let nextflow = client_with_bearer(token["accessKey"].as_str().unwrap());

    // A slow provider, so the copies are still being made when A dies.
    fake.set_delay(Duration::from_millis(20));
    let launch = json!({ "launch": { "pipeline": "nf-core/demo", "computeEnvId": env.to_string(),
        "workspaceSecrets": names } });
    let path = format!("/api/workflow/launch?workspaceId={ws}");
    let mut runs = Vec::new();
    for i in 0..RUNS / 2 {
        let on = if i % 2 == 0 { &a } else { &b };
        let (status, body) = call(on, &user, Method::POST, &path, Some(launch.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        runs.push(body["workflowId"].as_str().unwrap().to_string());
    }
    a.kill().await;
    let made_before_kill = count(&fake, "created");
    assert!(
        made_before_kill < RUNS / 2 * SECRETS,
        "A was killed after provisioning had finished ({made_before_kill} copies made): not in the middle"
    );
    for _ in RUNS / 2..RUNS {
        let (status, body) = call(&b, &user, Method::POST, &path, Some(launch.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        runs.push(body["workflowId"].as_str().unwrap().to_string());
    }

    // B finishes every run's copies (those A held are retried once A's claims lapse: 15 s here).
    wait_all(&b, &user, ws, &runs, "launched", Duration::from_secs(150)).await;
    let launched_after = started.elapsed();
    let held = fake.secrets();
    for wf in &runs {
        for name in &names {
            let copy = held
                .get(&format!("tower-{wf}-{name}"))
                .unwrap_or_else(|| panic!("no copy of {name} for {wf}"));
            assert_eq!(copy.versions.len(), 1, "one version of {name} for {wf}");
            assert_eq!(copy.versions[0].data, format!("value-of-{name}").into_bytes());
        }
    }
    for wf in &runs {
        let (status, _) = call(
            &b,
            &nextflow,
            Method::PUT,
            &format!("/api/trace/{wf}/complete"),
            Some(json!({ "workflow": { "success": true } })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    wait_all(&b, &user, ws, &runs, "cleaned", Duration::from_secs(90)).await;
    let cleaned_after = started.elapsed();

    // What the provider did: each copy made once, given one version, deleted once, none left.
    let by_copy = effects_by_copy(&fake);
    assert_eq!(by_copy.len(), RUNS * SECRETS, "one copy per secret per run");
    let odd: Vec<_> = by_copy.iter().filter(|(_, e)| e.len() != 3 || e.values().any(|n| *n != 1)).collect();
    assert!(odd.is_empty(), "copies not made, filled and deleted exactly once: {odd:?}");
    let left: Vec<String> = fake.secrets().keys().filter(|id| id.starts_with("tower-")).cloned().collect();
    assert!(left.is_empty(), "copies left behind: {left:?}");
    let create_calls =
        fake.calls().iter().filter(|c| c.starts_with("POST ") && c.ends_with("/secrets")).count();
    eprintln!(
        "replicas: {} runs, {} copies made ({made_before_kill} before A was killed), {} deleted; \
         {create_calls} create calls in all; all launched after {launched_after:?}, cleaned after \
         {cleaned_after:?}",
        runs.len(),
        count(&fake, "created"),
        count(&fake, "deleted"),
    );

    // Signing out on B ends the session on A's side too (A is gone: a fresh replica stands in).
    let c = ServerProcess::start(&app, &limits).await;
    let (status, _) = call(&c, &user, Method::GET, "/api/user-info", None).await;
    assert_eq!(status, StatusCode::OK);
    let response = user.post(b.url("/sfn/logout")).send().await.unwrap();
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let (status, _) = call(&c, &user, Method::GET, "/api/user-info", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out on B means signed out everywhere");

    // Both replicas wrote to one audit chain; it holds.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let verified = server::audit::verify(&pool).await.unwrap();
    pool.close().await;
    let entries = verified.unwrap_or_else(|broken| panic!("{broken}")).entries;
    assert!(entries > (SECRETS + RUNS) as i64, "the secrets and launches were audited: {entries} entries");
}
