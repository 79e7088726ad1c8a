//! The Nextflow head job Strongroom starts on AWS Batch, against moto with the real SDK: a
//! launch submits `sr-<workflowId>` to the environment's queue with the run's job definition, the
//! launch fields in its command and environment and no secret value anywhere in the job; the job's
//! failure (moto fails every job it lets run, having no container runtime) ends the run and
//! deletes its copies at once, not at the heartbeat timeout; a cancel terminates a job still
//! `SUBMITTED`; and a server killed between the submit and the first poll follows the same job
//! after a restart, never submitting a second one.

use crate::crash::start_worker_with;
use crate::fakes::aws_env::aws_env;
use crate::fakes::moto::{Moto, QUEUE};
use crate::helpers::*;
use crate::runs::{create_secret, head_job_jobs, launch, quick_jobs, stage, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET_VALUES: [(&str, &str); 2] = [("DB_PASS", "hj-db-value-4d7a"), ("API_KEY", "hj-api-value-91c2")];

async fn secret_names_in_moto(moto: &Moto) -> Vec<String> {
    let client = moto.secrets_client().await;
    let listed = client.list_secrets().include_planned_deletion(true).send().await.unwrap();
    listed.secret_list().iter().filter_map(|s| s.name().map(String::from)).collect()
}

/// A workspace with an AWS environment on moto and two secrets; its id and the environment's.
async fn lab(app: &TestApp, admin: &reqwest::Client, moto: &Moto) -> (i64, String) {
    let (_, ws) = app.org_and_workspace(admin, "lab").await;
    let env = aws_env(app, admin, ws, &moto.endpoint).await;
    for (name, value) in SECRET_VALUES {
        create_secret(app, admin, Some(ws), name, value).await;
    }
    (ws, env)
}

fn has_head_job(run: &Value) -> bool {
    run["jobInfo"]["operationId"].is_string()
}

fn environment_of(job: &aws_sdk_batch::types::JobDetail) -> Vec<(String, String)> {
    job.container()
        .map(|c| c.environment())
        .unwrap_or_default()
        .iter()
        .map(|kv| (kv.name().unwrap_or_default().to_string(), kv.value().unwrap_or_default().to_string()))
        .collect()
}

#[tokio::test]
async fn a_launch_submits_the_head_job_and_its_failure_ends_the_run_and_deletes_the_copies_at_once() {
    let moto = Moto::start().await;
    let app = spawn_app_with(|c| {
        head_job_jobs(c);
        // The run must end through its head job, long before a heartbeat timeout would end it.
        c.run_heartbeat_timeout_secs = 600;
    })
    .await;
    let admin = app.setup_admin().await;
    let (ws, env) = lab(&app, &admin, &moto).await;
    let params = "input: s3://lab/samples.csv\nouter: \"it's quoted\"\n";
    let body = json!({
        "pipeline": "nf-core/demo", "revision": "1.2", "runName": "happy_turing", "computeEnvId": env,
        "workspaceSecrets": ["DB_PASS", "API_KEY"],
        "paramsText": params,
        "configText": "process.memory = '3 GB'",
        "preRunScript": "echo before-nextflow",
        "postRunScript": "echo after-nextflow",
        "workDir": "s3://lab/work",
        "configProfiles": ["test", " docker ", "test"],
    });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, has_head_job).await;

    // The job Strongroom submitted, as AWS Batch (moto) holds it.
    let jobs = moto.jobs_named(&format!("sr-{wf}")).await;
    assert_eq!(jobs.len(), 1, "one head job");
    let job = &jobs[0];
    let job_id = job.job_id().unwrap();
    let info = &run["jobInfo"];
    assert_eq!(info["operationId"], job_id);
    assert_eq!(info["status"], "QUEUED");
    assert!(info["submit"].is_string() && info["queuedDuration"].is_number(), "{info}");
    assert_eq!(
        info["consoleUrl"],
        format!("https://us-east-1.console.aws.amazon.com/batch/home?region=us-east-1#jobs/detail/{job_id}")
    );
    let queue = job.job_queue().unwrap();
    assert!(queue.ends_with(&format!(":job-queue/{QUEUE}")), "{queue}");
    let definition = job.job_definition().unwrap();
    assert_eq!(Some(definition), run["launchEnvironment"]["AWS_BATCH_JOB_DEFINITION"].as_str());
    assert!(definition.contains(&format!(":job-definition/tower-{wf}:")), "{definition}");
    let command = job.container().unwrap().command().to_vec();
    assert_eq!(command[..2], ["bash".to_string(), "-c".to_string()]);
    let script = &command[2];
    for expected in [
        "nextflow run nf-core/demo -name happy_turing -with-tower",
        "-r 1.2 -profile test,docker -c strongroom.config -params-file params.yaml",
        "\necho before-nextflow\n",
        "\necho after-nextflow\n",
    ] {
        assert!(script.contains(expected), "{expected:?} in {script}");
    }
    let environment = environment_of(job);
    let var = |name: &str| environment.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(var("TOWER_WORKFLOW_ID"), Some(wf.as_str()));
    assert_eq!(var("SR_PARAMS_TEXT"), Some(params));
    let config = var("SR_NEXTFLOW_CONFIG").unwrap();
    for expected in [
        "process.executor = 'awsbatch'",
        "process.queue = 'q'",
        "workDir = 's3://lab/work'",
        "process.memory = '3 GB'",
    ] {
        assert!(config.contains(expected), "{expected:?} in {config}");
    }
    assert!(var("TOWER_API_ENDPOINT").is_some_and(|e| e.ends_with("/api")));
    let token = var("TOWER_ACCESS_TOKEN").expect("the run token, in the job's environment only");
    assert!(!token.is_empty() && !script.contains(token), "the token is not in the command");
    // No secret value in the queue, the job definition, the command or the environment.
    let everything = format!("{queue}\n{definition}\n{}\n{environment:?}", command.join("\n"));
    for (name, value) in SECRET_VALUES {
        assert!(!everything.contains(value), "the value of {name} reached the job");
    }

    // moto lets the job run and, with no container runtime, fails it: the run ends with that.
    let ending = Instant::now();
    moto.let_jobs_run().await;
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    let took = ending.elapsed();
    assert_eq!(run["workflow"]["status"], "FAILED", "{run:#}");
    let message = run["message"].as_str().unwrap();
    assert_eq!(
        message,
        "The head job ended (AWS Batch job FAILED without a status reason) before Nextflow reported the end \
         of the run."
    );
    assert_eq!(run["jobInfo"]["status"], "FAILED");
    assert_eq!(run["jobInfo"]["message"], "AWS Batch job FAILED without a status reason");
    assert!(
        took < Duration::from_secs(15),
        "ended by its head job in {took:?}, not by the heartbeat timeout"
    );
    assert!(run["secretCopies"].as_array().unwrap().iter().all(|c| c["state"] == "deleted"), "{run:#}");
    let left: Vec<String> =
        secret_names_in_moto(&moto).await.into_iter().filter(|n| n.contains(&wf)).collect();
    assert!(left.is_empty(), "copies left: {left:?}");
    assert_eq!(moto.jobs_named(&format!("sr-{wf}")).await.len(), 1, "submitted once");
}

#[tokio::test]
async fn cancelling_a_run_terminates_its_submitted_head_job_and_cleans_up() {
    let moto = Moto::start().await;
    let app = spawn_app_with(head_job_jobs).await;
    let admin = app.setup_admin().await;
    let (ws, env) = lab(&app, &admin, &moto).await;
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB_PASS"] });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(&app, &admin, ws, &wf, has_head_job).await;
    let job_id = run["jobInfo"]["operationId"].as_str().unwrap().to_string();
    let batch = moto.batch_client().await;
    let described = batch.describe_jobs().jobs(&job_id).send().await.unwrap();
    assert_eq!(described.jobs()[0].status().map(|s| s.as_str()), Some("SUBMITTED"));

    let (status, _) = app
        .send_json(&admin, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert_eq!(run["workflow"]["status"], "CANCELLED");
    assert_eq!(run["jobInfo"]["status"], "CANCELLED", "{run:#}");
    // TerminateJob reached AWS Batch with Strongroom's reason.
    let described = batch.describe_jobs().jobs(&job_id).send().await.unwrap();
    assert_eq!(described.jobs()[0].status_reason(), Some(server::providers::aws::TERMINATE_REASON));
    let left: Vec<String> =
        secret_names_in_moto(&moto).await.into_iter().filter(|n| n.contains(&wf)).collect();
    assert!(left.is_empty(), "copies left: {left:?}");
    let definitions = batch
        .describe_job_definitions()
        .job_definition_name(format!("tower-{wf}"))
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    assert!(definitions.job_definitions().is_empty(), "the job definition is deregistered");
}

/// Runs SQL on the test's database (the state a crash leaves, where a test must set it up).
async fn execute(app: &TestApp, sql: &str, wf: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).bind(wf).execute(&pool).await.unwrap();
    pool.close().await;
}

/// The head job id the database holds for the run.
async fn recorded_job_id(app: &TestApp, wf: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let id: Option<String> = sqlx::query_scalar("SELECT head_job_id FROM runs WHERE id = $1")
        .bind(wf)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    id
}

/// The job-running server for the crash test: polls head jobs every 2 s, so a kill right after
/// the submit lands before the first poll.
fn start_worker(app: &TestApp) -> tokio::process::Child {
    start_worker_with(app, &[("STRONGROOM_HEAD_JOB_POLL_MS", "2000".to_string())])
}

#[tokio::test]
async fn a_server_killed_between_submit_and_first_poll_follows_the_same_job_after_a_restart() {
    let moto = Moto::start().await;
    // Launches and Nextflow's reports go to this web-only server; the jobs run in a separate
    // `strongroom` process, killed with SIGKILL.
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.workers = 0;
    })
    .await;
    let admin = app.setup_admin().await;
    let (ws, env) = lab(&app, &admin, &moto).await;
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB_PASS"] });

    // Twice: a crash after the job id was recorded, and (set up by hand) one before it was: the
    // row then holds a submit that is due again and no job id.
    for forget_the_id in [false, true] {
        let (status, launched) = launch(&app, &admin, ws, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{launched}");
        let wf = launched["workflowId"].as_str().unwrap().to_string();
        let name = format!("sr-{wf}");
        let mut worker = start_worker(&app);
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.jobs_named(&name).await.is_empty() {
            assert!(Instant::now() < deadline, "the head job was never submitted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worker.kill().await.expect("SIGKILL");
        let submitted = moto.jobs_named(&name).await;
        assert_eq!(submitted.len(), 1);
        let job_id = submitted[0].job_id().unwrap().to_string();
        // A kill that landed between AWS's answer and the database leaves no job id and the
        // submit leased for a minute: the lease is cut short here, as its end would.
        let recorded = recorded_job_id(&app, &wf).await;
        if forget_the_id || recorded.is_none() {
            execute(
                &app,
                "UPDATE runs SET head_job_id = NULL, head_job_state = NULL, head_job_submitted_at = NULL, \
                 head_job_poll_at = 0 WHERE id = $1",
                &wf,
            )
            .await;
        }

        let _worker = start_worker(&app);
        let run = wait_for(&app, &admin, ws, &wf, has_head_job).await;
        assert_eq!(run["jobInfo"]["operationId"], job_id.as_str(), "the same job is followed");
        moto.let_jobs_run().await;
        let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
        assert_eq!(run["workflow"]["status"], "FAILED", "{run:#}");
        assert_eq!(run["jobInfo"]["status"], "FAILED", "{run:#}");
        assert_eq!(moto.jobs_named(&name).await.len(), 1, "never submitted twice");
        moto.hold_jobs().await;
    }
}

/// The launch-to-submit time of a run with 100 secrets against moto: from sending the launch
/// request (its preflight included) to the run showing its submitted head job. Prints the
/// figure; run with `cargo test -p server --test api -- --ignored launch_to_submit --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a check: run it by name"]
async fn launch_to_submit_time_with_100_secrets() {
    let moto = Moto::start().await;
    let app = spawn_app_with(head_job_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = aws_env(&app, &admin, ws, &moto.endpoint).await;
    let names: Vec<String> = (0..100).map(|i| format!("SECRET_{i:03}")).collect();
    for name in &names {
        create_secret(&app, &admin, Some(ws), name, &format!("value-{name}")).await;
    }
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": names });
    let started = Instant::now();
    let (status, launched) = launch(&app, &admin, ws, body).await;
    let answered = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let run = crate::runs::describe(&app, &admin, ws, &wf).await;
        if has_head_job(&run) {
            break run;
        }
        assert!(Instant::now() < deadline, "no head job after 120 s: {run:#}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let submitted = started.elapsed();
    assert_eq!(run["secretCopies"].as_array().unwrap().len(), 100);
    assert_eq!(moto.jobs_named(&format!("sr-{wf}")).await.len(), 1);
    eprintln!(
        "launch-to-submit with 100 secrets (moto): {} ms (the launch request answered in {} ms)",
        submitted.as_millis(),
        answered.as_millis()
    );
}
