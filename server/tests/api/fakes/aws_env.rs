//! An AWS Batch compute environment aimed at a stand-in endpoint (moto, or one of the bad
//! endpoints), made through the API as a user would: credentials first, then the environment.

use crate::helpers::TestApp;
use reqwest::{Client, Method, StatusCode};
use serde_json::json;

/// The Batch execution role of every environment made here.
pub const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/strongroom-exec";

/// AWS credentials and an AWS Batch environment at `endpoint`; returns the environment id.
pub async fn aws_env(app: &TestApp, admin: &Client, ws: i64, endpoint: &str) -> String {
    aws_env_with(app, admin, ws, endpoint, false).await
}

/// As [`aws_env`], with `customJobDefinition` set as given (processes run with a custom job
/// definition get no secrets, so a launch with secrets is refused).
pub async fn aws_env_with(
    app: &TestApp,
    admin: &Client,
    ws: i64,
    endpoint: &str,
    custom_job_definition: bool,
) -> String {
    // Any keys do for the stand-ins; the credentials API checks their shape like AWS issues them.
    let keys = json!({
        "accessKey": "AKIAIOSFODNN7EXAMPLE",
        "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    });
    let name = if custom_job_definition { "aws-custom-job-definition" } else { "aws" };
    let (status, creds) = app
        .send_json(
            admin,
            Method::POST,
            &format!("/api/credentials?workspaceId={ws}"),
            json!({ "credentials": { "name": name, "provider": "aws", "keys": keys } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{creds}");
    let config = json!({ "region": "us-east-1", "computeQueue": "q", "executionRole": EXEC_ROLE,
        "endpointUrl": endpoint, "customJobDefinition": custom_job_definition });
    let (status, env) = app
        .send_json(
            admin,
            Method::POST,
            &format!("/api/compute-envs?workspaceId={ws}"),
            json!({ "computeEnv": { "name": name, "platform": "aws-batch",
                "credentialsId": creds["credentialsId"], "config": config } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{env}");
    env["computeEnvId"].as_str().unwrap().to_string()
}
