//! Who may do what with credentials and compute environments: owners and admins manage them (over
//! REST and the UI's server functions alike), every other role reads, and outsiders do not even
//! learn the workspace exists.

use super::{secret_canary, Ws, ROLE_ARN};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn only_owners_and_admins_manage_credentials_and_compute_envs_and_everyone_reads() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    // Role-only credentials and environments without credentials act as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &admin, ws_id).await;
    let ws = Ws { app: &app, id: ws_id };
    let creds_id = ws.aws_credentials(&admin, "aws-prod", &secret_canary()).await;
    let (_, env) = ws.aws_env(&admin, "aws-env", Some(&creds_id)).await;
    let env_id = env["computeEnvId"].as_str().unwrap().to_string();

    for role in ["owner", "admin", "maintain", "launch", "connect", "view"] {
        let email = format!("{role}-user@example.org");
        let user = app.user(&admin, &email).await;
        app.add_participant(&admin, org_id, ws_id, &email, role).await;
        let (status, list) = ws.call(&user, Method::GET, "/api/credentials", Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{role}");
        assert_eq!(list["credentials"].as_array().unwrap().len(), 1, "{role}");
        let (status, _) =
            ws.call(&user, Method::GET, &format!("/api/credentials/{creds_id}"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{role}");
        let (status, _) =
            ws.call(&user, Method::GET, &format!("/api/compute-envs/{env_id}"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{role}");

        let manages = role == "owner" || role == "admin";
        let expected = |ok: StatusCode| if manages { ok } else { StatusCode::FORBIDDEN };
        let name = format!("{role}-creds");
        let body =
            json!({"credentials": {"name": name, "provider": "aws", "keys": {"assumeRoleArn": ROLE_ARN}}});
        let (status, created) = ws.call(&user, Method::POST, "/api/credentials", body).await;
        assert_eq!(status, expected(StatusCode::OK), "{role}: {created}");
        let body = json!({"credentials": {"keys": {"assumeRoleArn": ROLE_ARN}}});
        let (status, _) = ws.call(&user, Method::PUT, &format!("/api/credentials/{creds_id}"), body).await;
        assert_eq!(status, expected(StatusCode::NO_CONTENT), "{role}");
        let (status, made) = ws.aws_env(&user, &format!("{role}-env"), None).await;
        assert_eq!(status, expected(StatusCode::OK), "{role}: {made}");
        let (status, _) = ws
            .call(&user, Method::PUT, &format!("/api/compute-envs/{env_id}"), json!({"name": "aws-env"}))
            .await;
        assert_eq!(status, expected(StatusCode::NO_CONTENT), "{role}");
        if manages {
            let made_env = made["computeEnvId"].as_str().unwrap();
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/compute-envs/{made_env}"), Value::Null).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{role}");
            let made_creds = created["credentialsId"].as_str().unwrap();
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/credentials/{made_creds}"), Value::Null).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{role}");
        } else {
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/compute-envs/{env_id}"), Value::Null).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/credentials/{creds_id}"), Value::Null).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
            // The UI's server functions answer the same.
            let response = app
                .sfn(
                    &user,
                    "delete_credentials",
                    &[("workspace_id", &ws_id.to_string()), ("credentials_id", &creds_id)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
        }
    }
    // Outsiders do not even learn the workspace exists.
    let stranger = app.user(&admin, "stranger@example.org").await;
    let (status, _) = ws.call(&stranger, Method::GET, "/api/credentials", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
