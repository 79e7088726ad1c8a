//! The Nextflow head job Strongroom starts on Google Batch, against the in-repo fake of the Batch
//! API v1 (beside the Secret Manager fake, on the same endpoint): a launch creates one job with
//! the head image, the `nextflow run … -with-tower` command, the launch fields and the copies'
//! resource names (no secret value anywhere in the job); a state the test scripts (`FAILED`)
//! ends the run with Google's words and deletes its copies at once; a cancel deletes the job.

use crate::fakes::gsm::FakeGsm;
use crate::faults::google_env;
use crate::helpers::*;
use crate::runs::{create_secret, head_job_jobs, launch, stage, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET_VALUES: [(&str, &str); 2] =
    [("DB_PASS", "gcp-db-value-5e1b"), ("API_KEY", "gcp-api-value-03fa")];

async fn lab(app: &TestApp, fake: &FakeGsm) -> (reqwest::Client, i64, i64) {
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = google_env(app, ws, fake).await;
    for (name, value) in SECRET_VALUES {
        create_secret(app, &admin, Some(ws), name, value).await;
    }
    (admin, ws, env)
}

fn has_head_job(run: &Value) -> bool {
    run["jobInfo"]["operationId"].is_string()
}

#[tokio::test]
async fn a_launch_creates_the_google_batch_head_job_and_its_failure_ends_and_cleans_the_run() {
    let fake = FakeGsm::start().await;
    let app = spawn_app_with(|c| {
        head_job_jobs(c);
        c.run_heartbeat_timeout_secs = 600;
    })
    .await;
    let (admin, ws, env) = lab(&app, &fake).await;
    let body = json!({
        "pipeline": "nf-core/demo", "runName": "brave_hopper", "computeEnvId": env.to_string(),
        "workspaceSecrets": ["DB_PASS", "API_KEY"],
        "paramsText": "{\"input\": \"gs://lab/samples.csv\"}",
        "workDir": "gs://lab/work",
    });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, has_head_job).await;

    let jobs = fake.jobs();
    assert_eq!(jobs.len(), 1, "one head job");
    let (id, job) = jobs.into_iter().next().unwrap();
    assert_eq!(id, server::providers::gcp::head_job_id(&app.services().await.install_id, &wf));
    assert_eq!(
        run["jobInfo"]["operationId"],
        job.name.replace(crate::fakes::gsm::PROJECT_NUMBER, "proj-faults")
    );
    assert_eq!(run["jobInfo"]["status"], "QUEUED");
    assert_eq!(
        run["jobInfo"]["consoleUrl"],
        format!(
            "https://console.cloud.google.com/batch/jobsDetail/regions/europe-west1/jobs/{id}/details\
             ?project=proj-faults"
        )
    );
    assert_eq!(job.body["labels"]["workflow-id"], wf.to_lowercase());
    let spec = &job.body["taskGroups"][0]["taskSpec"];
    let container = &spec["runnables"][0]["container"];
    assert_eq!(container["imageUri"], "public.ecr.aws/seqera-labs/nextflow:latest");
    assert_eq!(container["entrypoint"], "bash");
    let script = container["commands"][1].as_str().unwrap();
    assert!(script.contains("nextflow run nf-core/demo -name brave_hopper -with-tower"), "{script}");
    assert_eq!(spec["computeResource"], json!({ "cpuMilli": "2000", "memoryMib": "4096" }));
    let variables = &spec["environment"]["variables"];
    assert_eq!(variables["TOWER_WORKFLOW_ID"], wf);
    assert!(variables["TOWER_ACCESS_TOKEN"].as_str().is_some_and(|t| !t.is_empty() && !script.contains(t)));
    let config = variables["SR_NEXTFLOW_CONFIG"].as_str().unwrap();
    for expected in
        ["process.executor = 'google-batch'", "google.location = 'europe-west1'", "workDir = 'gs://lab/work'"]
    {
        assert!(config.contains(expected), "{expected:?} in {config}");
    }
    let secrets = variables["STRONGROOM_GOOGLE_SECRETS"].as_str().unwrap();
    assert!(
        secrets.contains(&format!("DB_PASS=projects/proj-faults/secrets/tower-{wf}-DB_PASS/versions/latest")),
        "{secrets}"
    );
    let everything = job.body.to_string();
    for (name, value) in SECRET_VALUES {
        assert!(!everything.contains(value), "the value of {name} reached the job");
    }

    let ending = Instant::now();
    fake.set_job_state(&id, "FAILED", "Task state is updated from RUNNING to FAILED with exit code 3");
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert!(ending.elapsed() < Duration::from_secs(15));
    assert_eq!(run["workflow"]["status"], "FAILED");
    assert_eq!(
        run["message"],
        "The head job ended (Google Batch job FAILED: Task state is updated from RUNNING to FAILED with exit \
         code 3) before Nextflow reported the end of the run."
    );
    assert_eq!(run["jobInfo"]["status"], "FAILED");
    let left: Vec<String> = fake.secrets().keys().filter(|s| s.contains(&wf)).cloned().collect();
    assert!(left.is_empty(), "copies left: {left:?}");
}

#[tokio::test]
async fn cancelling_a_google_run_deletes_its_queued_head_job_and_cleans_up() {
    let fake = FakeGsm::start().await;
    let app = spawn_app_with(head_job_jobs).await;
    let (admin, ws, env) = lab(&app, &fake).await;
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env.to_string(), "workspaceSecrets": ["DB_PASS"] });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    wait_for(&app, &admin, ws, &wf, has_head_job).await;
    let (status, _) = app
        .send_json(&admin, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "CANCELLED");
    assert_eq!(run["jobInfo"]["status"], "CANCELLED", "{run:#}");
    assert!(fake.jobs().is_empty(), "the job is deleted");
    let deleted = fake.deleted_jobs();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].body["labels"]["workflow-id"], wf.to_lowercase());
    let left: Vec<String> = fake.secrets().keys().filter(|s| s.contains(&wf)).cloned().collect();
    assert!(left.is_empty(), "copies left: {left:?}");
}
