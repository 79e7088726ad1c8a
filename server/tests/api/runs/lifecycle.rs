//! A run from launch to cleanup: the copies land in a private Nextflow secrets file, a stand-in
//! head job reads them as Nextflow would and reports through the trace API, and every end
//! (complete, cancel, no heartbeat) removes them; the reconciler removes what ended runs and runs
//! this database never knew left behind, and never a live run's copies.

use super::{
    copy_states, create_secret, describe, launch, local_env_id, quick_jobs, report_success, stage, token,
    wait_for,
};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;

fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn a_launch_copies_the_effective_set_into_a_private_store_and_complete_removes_it() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "DB_PASS", "workspace-db-pass-value").await;
    create_secret(&app, &admin, Some(ws), "API_KEY", "workspace-api-key-value").await;
    create_secret(&app, &admin, Some(ws), "UNCHOSEN", "never-copied-value").await;
    create_secret(&app, &admin, None, "DB_PASS", "personal-db-pass-value").await;

    let (status, body) = launch(
        &app,
        &admin,
        ws,
        json!({
            "pipeline": "nf-core/demo",
            "runName": "demo-1",
            "workspaceSecrets": ["DB_PASS", "API_KEY"],
            "userSecrets": ["DB_PASS"],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wf = body["workflowId"].as_str().unwrap().to_string();
    assert_eq!(wf.len(), 14);
    assert!(wf.bytes().all(|b| b.is_ascii_alphanumeric()));

    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "launched").await;
    assert_eq!(run["workflow"]["status"], "SUBMITTED");
    assert_eq!(
        copy_states(&run),
        vec![("API_KEY".into(), "created".into()), ("DB_PASS".into(), "created".into())]
    );
    let sources: Vec<&str> =
        run["secretCopies"].as_array().unwrap().iter().map(|c| c["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["workspace", "user"], "the personal DB_PASS wins");
    let env = &run["launchEnvironment"];
    assert_eq!(env["TOWER_WORKFLOW_ID"], wf.as_str());
    assert_eq!(env["NXF_ENABLE_SECRETS"], "true");
    let store = std::path::PathBuf::from(env["NXF_SECRETS_FILE"].as_str().expect("an HPC store path"));
    assert!(store.starts_with(app.data_dir.path()), "the store is under the work directory");
    assert!(run["launchCommand"].as_str().unwrap().contains("-with-tower"));

    // The store is what Nextflow reads: private, in a private directory, a JSON array of {name, value}.
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(store.parent().unwrap()), 0o700);
    let entries: Vec<Value> = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    let mut pairs: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e["name"].as_str().unwrap().into(), e["value"].as_str().unwrap().into()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![
            ("API_KEY".into(), "workspace-api-key-value".into()),
            ("DB_PASS".into(), "personal-db-pass-value".into())
        ]
    );

    // lastUsed is set on exactly the values the launch copied: the workspace's DB_PASS was
    // chosen but overridden, so only API_KEY and the personal DB_PASS were used.
    let (_, listed) = app.get_json(&admin, &format!("/api/pipeline-secrets?workspaceId={ws}")).await;
    for secret in listed["pipelineSecrets"].as_array().unwrap() {
        let used = !secret["lastUsed"].is_null();
        assert_eq!(used, secret["name"] == "API_KEY", "{secret}");
    }
    let (_, mine) = app.get_json(&admin, "/api/pipeline-secrets").await;
    assert!(!mine["pipelineSecrets"][0]["lastUsed"].is_null(), "{mine}");

    // Nextflow's reports, with the launcher's token, end the run; the copies go.
    let bearer = client_with_bearer(&token(&app, &admin, "nextflow").await);
    let (status, created) = app
        .send_json(
            &bearer,
            Method::POST,
            &format!("/api/trace/create?workspaceId={ws}"),
            json!({ "workflowId": wf }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["workflowId"], wf.as_str());
    let watch = created["watchUrl"].as_str().unwrap();
    assert!(
        watch.starts_with(&app.url("/orgs/")) && watch.ends_with(&format!("/workspaces/{ws}/runs/{wf}")),
        "{watch}"
    );
    assert_eq!(
        app.get(&admin, watch.trim_start_matches(&app.url(""))).await.status(),
        StatusCode::OK,
        "the run page"
    );
    let (status, begun) = app
        .send_json(&bearer, Method::PUT, &format!("/api/trace/{wf}/begin"), json!({ "workflow": {} }))
        .await;
    assert_eq!((status, begun["status"].as_str()), (StatusCode::OK, Some("OK")));
    assert_eq!(describe(&app, &admin, ws, &wf).await["workflow"]["status"], "RUNNING");
    let (status, _) =
        app.send_json(&bearer, Method::PUT, &format!("/api/trace/{wf}/heartbeat"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    report_success(&app, &bearer, &wf).await;
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "SUCCEEDED");
    assert!(copy_states(&run).iter().all(|(_, s)| s == "deleted"), "{run:#}");
    assert!(!store.exists() && !store.parent().unwrap().exists(), "the store and its directory are gone");
}

#[tokio::test]
async fn a_stand_in_head_job_reads_the_store_as_nextflow_would_and_reports_through_the_trace_api() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "LICENCE", "licence-key-42").await;
    // The command runs as the launch account: its work directory is one that account can use.
    let work_dir = app.launch_work_dir("head-job");
    let report = work_dir.join("head-job-report.json");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/support/head_job.py");
    let command = format!("HEAD_JOB_REPORT={} python3 {}", report.display(), script.display());
    app.run_sql(&format!(
        "UPDATE compute_envs SET config = '{}' WHERE workspace_id = {ws} AND name = 'local'",
        json!({ "scheduler": "local", "workDir": work_dir.display().to_string(), "launchCommand": command })
    ))
    .await;

    let (status, body) =
        launch(&app, &admin, ws, json!({ "pipeline": "nf-core/demo", "workspaceSecrets": ["LICENCE"] }))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wf = body["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "SUCCEEDED", "{run:#}");

    let seen: Value = serde_json::from_slice(&std::fs::read(&report).expect("the head job ran")).unwrap();
    assert_eq!(seen["workflow_id"], wf.as_str());
    assert_eq!(seen["secrets_enabled"], "true");
    assert_eq!(seen["store_mode"], "0o600");
    assert_eq!(seen["dir_mode"], "0o700");
    assert_eq!(seen["digests"]["LICENCE"], sha256("licence-key-42"));
    assert_eq!(seen["store_present_at_complete"], true);
    assert!(copy_states(&run).iter().all(|(_, s)| s == "deleted"));
    // The run's own token went with the run.
    let (_, tokens) = app.get_json(&admin, "/api/tokens").await;
    assert!(!tokens.to_string().contains(&format!("run {wf}")), "{tokens}");
}

#[tokio::test]
async fn cancel_ends_the_run_and_deletes_its_copies() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "TOKEN_A", "aaaa").await;
    let env_id = local_env_id(&app, &admin, ws).await;
    let (_, body) = launch(
        &app,
        &admin,
        ws,
        json!({ "pipeline": "nf-core/demo", "computeEnvId": env_id, "workspaceSecrets": ["TOKEN_A"] }),
    )
    .await;
    let wf = body["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "launched").await;
    let store = std::path::PathBuf::from(run["launchEnvironment"]["NXF_SECRETS_FILE"].as_str().unwrap());
    assert!(store.exists());

    let (status, _) = app
        .send_json(&admin, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "CANCELLED");
    assert!(!store.exists());
    let (status, body) = app
        .send_json(&admin, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("already ended"), "{body}");
}

#[tokio::test]
async fn a_run_without_heartbeat_is_failed_and_cleaned() {
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.run_heartbeat_timeout_secs = 1;
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "TOKEN_A", "aaaa").await;
    let (_, body) =
        launch(&app, &admin, ws, json!({ "pipeline": "nf-core/demo", "workspaceSecrets": ["TOKEN_A"] }))
            .await;
    let wf = body["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "FAILED");
    assert!(run["message"].as_str().unwrap().contains("no heartbeat"), "{run:#}");
    assert!(copy_states(&run).iter().all(|(_, s)| s == "deleted"));
}

#[tokio::test]
async fn the_reconciler_deletes_leftovers_of_ended_and_unknown_runs_but_not_live_ones() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "LIVE_ONE", "live").await;
    let (_, body) =
        launch(&app, &admin, ws, json!({ "pipeline": "p", "workspaceSecrets": ["LIVE_ONE"] })).await;
    let live = body["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &live, |r| stage(r) == "launched").await;
    let live_store = std::path::PathBuf::from(run["launchEnvironment"]["NXF_SECRETS_FILE"].as_str().unwrap());

    // A store left by a run this database never knew (a crash, a restored backup).
    let runs_dir = live_store.parent().unwrap().parent().unwrap().to_path_buf();
    let orphan_dir = runs_dir.join("OrphanRun00001");
    std::fs::create_dir(&orphan_dir).unwrap();
    std::fs::set_permissions(&orphan_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let orphan = orphan_dir.join("secrets.json");
    std::fs::write(&orphan, r#"[{"name":"OLD","value":"stale"}]"#).unwrap();
    std::fs::set_permissions(&orphan, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(orphan_dir.join(".nf-1234.secrets"), "x").unwrap();

    let services = app.services().await;
    let report = server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    assert_eq!(report.deleted, 1, "{report:?}");
    assert!(!orphan_dir.exists(), "the orphaned store and Nextflow's temp file are gone");
    assert!(live_store.exists(), "a live run keeps its copies");
}
