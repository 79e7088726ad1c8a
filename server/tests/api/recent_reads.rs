//! Describes and lists answered within the last second are served from the server's memory
//! (`domain::secrets::recent_reads`); a change made through this server shows on the very next
//! read, one made straight in the database within a second.

use crate::helpers::*;
use crate::runs::create_secret;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn create(app: &TestApp, who: &Client, ws: i64, name: &str) -> i64 {
    create_secret(app, who, Some(ws), name, &format!("value of {name}")).await
}

async fn describe(app: &TestApp, who: &Client, ws: i64, id: i64) -> (StatusCode, Value) {
    app.get_json(who, &format!("/api/pipeline-secrets/{id}?workspaceId={ws}")).await
}

/// The names listed, or the refusal's status.
async fn listed(app: &TestApp, who: &Client, ws: i64) -> Result<Vec<String>, StatusCode> {
    let (status, body) = app.get_json(who, &format!("/api/pipeline-secrets?workspaceId={ws}")).await;
    if status != StatusCode::OK {
        return Err(status);
    }
    let names = body["pipelineSecrets"].as_array().unwrap();
    Ok(names.iter().map(|s| s["name"].as_str().unwrap().to_string()).collect())
}

#[tokio::test]
async fn a_change_made_here_shows_on_the_very_next_describe_or_list() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (org_id, ws) = app.org_and_workspace(&admin, "genomics").await;
    let bob_pid = app.add_participant(&admin, org_id, ws, "bob@example.org", "view").await;
    let first = create(&app, &admin, ws, "FIRST").await;
    for _ in 0..3 {
        let (status, body) = describe(&app, &bob, ws, first).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["pipelineSecret"]["name"], "FIRST");
        assert_eq!(listed(&app, &bob, ws).await, Ok(vec!["FIRST".to_string()]));
    }

    let second = create(&app, &admin, ws, "SECOND").await;
    assert_eq!(listed(&app, &bob, ws).await, Ok(vec!["FIRST".to_string(), "SECOND".to_string()]));
    let (status, _) = app
        .send_json(
            &admin,
            Method::DELETE,
            &format!("/api/pipeline-secrets/{first}?workspaceId={ws}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(describe(&app, &bob, ws, first).await.0, StatusCode::NOT_FOUND, "deleted here: gone at once");
    assert_eq!(listed(&app, &bob, ws).await, Ok(vec!["SECOND".to_string()]));

    // Bob's membership ends through this server: his kept answers go with it.
    assert_eq!(describe(&app, &bob, ws, second).await.0, StatusCode::OK);
    let path = format!("/api/orgs/{org_id}/workspaces/{ws}/participants/{bob_pid}");
    let (status, body) = app.send_json(&admin, Method::DELETE, &path, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // A workspace he is not in is not found for him.
    assert_eq!(describe(&app, &bob, ws, second).await.0, StatusCode::NOT_FOUND, "removed: refused at once");
    assert_eq!(listed(&app, &bob, ws).await, Err(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn a_change_made_straight_in_the_database_shows_within_a_second() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (org_id, ws) = app.org_and_workspace(&admin, "genomics").await;
    app.add_participant(&admin, org_id, ws, "bob@example.org", "view").await;
    let id = create(&app, &admin, ws, "KEPT").await;
    assert_eq!(describe(&app, &bob, ws, id).await.0, StatusCode::OK);
    assert!(listed(&app, &bob, ws).await.is_ok());

    // As another replica or the command line would remove him.
    app.run_sql(
        "DELETE FROM workspace_participants WHERE user_id = (SELECT id FROM users WHERE email = 'bob@example.org')",
    )
    .await;
    let changed = Instant::now();
    loop {
        let describe_refused = describe(&app, &bob, ws, id).await.0 == StatusCode::NOT_FOUND;
        let list_refused = listed(&app, &bob, ws).await == Err(StatusCode::NOT_FOUND);
        if describe_refused && list_refused {
            break;
        }
        assert!(changed.elapsed() < Duration::from_millis(1500), "still answered 1.5 s after the change");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
