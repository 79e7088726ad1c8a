//! `/api/credentials` and the writes of `/api/compute-envs`: key material goes in and never comes
//! out (not in a response, an error, the audit log or the database in plaintext); owners and
//! admins manage, everyone else reads; settings are checked per platform; credentials in use
//! cannot be deleted. This module holds what the files below share: a caller scoped to one
//! workspace, canary keys and a database pool.

mod compute_envs;
mod keys;
mod lifecycle;
mod roles;
mod ssh;

use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/strongroom";
const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/batch-exec";

fn secret_canary() -> String {
    format!("SeCrEt{}", uuid::Uuid::new_v4().simple())
}

fn google_key(private: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "genomics-prod",
        "client_email": "pipelines@genomics-prod.iam.gserviceaccount.com",
        "private_key": format!("-----BEGIN PRIVATE KEY-----\n{private}\n-----END PRIVATE KEY-----\n"),
    })
    .to_string()
}

struct Ws<'a> {
    app: &'a TestApp,
    id: i64,
}

impl Ws<'_> {
    fn path(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}workspaceId={}", self.id)
    }

    async fn call(&self, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let path = self.path(path);
        if body.is_null() {
            let response = who.request(method, self.app.url(&path)).send().await.unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        } else {
            self.app.send_json(who, method, &path, body).await
        }
    }

    async fn aws_credentials(&self, who: &Client, name: &str, secret: &str) -> String {
        let body = json!({"credentials": {"name": name, "provider": "aws", "keys": {
            "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret
        }}});
        let (status, body) = self.call(who, Method::POST, "/api/credentials", body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["credentialsId"].as_str().expect("ids are strings, as in Seqera's API").to_string()
    }

    async fn aws_env(&self, who: &Client, name: &str, credentials_id: Option<&str>) -> (StatusCode, Value) {
        let body = json!({"computeEnv": {
            "name": name, "platform": "aws-batch", "credentialsId": credentials_id,
            "config": {"region": "eu-west-1", "computeQueue": "nf-queue", "executionRole": EXEC_ROLE}
        }});
        self.call(who, Method::POST, "/api/compute-envs", body).await
    }
}

async fn pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.database_url).await.unwrap()
}
