//! Runs on AWS Batch end to end, against moto with the real SDK: while a run is live its copies
//! exist under Nextflow's names with this install's tags and the right values, the job
//! definition lists their ARNs; after completion, cancellation and the head job's end they are
//! gone for good (force-deleted, not scheduled) and the job definition is deregistered. moto
//! checks no IAM, so these tests prove the calls and names, not the permissions.

use crate::fakes::aws_env::{aws_env, aws_env_with, EXEC_ROLE};
use crate::fakes::moto::Moto;
use crate::helpers::*;
use crate::runs::{create_secret, head_job_jobs, launch, quick_jobs, report_success, stage, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn secret_names_in_moto(moto: &Moto) -> Vec<String> {
    let client = moto.secrets_client().await;
    let listed = client.list_secrets().include_planned_deletion(true).send().await.unwrap();
    let mut names: Vec<String> =
        listed.secret_list().iter().filter_map(|s| s.name().map(String::from)).collect();
    names.sort();
    names
}

#[tokio::test]
async fn aws_copies_live_with_the_run_and_go_after_complete_cancel_and_timeout() {
    let moto = Moto::start().await;
    let app = spawn_app_with(|c| {
        head_job_jobs(c);
        c.run_heartbeat_timeout_secs = 3;
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = aws_env(&app, &admin, ws, &moto.endpoint).await;
    create_secret(&app, &admin, Some(ws), "DB_PASS", "aws-workspace-db").await;
    create_secret(&app, &admin, None, "DB_PASS", "aws-personal-db").await;
    create_secret(&app, &admin, Some(ws), "API_KEY", "aws-api-key").await;
    let (_, token) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "nf" })).await;
    let bearer = client_with_bearer(token["accessKey"].as_str().unwrap());

    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env,
        "workspaceSecrets": ["DB_PASS", "API_KEY"], "userSecrets": ["DB_PASS"] });
    let (status, launched) = launch(&app, &admin, ws, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "launched").await;

    // Live: the copies, their tags and values, and the job definition that points at them.
    let sm = moto.secrets_client().await;
    let mut arns = Vec::new();
    for (name, value) in [("API_KEY", "aws-api-key"), ("DB_PASS", "aws-personal-db")] {
        let copy = format!("tower-{wf}/{name}");
        let got = sm.get_secret_value().secret_id(&copy).send().await.unwrap();
        assert_eq!(got.secret_string(), Some(value), "{copy}");
        let described = sm.describe_secret().secret_id(&copy).send().await.unwrap();
        let tags: Vec<(String, String)> = described
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
            .collect();
        assert!(tags.contains(&("workflow-id".into(), wf.clone())), "{tags:?}");
        assert!(tags.iter().any(|(k, v)| k == "managed-by" && v.starts_with("strongroom-")), "{tags:?}");
        arns.push((name.to_string(), described.arn().unwrap().to_string()));
    }
    let job_definition =
        run["launchEnvironment"]["AWS_BATCH_JOB_DEFINITION"].as_str().expect("a job definition").to_string();
    let batch = moto.batch_client().await;
    let defs = batch.describe_job_definitions().job_definitions(&job_definition).send().await.unwrap();
    let container = defs.job_definitions()[0].container_properties().unwrap();
    let mut listed: Vec<(String, String)> = container
        .secrets()
        .iter()
        .map(|s| (s.name().unwrap_or_default().to_string(), s.value_from().unwrap_or_default().to_string()))
        .collect();
    listed.sort();
    assert_eq!(listed, arns, "the job definition lists {{name, valueFrom: ARN}} for each copy");
    assert_eq!(container.execution_role_arn(), Some(EXEC_ROLE));

    // Completion: copies force-deleted, job definition deregistered. The copies go at once; the
    // head job (held in SUBMITTED by moto) is given time to exit after Nextflow's report, so moto
    // lets it end (it fails it, having no container runtime) before the last cleanup step.
    report_success(&app, &bearer, &wf).await;
    wait_for(&app, &admin, ws, &wf, |r| {
        r["secretCopies"].as_array().unwrap().iter().all(|c| c["state"] == "deleted")
    })
    .await;
    moto.let_jobs_run().await;
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "SUCCEEDED", "Nextflow's report came first: {run:#}");
    moto.hold_jobs().await;
    assert!(
        secret_names_in_moto(&moto).await.iter().all(|n| !n.contains(&wf)),
        "no copy, not even scheduled for deletion"
    );
    let defs = batch
        .describe_job_definitions()
        .job_definition_name(format!("tower-{wf}"))
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    assert!(defs.job_definitions().is_empty(), "the job definition is deregistered");

    // Cancellation and the head job's end end runs the same way.
    let (_, second) = launch(&app, &admin, ws, body.clone()).await;
    let cancelled = second["workflowId"].as_str().unwrap().to_string();
    wait_for(&app, &admin, ws, &cancelled, |r| stage(r) == "launched").await;
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            &format!("/api/workflow/{cancelled}/cancel?workspaceId={ws}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, third) = launch(&app, &admin, ws, body).await;
    let silent = third["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &cancelled, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "CANCELLED");
    // A run whose head job is still queued is not ended by the heartbeat timeout (3 s here):
    // Nextflow cannot report before its job starts. Its job's end ends it.
    wait_for(&app, &admin, ws, &silent, |r| r["jobInfo"]["status"] == "QUEUED").await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let run = crate::runs::describe(&app, &admin, ws, &silent).await;
    assert_eq!(stage(&run), "launched", "{run:#}");
    moto.let_jobs_run().await;
    let run = wait_for(&app, &admin, ws, &silent, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "FAILED");
    assert!(run["message"].as_str().unwrap().contains("AWS Batch job FAILED"), "{run:#}");
    let left: Vec<String> =
        secret_names_in_moto(&moto).await.into_iter().filter(|n| n.starts_with("tower-")).collect();
    assert!(left.is_empty(), "copies left: {left:?}");
}

#[tokio::test]
async fn a_custom_job_definition_environment_refuses_a_launch_with_secrets_and_says_why() {
    let moto = Moto::start().await;
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = aws_env_with(&app, &admin, ws, &moto.endpoint, true).await;
    create_secret(&app, &admin, Some(ws), "DB_PASS", "x").await;
    let (status, body) = launch(
        &app,
        &admin,
        ws,
        json!({ "pipeline": "p", "computeEnvId": env, "workspaceSecrets": ["DB_PASS"] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("custom job definition"), "{body}");
    assert!(secret_names_in_moto(&moto).await.iter().all(|n| !n.starts_with("tower-")), "nothing was copied");
    let (status, body) = launch(&app, &admin, ws, json!({ "pipeline": "p", "computeEnvId": env })).await;
    assert_eq!(status, StatusCode::OK, "without secrets the launch goes ahead: {body}");
}
