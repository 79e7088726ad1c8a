//! What is checked before a run starts: unknown secret names, a missing pipeline, a bad run name
//! and roles that cannot launch are refused; only an instance administrator sets a launch
//! command; and an environment's preflight is stored, with a launch refused in its words.

use super::{create_secret, launch, local_env_id, token};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn launch_refuses_unknown_names_missing_pipelines_and_roles_that_cannot_launch() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "KNOWN", "x1").await;

    let (status, body) =
        launch(&app, &admin, ws, json!({ "pipeline": "p", "workspaceSecrets": ["KNOWN", "NOPE"], })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "This workspace has no secret named NOPE.");
    let (status, body) = launch(&app, &admin, ws, json!({ "pipeline": "p", "userSecrets": ["MINE"] })).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("You have no secret named MINE."))
    );
    let (status, body) = launch(&app, &admin, ws, json!({ "workspaceSecrets": ["KNOWN"] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("Choose a pipeline"), "{body}");
    let (status, _) = launch(&app, &admin, ws, json!({ "pipeline": "p", "runName": "bad name" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let viewer = app.user(&admin, "viewer@example.com").await;
    app.add_participant(&admin, org, ws, "viewer@example.com", "view").await;
    let (status, _) = launch(&app, &viewer, ws, json!({ "pipeline": "p" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let launcher = app.user(&admin, "launcher@example.com").await;
    app.add_participant(&admin, org, ws, "launcher@example.com", "launch").await;
    let (status, body) =
        launch(&app, &launcher, ws, json!({ "pipeline": "p", "workspaceSecrets": ["KNOWN"] })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Only the launcher reports on a run.
    let wf = body["workflowId"].as_str().unwrap();
    let admin_bearer = client_with_bearer(&token(&app, &admin, "other").await);
    let (status, _) =
        app.send_json(&admin_bearer, Method::PUT, &format!("/api/trace/{wf}/complete"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_an_instance_administrator_may_set_a_launch_command() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let owner = app.user(&admin, "owner@example.com").await;
    let (_, ws) = app.org_and_workspace(&owner, "lab").await;
    let work_dir = app.data_dir.path().join("work").join(ws.to_string()).display().to_string();
    let env = |command: Option<&str>| {
        json!({ "computeEnv": { "name": "slurm", "platform": "slurm-platform",
            "config": { "workDir": work_dir, "launchCommand": command } } })
    };
    let path = format!("/api/compute-envs?workspaceId={ws}");
    let (status, body) =
        app.send_json(&owner, Method::POST, &path, env(Some("sbatch --wrap 'nextflow run'"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("instance administrator"), "{body}");
    let (status, body) = app.send_json(&owner, Method::POST, &path, env(None)).await;
    assert_eq!(status, StatusCode::OK, "without a command the owner may: {body}");
}

#[tokio::test]
async fn checking_an_environment_runs_its_preflight_and_stores_the_outcome() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let env = local_env_id(&app, &admin, ws).await;
    let path = format!("/api/compute-envs/{env}/validate?workspaceId={ws}");
    let (status, body) = app.send_json(&admin, Method::POST, &path, json!({})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("AVAILABLE")), "{body}");

    // A work directory Strongroom cannot write: INVALID, with the reason and the fix.
    let blocked = app.data_dir.path().join("blocked");
    std::fs::write(&blocked, "a file, not a directory").unwrap();
    app.run_sql(&format!(
        "UPDATE compute_envs SET config = '{}' WHERE id = {env}",
        json!({ "scheduler": "local", "workDir": blocked.join("work").display().to_string() })
    ))
    .await;
    let (status, body) = app.send_json(&admin, Method::POST, &path, json!({})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("INVALID")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("private secrets file"), "{body}");
    assert!(body["fix"].as_str().unwrap().contains("writable"), "{body}");
    let (_, described) = app.get_json(&admin, &format!("/api/compute-envs/{env}?workspaceId={ws}")).await;
    assert_eq!(described["computeEnv"]["status"], "INVALID", "{described}");
    // A launch runs the same check and refuses with the same words.
    let (status, body) = launch(&app, &admin, ws, json!({ "pipeline": "p", "computeEnvId": env })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("How to fix it"), "{body}");
}
