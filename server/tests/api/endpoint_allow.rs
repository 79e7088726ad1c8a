//! Issue 10, item 4: `endpointUrl` must not send the server's requests anywhere. Listed
//! endpoints (the suite lists its emulators in `helpers::EMULATOR_ALLOW`) are open to workspace
//! admins; anything else needs an instance administrator and a public address; an endpoint's own
//! words never reach an answer, a run or the logs.

use crate::fakes::aws_env::aws_env;
use crate::fakes::bad_endpoints::{answering_server, host_port};
use crate::fakes::moto::{warm_moto, Moto};
use crate::helpers::*;
use crate::hostile_endpoints::{quick_services, re_aim};
use crate::runs::{create_secret, describe, launch, quick_jobs, stage};
use app::model::{ComputeConfig, Platform};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use server::crypto::SecretBytes;
use server::providers::{self, CopySpec, Target};

const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/strongroom-exec";
const MARKER: &str = "INTERNAL-ANSWER-7f3a";

async fn create_env(
    app: &TestApp,
    who: &Client,
    ws: i64,
    platform: &str,
    config: Value,
) -> (StatusCode, Value) {
    app.create_compute_env(who, ws, &format!("env-{}", uuid::Uuid::new_v4().simple()), platform, config).await
}

fn aws_config(endpoint: &str) -> Value {
    json!({ "region": "us-east-1", "computeQueue": "q", "executionRole": EXEC_ROLE, "endpointUrl": endpoint })
}

fn assert_refused(status: StatusCode, body: &Value, why: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {body}");
    let text = body.to_string();
    assert!(text.contains("STRONGROOM_ENDPOINT_ALLOW"), "{why}: the message names the setting: {text}");
}

#[tokio::test]
async fn inward_and_unlisted_endpoints_are_refused_with_a_message_naming_the_setting() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let owner = app.user(&admin, "owner@example.com").await;
    let (_, ws) = app.org_and_workspace(&owner, "lab").await;
    // The environments below have no credentials of their own (the host's identity).
    crate::credentials_security::allow_host_identity(&app, &admin, ws).await;
    let unlisted = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    // A workspace admin: only listed endpoints.
    for endpoint in
        [format!("http://127.0.0.1:{unlisted}"), "http://169.254.169.254/".into(), "https://8.8.8.8/".into()]
    {
        let (status, body) = create_env(&app, &owner, ws, "aws-batch", aws_config(&endpoint)).await;
        assert_refused(status, &body, &endpoint);
        assert!(body.to_string().contains("instance administrator"), "{body}");
    }
    let (status, body) = create_env(&app, &owner, ws, "aws-batch", aws_config("http://127.0.0.2:4599")).await;
    assert_eq!(status, StatusCode::OK, "a listed endpoint is open to workspace admins: {body}");
    let env = body["computeEnvId"].as_str().unwrap().to_string();
    let path = format!("/api/compute-envs/{env}?workspaceId={ws}");
    let change = json!({ "config": aws_config("http://169.254.169.254/latest/meta-data/") });
    let (status, body) = app.send_json(&owner, Method::PUT, &path, change).await;
    assert_refused(status, &body, "changing to the metadata service");

    // An instance administrator: public addresses, but nothing inward unless listed.
    let (_, admin_ws) = app.org_and_workspace(&admin, "ops").await;
    crate::credentials_security::allow_host_identity(&app, &admin, admin_ws).await;
    for (endpoint, kind) in [
        ("http://169.254.169.254/".to_string(), "link-local"),
        (format!("http://127.0.0.1:{unlisted}"), "loopback"),
        ("http://[::1]:4566/".to_string(), "loopback"),
        ("http://10.1.2.3/".to_string(), "private"),
        ("http://100.64.0.1/".to_string(), "carrier-grade NAT"),
        ("http://0.0.0.0:4566/".to_string(), "unspecified"),
    ] {
        let (status, body) = create_env(&app, &admin, admin_ws, "aws-batch", aws_config(&endpoint)).await;
        assert_refused(status, &body, &endpoint);
        assert!(body.to_string().contains(kind), "{endpoint}: {body}");
    }
    let (status, body) =
        create_env(&app, &admin, admin_ws, "aws-batch", aws_config("https://8.8.8.8/")).await;
    assert_eq!(status, StatusCode::OK, "an instance administrator may choose a public endpoint: {body}");

    // A Google environment's token goes to Google's hosts or a listed endpoint only.
    let key = json!({ "type": "service_account", "project_id": "genomics-prod",
        "client_email": "p@genomics-prod.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n" });
    let body = json!({
        "credentials": { "name": "gcp", "provider": "google", "keys": { "data": key.to_string() } }
    });
    let (status, creds) =
        app.send_json(&admin, Method::POST, &format!("/api/credentials?workspaceId={admin_ws}"), body).await;
    assert_eq!(status, StatusCode::OK, "{creds}");
    let body = json!({ "computeEnv": {
        "name": "gcp",
        "platform": "google-batch",
        "credentialsId": creds["credentialsId"],
        "config": {
            "projectId": "genomics-prod",
            "location": "europe-west2",
            "endpointUrl": "https://8.8.8.8/"
        },
    } });
    let (status, body) =
        app.send_json(&admin, Method::POST, &format!("/api/compute-envs?workspaceId={admin_ws}"), body).await;
    assert_refused(status, &body, "a Google token to a host that is not Google's");

    // Stored before the rules (or changed in the database): refused again when the store opens.
    app.run_sql(&format!(
        "UPDATE compute_envs SET config = REPLACE(config, 'http://127.0.0.2:4599', 'http://169.254.169.254') \
         WHERE id = {env}"
    ))
    .await;
    let (status, body) = app
        .send_json(
            &owner,
            Method::POST,
            &format!("/api/compute-envs/{env}/validate?workspaceId={ws}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["status"], "AVAILABLE", "{body}");
    assert!(body.to_string().contains("STRONGROOM_ENDPOINT_ALLOW"), "{body}");
}

/// An endpoint that answers every request with an error whose body and headers carry `MARKER`.
async fn marker_server() -> String {
    let body = r#"{"__type":"ValidationException","message":"INTERNAL-ANSWER-7f3a from http://10.0.0.1/admin",
        "Message":"INTERNAL-ANSWER-7f3a","error":{"code":400,"status":"INVALID_ARGUMENT",
        "message":"INTERNAL-ANSWER-7f3a"}}"#;
    let headers =
        vec![("x-amzn-errortype", format!("{MARKER}:internal")), ("x-internal", MARKER.to_string())];
    answering_server(400, headers, body).await
}

#[tokio::test]
async fn an_endpoints_error_text_is_classified_never_echoed() {
    let marker = marker_server().await;

    // The providers themselves: AWS and Google alike say what kind of failure, in their own words.
    let aws = ComputeConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(marker.clone()),
        execution_role_arn: Some(EXEC_ROLE.into()),
        job_queue: Some("q".into()),
        ..Default::default()
    };
    let google = ComputeConfig {
        project: Some("proj-marker".into()),
        location: Some("europe-west1".into()),
        endpoint_url: Some(marker.clone()),
        ..Default::default()
    };
    let keys = SecretBytes::from(Moto::keys_json().as_bytes().to_vec());
    for (platform, config, credentials) in
        [(Platform::AwsBatch, &aws, Some(&keys)), (Platform::GoogleBatch, &google, None)]
    {
        let store = providers::open(Target {
            platform,
            config,
            credentials,
            install_id: "install-m",
            host_identity: providers::HostIdentity::Refused,
            managed_identity: None,
        })
        .await
        .unwrap();
        let copy = CopySpec { workflow_id: "1k0K4WlGep8ZTM", name: "DB" };
        let errors = [
            store.list_managed().await.unwrap_err().to_string(),
            store.create_copy(copy, &SecretBytes::from(b"v".to_vec())).await.unwrap_err().to_string(),
            store.preflight().await.unwrap_err().message,
        ];
        for error in errors {
            assert!(!error.contains(MARKER) && !error.contains("10.0.0.1"), "{platform}: {error}");
            assert!(error.contains("rejected"), "{platform}: the kind of failure is kept: {error}");
        }
    }

    // Through the application: the launch's answer and a run's error.
    let moto = warm_moto().await;
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.workers = 0;
        c.endpoint_allow.push(host_port(&marker));
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "DB", "value").await;
    let at_marker = aws_env(&app, &admin, ws, &marker).await;
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": at_marker, "workspaceSecrets": ["DB"] });
    let (status, refused) = launch(&app, &admin, ws, body).await;
    assert_ne!(status, StatusCode::OK, "{refused}");
    assert!(!refused.to_string().contains(MARKER), "{refused}");
    let path = format!("/api/compute-envs/{at_marker}/validate?workspaceId={ws}");
    let (_, checked) = app.send_json(&admin, Method::POST, &path, json!({})).await;
    assert!(!checked.to_string().contains(MARKER), "{checked}");
    assert!(checked.to_string().contains("rejected"), "{checked}");

    // A run launched on a healthy target whose endpoint then changes to the marker server.
    let (_, other) = app.org_and_workspace(&admin, "other").await;
    create_secret(&app, &admin, Some(other), "DB", "value").await;
    let env = aws_env(&app, &admin, other, &moto.endpoint).await;
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB"] });
    let (status, launched) = launch(&app, &admin, other, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = launched["workflowId"].as_str().unwrap().to_string();
    re_aim(&app, other, &moto.endpoint, &marker).await;
    let services = quick_services(&app, &[host_port(&marker)]).await;
    let now = server::domain::now_ms;
    while server::jobs::copies::step(&services, now()).await.unwrap()
        || server::jobs::run_steps::step(&services, now()).await.unwrap()
    {}
    let run = describe(&app, &admin, other, &wf).await;
    assert_eq!(run["workflow"]["status"], "FAILED", "{run:#}");
    assert_ne!(stage(&run), "launched");
    assert!(run.to_string().contains("rejected"), "{run:#}");
    assert!(!run.to_string().contains(MARKER), "{run:#}");
    assert!(!captured_logs().contains(MARKER), "no log line repeats the endpoint's words");
}
