//! The leak scan's cloud part (issue 15: "launch to each target"): canary values launched to AWS
//! (Secrets Manager and a Batch head job, on moto with the real SDK) and to Google (Secret Manager
//! and a Batch head job, on the in-repo fakes). A provider copy while its run is live is the one
//! place a value may be, and the test reads it there (so the scan below is known to look at runs
//! that really copied). Everywhere else is searched for every canary in every encoding: the head
//! job as the cloud holds it (command, environment, job definition, queue), every answer the
//! server gave, the log capture, the database, and the provider once the run is cleaned.

use super::database_bytes;
use super::forms::{canary, contains, forms};
use crate::fakes::aws_env::aws_env;
use crate::fakes::gsm::FakeGsm;
use crate::fakes::moto::Moto;
use crate::faults::google_env;
use crate::helpers::*;
use crate::runs::{head_job_jobs, stage};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// How many secrets each launch carries.
const SECRETS: usize = 8;

/// What the server answered, and the values it was sent.
struct Scan<'a> {
    app: &'a TestApp,
    canaries: Vec<String>,
    answers: Vec<(String, Vec<u8>)>,
}

impl Scan<'_> {
    async fn call(&mut self, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let request = who.request(method.clone(), self.app.url(path));
        let request = if body.is_null() { request } else { request.json(&body) };
        let response = send(request).await;
        let status = response.status();
        let mut kept = format!("{status} {:?}\n", response.headers()).into_bytes();
        let bytes = response.bytes().await.unwrap();
        kept.extend_from_slice(&bytes);
        self.answers.push((format!("{method} {path}"), kept));
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Workspace secrets named `S0…` with canary values; their names.
    async fn secrets(&mut self, admin: &Client, ws: i64) -> Vec<String> {
        let mut names = Vec::new();
        for i in 0..SECRETS {
            let value = canary(i % 2 == 0);
            let name = format!("S{i}");
            let path = format!("/api/pipeline-secrets?workspaceId={ws}");
            let (status, body) =
                self.call(admin, Method::POST, &path, json!({"name": name, "value": value})).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            self.canaries.push(value);
            names.push(name);
        }
        names
    }

    /// Launches `names` to `env` and follows the run until `done`, recording every answer.
    async fn launch(&mut self, who: &Client, ws: i64, env: &str, names: &[String]) -> String {
        let body = json!({"launch": {"pipeline": "nf-core/canaries", "computeEnvId": env,
            "workspaceSecrets": names}});
        let (status, run) =
            self.call(who, Method::POST, &format!("/api/workflow/launch?workspaceId={ws}"), body).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        run["workflowId"].as_str().unwrap().to_string()
    }

    async fn wait(&mut self, who: &Client, ws: i64, wf: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let path = format!("/api/workflow/{wf}?workspaceId={ws}");
            let (status, run) = self.call(who, Method::GET, &path, Value::Null).await;
            assert_eq!(status, StatusCode::OK, "{run}");
            if done(&run) {
                return run;
            }
            assert!(std::time::Instant::now() < deadline, "the run did not get there: {run:#}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Every page a participant would open about the run, while it is live and once it ended.
    async fn pages(&mut self, who: &Client, org: i64, ws: i64, wf: &str) {
        for path in [
            format!("/orgs/{org}/workspaces/{ws}/runs/{wf}"),
            format!("/orgs/{org}/workspaces/{ws}/runs"),
            format!("/orgs/{org}/workspaces/{ws}/secrets"),
        ] {
            let (status, _) = self.call(who, Method::GET, &path, Value::Null).await;
            assert_eq!(status, StatusCode::OK, "GET {path}");
        }
    }

    /// Fails listing every place (other than the live copies) where a canary was found.
    async fn assert_nowhere(&self, cloud: Vec<(String, Vec<u8>)>) {
        let mut places = cloud;
        places.extend(self.answers.iter().cloned());
        places.push(("the log capture".into(), captured_logs().into_bytes()));
        places.extend(database_bytes(self.app).await);
        let mut leaks = Vec::new();
        for canary in &self.canaries {
            for (place, bytes) in &places {
                for (encoding, form) in forms(canary) {
                    if contains(bytes, &form) {
                        leaks.push(format!("{place} ({encoding})"));
                    }
                }
            }
        }
        leaks.sort();
        leaks.dedup();
        assert!(leaks.is_empty(), "canaries found in: {leaks:#?}");
    }
}

fn is_launched(run: &Value) -> bool {
    run["jobInfo"]["operationId"].is_string()
        && run["secretCopies"].as_array().is_some_and(|c| c.iter().all(|c| c["state"] == "created"))
}

#[tokio::test]
async fn aws_launch_values_reach_only_the_live_copies() {
    let moto = Moto::start().await;
    let app = spawn_app_with(head_job_jobs).await;
    let admin = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&admin, "aws-canaries").await;
    let env = aws_env(&app, &admin, ws, &moto.endpoint).await;
    let mut scan = Scan { app: &app, canaries: Vec::new(), answers: Vec::new() };
    let names = scan.secrets(&admin, ws).await;
    let wf = scan.launch(&admin, ws, &env, &names).await;
    scan.wait(&admin, ws, &wf, is_launched).await;
    scan.pages(&admin, org, ws, &wf).await;

    // The live copies hold the values: the one allowed place, read to prove the run really copied.
    let secrets = moto.secrets_client().await;
    let mut copied = 0;
    let listed = secrets.list_secrets().send().await.unwrap();
    for secret in listed.secret_list().iter().filter(|s| s.name().is_some_and(|n| n.contains(&wf))) {
        let value = secrets.get_secret_value().secret_id(secret.arn().unwrap()).send().await.unwrap();
        assert!(scan.canaries.iter().any(|c| Some(c.as_str()) == value.secret_string()), "a canary copy");
        copied += 1;
    }
    assert_eq!(copied, SECRETS, "every secret was copied to AWS");

    // The head job as AWS Batch holds it: its command, environment, definition and queue.
    let jobs = moto.jobs_named(&format!("sr-{wf}")).await;
    assert_eq!(jobs.len(), 1, "one head job");
    let definitions = moto.batch_client().await.describe_job_definitions().send().await.unwrap();
    let job = format!("{:?}", jobs[0]);
    // The capture is the job's real content (its environment names the run), so a value in it
    // would be found.
    assert!(job.contains("TOWER_WORKFLOW_ID") && job.contains(&wf), "{job}");
    let mut cloud = vec![
        ("the AWS Batch head job".to_string(), job.into_bytes()),
        ("the AWS Batch job definitions".to_string(), format!("{definitions:?}").into_bytes()),
    ];

    // moto fails the job it lets run: the run ends and every copy is deleted.
    moto.let_jobs_run().await;
    let run = scan.wait(&admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert!(run["secretCopies"].as_array().unwrap().iter().all(|c| c["state"] == "deleted"), "{run:#}");
    scan.pages(&admin, org, ws, &wf).await;
    let left = secrets.list_secrets().include_planned_deletion(true).send().await.unwrap();
    let left: Vec<_> =
        left.secret_list().iter().filter(|s| s.name().is_some_and(|n| n.contains(&wf))).collect();
    assert!(left.is_empty(), "copies left in AWS: {left:?}");
    cloud.push(("AWS Secrets Manager after the run".into(), format!("{left:?}").into_bytes()));
    scan.assert_nowhere(cloud).await;
}

#[tokio::test]
async fn google_launch_values_reach_only_the_live_copies() {
    let fake = FakeGsm::start().await;
    let app = spawn_app_with(head_job_jobs).await;
    let admin = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&admin, "gcp-canaries").await;
    let env = google_env(&app, ws, &fake).await.to_string();
    let mut scan = Scan { app: &app, canaries: Vec::new(), answers: Vec::new() };
    let names = scan.secrets(&admin, ws).await;
    let wf = scan.launch(&admin, ws, &env, &names).await;
    scan.wait(&admin, ws, &wf, is_launched).await;
    scan.pages(&admin, org, ws, &wf).await;

    let live: Vec<_> = fake.secrets().into_values().filter(|s| s.id.contains(&wf)).collect();
    assert_eq!(live.len(), SECRETS, "every secret was copied to Google");
    for secret in &live {
        let data = &secret.versions.last().expect("a version holds the copy").data;
        assert!(scan.canaries.iter().any(|c| c.as_bytes() == data.as_slice()), "a canary copy");
    }
    let jobs = fake.jobs();
    assert_eq!(jobs.len(), 1, "one head job");
    let (id, job) = jobs.into_iter().next().unwrap();
    let job = job.body.to_string();
    assert!(job.contains("TOWER_WORKFLOW_ID") && job.contains(&wf), "{job}");
    let mut cloud = vec![("the Google Batch head job".to_string(), job.into_bytes())];

    fake.set_job_state(&id, "FAILED", "Task state is updated from RUNNING to FAILED with exit code 3");
    let run = scan.wait(&admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert!(run["secretCopies"].as_array().unwrap().iter().all(|c| c["state"] == "deleted"), "{run:#}");
    scan.pages(&admin, org, ws, &wf).await;
    let left = fake.secrets();
    assert!(left.keys().all(|id| !id.contains(&wf)), "copies left in Google: {:?}", left.keys());
    cloud.push(("Google Secret Manager after the run".into(), format!("{left:?}").into_bytes()));
    cloud.push(("the Google calls".into(), fake.calls().join("\n").into_bytes()));
    scan.assert_nowhere(cloud).await;
}
