//! Issue 10, items 5 and 7, against the real app and moto: `host_identity` proves item 5 (the
//! host's own cloud identity), `kept_versions` item 7 (credentials a run still needs). This module
//! holds their shared calls: credentials, environments and runs through the API, and moto's view
//! of the copies.

mod host_identity;
mod kept_versions;

use crate::fakes::moto::Moto;
use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/strongroom-exec";
const KEYS: (&str, &str) = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

async fn call(app: &TestApp, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    if body.is_null() {
        let response = who.request(method, app.url(path)).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    } else {
        app.send_json(who, method, path, body).await
    }
}

/// An instance administrator lets the workspace use the host identity (for tests of other
/// things that use role-only credentials or environments without credentials).
pub(crate) async fn allow_host_identity(app: &TestApp, instance_admin: &Client, ws: i64) {
    let (status, body) = set_host_identity(app, instance_admin, ws, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn set_host_identity(app: &TestApp, who: &Client, ws: i64, allowed: bool) -> (StatusCode, Value) {
    call(app, who, Method::PUT, &format!("/api/workspaces/{ws}/host-identity"), json!({ "allowed": allowed }))
        .await
}

async fn add_credentials(
    app: &TestApp,
    who: &Client,
    ws: i64,
    name: &str,
    keys: Value,
) -> (StatusCode, Value) {
    let body = json!({ "credentials": { "name": name, "provider": "aws", "keys": keys } });
    call(app, who, Method::POST, &format!("/api/credentials?workspaceId={ws}"), body).await
}

async fn add_env(
    app: &TestApp,
    who: &Client,
    ws: i64,
    name: &str,
    credentials_id: Option<&str>,
    endpoint: Option<&str>,
) -> (StatusCode, Value) {
    let queue = crate::fakes::moto::QUEUE;
    let config = json!({ "region": "us-east-1", "computeQueue": queue, "executionRole": EXEC_ROLE,
        "endpointUrl": endpoint });
    let body = json!({ "computeEnv": { "name": name, "platform": "aws-batch", "credentialsId": credentials_id,
        "config": config } });
    call(app, who, Method::POST, &format!("/api/compute-envs?workspaceId={ws}"), body).await
}

fn id(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_else(|| panic!("no {field} in {body}")).to_string()
}

async fn copies_in_default_account(moto: &Moto, workflow_id: &str) -> Vec<String> {
    let client = moto.secrets_client().await;
    let listed = client.list_secrets().include_planned_deletion(true).send().await.unwrap();
    listed
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .filter(|n| n.contains(workflow_id))
        .map(String::from)
        .collect()
}

/// moto answers its first Batch request slowly (it loads the Batch backend), which on a busy
/// machine can outlast the app's 10 s attempt timeout: make that first request from the test.
async fn warm_up_batch(moto: &Moto) {
    moto.batch_client().await.describe_job_definitions().send().await.expect("moto's Batch answers");
}

async fn cancel(app: &TestApp, who: &Client, ws: i64, wf: &str) {
    let (status, body) =
        call(app, who, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}
