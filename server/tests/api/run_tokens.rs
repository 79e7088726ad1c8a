//! The token a launch command hands to its run is a run token: it reports on its own run through
//! the trace API and does nothing else, it dies with the run's cleanup (even if deleting it
//! failed), and it is none of the launcher's personal tokens.

use crate::helpers::*;
use crate::runs::{create_secret, launch, quick_jobs, stage, wait_for};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Gives the workspace's `local` environment a launch command that saves the run token it is
/// given to `<dir>/<workflow id>.token` and exits (leaving the run to "Nextflow": the test).
async fn capture_run_tokens(app: &TestApp, ws: i64) -> PathBuf {
    // The command runs as the launch account: both directories are ones that account can use.
    let dir = app.launch_work_dir("captured-tokens");
    let command =
        format!(r#"printf '%s' "$TOWER_ACCESS_TOKEN" > '{}'/"$TOWER_WORKFLOW_ID".token"#, dir.display());
    let config = json!({
        "scheduler": "local",
        "workDir": app.launch_work_dir("work").display().to_string(),
        "launchCommand": command,
    });
    app.run_sql(&format!(
        "UPDATE compute_envs SET config = '{}' WHERE workspace_id = {ws} AND name = 'local'",
        config.to_string().replace('\'', "''")
    ))
    .await;
    dir
}

async fn launch_and_take_token(app: &TestApp, admin: &Client, ws: i64, dir: &Path) -> (String, String) {
    let (status, body) =
        launch(app, admin, ws, json!({ "pipeline": "nf-core/demo", "workspaceSecrets": ["LICENCE"] })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wf = body["workflowId"].as_str().unwrap().to_string();
    let file = dir.join(format!("{wf}.token"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(token) = std::fs::read_to_string(&file) {
            if token.starts_with("sr_") {
                return (wf, token);
            }
        }
        assert!(std::time::Instant::now() < deadline, "the launch command did not run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send(app: &TestApp, who: &Client, method: Method, path: &str, body: Value) -> StatusCode {
    app.send_json(who, method, path, body).await.0
}

/// The id of a run's token in the database (the API never shows it), if it is there.
async fn run_token_id(app: &TestApp, wf: &str) -> Option<i64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let id = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM access_tokens WHERE name = 'run {wf}'"
    )))
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    id
}

#[tokio::test]
async fn a_run_token_reports_on_its_own_run_and_is_refused_everywhere_else() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "LICENCE", "licence-key-42").await;
    let dir = capture_run_tokens(&app, ws).await;
    let (wf, token) = launch_and_take_token(&app, &admin, ws, &dir).await;
    let (other_wf, _) = launch_and_take_token(&app, &admin, ws, &dir).await;
    let run = client_with_bearer(&token);

    // Every other route class: REST reads and writes, tokens, server functions, pages.
    let forbidden = [
        (Method::GET, "/api/user-info".to_string()),
        (Method::GET, "/api/tokens".to_string()),
        (Method::POST, "/api/tokens".to_string()),
        (Method::DELETE, format!("/api/tokens/{}", run_token_id(&app, &wf).await.unwrap())),
        (Method::GET, format!("/api/pipeline-secrets?workspaceId={ws}")),
        (Method::POST, format!("/api/pipeline-secrets?workspaceId={ws}")),
        (Method::GET, "/api/orgs".to_string()),
        (Method::GET, format!("/api/orgs/{org}/workspaces")),
        (Method::GET, format!("/api/workflow/{wf}?workspaceId={ws}")),
        (Method::POST, format!("/api/workflow/{wf}/cancel?workspaceId={ws}")),
        (Method::POST, format!("/api/workflow/launch?workspaceId={ws}")),
        (Method::POST, "/sfn/create_token".to_string()),
        (Method::POST, "/sfn/logout".to_string()),
        (Method::GET, "/".to_string()),
        (Method::GET, format!("/orgs/{org}/workspaces/{ws}/runs/{wf}")),
    ];
    for (method, path) in forbidden {
        let body = json!({ "name": "more", "value": "x", "launch": { "pipeline": "p" } });
        assert_eq!(
            send(&app, &run, method.clone(), &path, body).await,
            StatusCode::FORBIDDEN,
            "{method} {path}"
        );
    }
    // Another run's trace endpoints, named in the path or in create's body.
    for action in ["begin", "progress", "heartbeat", "complete"] {
        let path = format!("/api/trace/{other_wf}/{action}?workspaceId={ws}");
        assert_eq!(send(&app, &run, Method::PUT, &path, json!({})).await, StatusCode::FORBIDDEN, "{action}");
    }
    let create = format!("/api/trace/create?workspaceId={ws}");
    let status = send(&app, &run, Method::POST, &create, json!({ "workflowId": other_wf })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        wait_for(&app, &admin, ws, &other_wf, |r| stage(r) == "launched").await["workflow"]["status"],
        "SUBMITTED"
    );

    // Its own run: create (named, or implied) and every report.
    let (status, created) = app.send_json(&run, Method::POST, &create, json!({ "workflowId": wf })).await;
    assert_eq!((status, created["workflowId"].as_str()), (StatusCode::OK, Some(wf.as_str())), "{created}");
    let (status, created) = app.send_json(&run, Method::POST, &create, json!({ "runName": "demo" })).await;
    assert_eq!((status, created["workflowId"].as_str()), (StatusCode::OK, Some(wf.as_str())), "{created}");
    for action in ["begin", "progress", "heartbeat"] {
        let path = format!("/api/trace/{wf}/{action}?workspaceId={ws}");
        assert_eq!(
            send(&app, &run, Method::PUT, &path, json!({ "workflow": {} })).await,
            StatusCode::OK,
            "{action}"
        );
    }
    assert_eq!(
        wait_for(&app, &admin, ws, &wf, |r| r["workflow"]["status"] == "RUNNING").await["workflow"]["status"],
        "RUNNING"
    );
    let complete = format!("/api/trace/{wf}/complete?workspaceId={ws}");
    let status = send(&app, &run, Method::PUT, &complete, json!({ "workflow": { "success": true } })).await;
    assert_eq!(status, StatusCode::OK);

    // Cleaned: the token is dead.
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    let heartbeat = format!("/api/trace/{wf}/heartbeat?workspaceId={ws}");
    assert_eq!(send(&app, &run, Method::PUT, &heartbeat, json!({})).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_run_token_dies_with_its_run_even_if_deleting_it_failed() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "LICENCE", "licence-key-42").await;
    let dir = capture_run_tokens(&app, ws).await;
    let (wf, token) = launch_and_take_token(&app, &admin, ws, &dir).await;
    let run = client_with_bearer(&token);
    let heartbeat = format!("/api/trace/{wf}/heartbeat?workspaceId={ws}");
    assert_eq!(send(&app, &run, Method::PUT, &heartbeat, json!({})).await, StatusCode::OK);

    // The run is over and cleaned, but its token row is still there (as after a failed delete).
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "launched").await;
    app.run_sql(&format!("UPDATE runs SET stage = 'cleaned', status = 'SUCCEEDED' WHERE id = '{wf}'")).await;
    assert!(run_token_id(&app, &wf).await.is_some(), "the token row is still there");
    assert_eq!(send(&app, &run, Method::PUT, &heartbeat, json!({})).await, StatusCode::UNAUTHORIZED);
    // A token whose run is gone altogether is refused too.
    app.run_sql(&format!("UPDATE runs SET stage = 'launched' WHERE id = '{wf}'")).await;
    assert_eq!(send(&app, &run, Method::PUT, &heartbeat, json!({})).await, StatusCode::OK);
    app.run_sql(&format!("UPDATE access_tokens SET run_id = 'NoSuchRun0000' WHERE run_id = '{wf}'")).await;
    assert_eq!(send(&app, &run, Method::PUT, &heartbeat, json!({})).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_run_token_is_not_a_personal_token_of_the_launcher() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "LICENCE", "licence-key-42").await;
    let (status, _) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "mine" })).await;
    assert_eq!(status, StatusCode::OK);
    let dir = capture_run_tokens(&app, ws).await;
    let (wf, _token) = launch_and_take_token(&app, &admin, ws, &dir).await;

    // While the run goes on, the launcher's list shows only the personal token...
    let (_, listed) = app.get_json(&admin, "/api/tokens").await;
    let names: Vec<&str> =
        listed["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["mine"], "{listed}");
    assert!(!listed.to_string().contains(&wf), "{listed}");
    // ...and the run token cannot be deleted as one (it is not found among them).
    let id = run_token_id(&app, &wf).await.unwrap();
    let (status, _) = app.send_json(&admin, Method::DELETE, &format!("/api/tokens/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(run_token_id(&app, &wf).await, Some(id), "still there, for the run");
    // The UI's token list (a server function) leaves it out too.
    let response = app.sfn(&admin, "list_tokens", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.contains("mine") && !text.contains(&wf), "{text}");
}
