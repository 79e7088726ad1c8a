//! `/api/compute-envs`: every new workspace starts with a ready `local` environment, every
//! participant can list and describe, and nobody else can see it.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const ROLES: [&str; 6] = ["owner", "admin", "maintain", "launch", "connect", "view"];

#[tokio::test]
async fn a_new_workspace_has_one_local_environment_under_the_data_dir() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;

    let (status, body) = app.get_json(&admin, &format!("/api/compute-envs?workspaceId={ws_id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let envs = body["computeEnvs"].as_array().unwrap();
    assert_eq!(envs.len(), 1, "{body}");
    let env = &envs[0];
    assert_eq!(env["name"], "local");
    assert_eq!(env["platform"], "local-platform");
    assert_eq!(env["status"], "AVAILABLE");
    let id = env["id"].as_str().expect("ids are strings, as in Seqera's API");
    let expected = app.data_dir.path().join("work").join(ws_id.to_string());
    assert!(expected.is_absolute());
    assert_eq!(env["workDir"].as_str(), Some(expected.to_str().unwrap()), "{body}");
    assert!(env.get("credentialsId").is_none(), "{body}");

    let (status, body) = app.get_json(&admin, &format!("/api/compute-envs/{id}?workspaceId={ws_id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let env = &body["computeEnv"];
    assert_eq!(env["id"], id);
    assert_eq!(env["name"], "local");
    assert_eq!(env["platform"], "local-platform");
    assert_eq!(env["status"], "AVAILABLE");
    assert_eq!(env["workspaceId"], ws_id);
    assert_eq!(env["config"]["discriminator"], "local-platform");
    assert_eq!(env["config"]["workDir"].as_str(), Some(expected.to_str().unwrap()));
    assert!(env["dateCreated"].is_string() && env["lastUpdated"].is_string(), "{body}");

    // Each workspace has its own `local`, with its own work directory.
    let (_, other_ws) = app.org_and_workspace(&admin, "proteomics").await;
    let (_, body) = app.get_json(&admin, &format!("/api/compute-envs?workspaceId={other_ws}")).await;
    let other = &body["computeEnvs"][0];
    assert_eq!(other["name"], "local");
    assert_ne!(other["id"].as_str(), Some(id));
    let expected = app.data_dir.path().join("work").join(other_ws.to_string());
    assert_eq!(other["workDir"].as_str(), Some(expected.to_str().unwrap()));

    // Without a workspace, the caller's own environments: Strongroom has none.
    let (status, body) = app.get_json(&admin, "/api/compute-envs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["computeEnvs"], Value::Array(vec![]));
}

#[tokio::test]
async fn every_role_can_list_and_describe() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let (_, body) = app.get_json(&admin, &format!("/api/compute-envs?workspaceId={ws_id}")).await;
    let id = body["computeEnvs"][0]["id"].as_str().unwrap().to_string();

    for role in ROLES {
        let email = format!("{role}-user@example.org");
        let user = app.user(&admin, &email).await;
        app.add_participant(&admin, org_id, ws_id, &email, role).await;
        let (status, body) = app.get_json(&user, &format!("/api/compute-envs?workspaceId={ws_id}")).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(body["computeEnvs"].as_array().unwrap().len(), 1, "{role}: {body}");
        let (status, body) =
            app.get_json(&user, &format!("/api/compute-envs/{id}?workspaceId={ws_id}")).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(body["computeEnv"]["name"], "local", "{role}");
    }
}

#[tokio::test]
async fn outsiders_and_other_workspaces_ids_are_not_found() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let (_, other_ws) = app.org_and_workspace(&admin, "proteomics").await;
    let (_, body) = app.get_json(&admin, &format!("/api/compute-envs?workspaceId={ws_id}")).await;
    let id = body["computeEnvs"][0]["id"].as_str().unwrap().to_string();

    // A signed-in user who takes no part in the workspace.
    let stranger = app.user(&admin, "stranger@example.org").await;
    let (status, body) = app.get_json(&stranger, &format!("/api/compute-envs?workspaceId={ws_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) =
        app.get_json(&stranger, &format!("/api/compute-envs/{id}?workspaceId={ws_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // An id from another workspace, asked through a workspace the caller owns.
    let (status, body) =
        app.get_json(&admin, &format!("/api/compute-envs/{id}?workspaceId={other_ws}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // No workspace, an unknown id, an id that is not a number.
    for path in [
        format!("/api/compute-envs/{id}"),
        format!("/api/compute-envs/999999?workspaceId={ws_id}"),
        format!("/api/compute-envs/not-a-number?workspaceId={ws_id}"),
    ] {
        let (status, body) = app.get_json(&admin, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_ne!(body["message"].as_str(), Some("No such API endpoint."), "{path}");
    }

    // Signed out.
    let (status, _) = app.get_json(&client(), &format!("/api/compute-envs?workspaceId={ws_id}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
