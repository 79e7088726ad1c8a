//! A workspace with one of everything (organization, participant, workspace and personal secrets,
//! credentials, a compute environment, a run, an access token), so route parameters can be filled
//! with ids that exist.

use crate::helpers::*;
use crate::runs::{create_secret, launch};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const OWNER_EMAIL: &str = "owner@example.org";

pub struct Seeded {
    /// The instance administrator's session.
    pub admin: Client,
    /// The workspace owner's session (a user, not an instance administrator).
    pub owner: Client,
    /// The owner's personal access token.
    pub owner_token: String,
    pub workspace_id: i64,
    /// Real ids by the name route templates give the parameter (`{secret_id}`).
    pub ids: BTreeMap<&'static str, Vec<String>>,
}

impl Seeded {
    /// Every seeded id, for a parameter these tests do not know by name (a route added later).
    pub fn every_id(&self) -> Vec<String> {
        let mut all: Vec<String> = self.ids.values().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}

async fn ok_json(app: &TestApp, who: &Client, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = app.send_json(who, method, path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

async fn listed_ids(app: &TestApp, who: &Client, path: &str, list: &str, id: &str) -> Vec<String> {
    let (status, body) = app.get_json(who, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    let items = body[list].as_array().unwrap_or_else(|| panic!("{path}: no {list} in {body}"));
    items.iter().map(|item| item[id].to_string().trim_matches('"').to_string()).collect()
}

pub async fn seed(app: &TestApp) -> Seeded {
    let admin = app.setup_admin().await;
    let owner = app.user(&admin, OWNER_EMAIL).await;
    app.user(&admin, "member@example.org").await;
    let (org_id, ws) = app.org_and_workspace(&owner, "proof").await;
    let participant = app.add_participant(&owner, org_id, ws, "member@example.org", "view").await;
    create_secret(app, &owner, Some(ws), "WORKSPACE_SECRET", "workspace-secret-value").await;
    create_secret(app, &owner, None, "OWN_SECRET", "personal-secret-value").await;
    let credentials = json!({"credentials": {"name": "aws-keys", "provider": "aws", "keys": {
        "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    }}});
    let path = format!("/api/credentials?workspaceId={ws}");
    let credentials_id = ok_json(app, &owner, Method::POST, &path, credentials).await["credentialsId"]
        .as_str()
        .unwrap()
        .to_string();
    let launched = json!({
        "pipeline": "nf-core/demo",
        "runName": "proof-run",
        "workspaceSecrets": ["WORKSPACE_SECRET"],
        "userSecrets": ["OWN_SECRET"],
    });
    let (status, run) = launch(app, &owner, ws, launched).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let token = ok_json(app, &owner, Method::POST, "/api/tokens", json!({"name": "proof"})).await;
    let owner_token = token["accessKey"].as_str().unwrap().to_string();

    let mut secret_ids =
        listed_ids(app, &owner, &format!("/api/pipeline-secrets?workspaceId={ws}"), "pipelineSecrets", "id")
            .await;
    secret_ids.extend(listed_ids(app, &owner, "/api/pipeline-secrets", "pipelineSecrets", "id").await);
    let env_path = format!("/api/compute-envs?workspaceId={ws}");
    let ids = BTreeMap::from([
        ("org_id", vec![org_id.to_string()]),
        ("workspace_id", vec![ws.to_string()]),
        ("participant_id", vec![participant.to_string()]),
        ("secret_id", secret_ids),
        ("compute_env_id", listed_ids(app, &owner, &env_path, "computeEnvs", "id").await),
        ("credentials_id", vec![credentials_id]),
        ("workflow_id", vec![run["workflowId"].as_str().unwrap().to_string()]),
        ("token_id", listed_ids(app, &owner, "/api/tokens", "tokens", "id").await),
    ]);
    for (name, values) in &ids {
        assert!(!values.is_empty(), "no {name} seeded");
    }
    Seeded { admin, owner, owner_token, workspace_id: ws, ids }
}
