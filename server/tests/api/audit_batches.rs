//! Audited writes committed in batches (`server/src/audit/batch.rs`): many clients writing at
//! once share commits, yet every action that was answered has exactly one entry, refused ones
//! have none, the chain verifies, and an altered or reordered entry written in a batch is caught.

use crate::audit::verify;
use crate::helpers::*;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const CLIENTS: usize = 16;
const CREATES_EACH: usize = 8;

/// `(action, target)` of every entry, in chain order.
async fn entries(app: &TestApp) -> Vec<(i64, String, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let rows = sqlx::query_as("SELECT seq, action, target FROM audit_log ORDER BY seq")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

#[tokio::test]
async fn concurrent_writes_from_many_clients_leave_one_entry_each_and_a_chain_that_verifies() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "busy").await;
    let before = verify(&app).await.expect("a fresh chain verifies");
    let path = format!("/api/pipeline-secrets?workspaceId={ws_id}");

    // Each client creates its own secrets and also races every other client for one shared
    // name: one of those wins, the others are refused in the same batches as the winners.
    let clients = (0..CLIENTS).map(|c| {
        let (app, admin, path) = (&app, &admin, &path);
        async move {
            let mut answers = Vec::new();
            for i in 0..CREATES_EACH {
                let name = format!("C{c}_S{i}");
                let (status, body) =
                    app.send_json(admin, Method::POST, path, json!({ "name": name, "value": "v" })).await;
                answers.push((name, status, body));
                if i == CREATES_EACH / 2 {
                    let (status, body) = app
                        .send_json(admin, Method::POST, path, json!({ "name": "SHARED", "value": "v" }))
                        .await;
                    answers.push(("SHARED".to_string(), status, body));
                }
            }
            answers
        }
    });
    let answers: Vec<(String, StatusCode, Value)> = join_all(clients).await.into_iter().flatten().collect();

    let mut created: BTreeMap<String, i64> = BTreeMap::new();
    for (name, status, body) in &answers {
        match *status {
            StatusCode::OK => {
                created.insert(name.clone(), body["secretId"].as_i64().unwrap());
            }
            StatusCode::CONFLICT => assert_eq!(name, "SHARED", "{body}"),
            other => panic!("{name}: {other} {body}"),
        }
    }
    assert_eq!(created.len(), CLIENTS * CREATES_EACH + 1, "every own name and the shared name once");
    let (_, list) = app.get_json(&admin, &format!("{path}&max=1000")).await;
    assert_eq!(list["totalSize"], created.len());

    // One entry per answered create, naming its secret and id; none for the refused ones.
    let after = verify(&app).await.expect("the chain verifies after concurrent batches");
    assert_eq!(after, before + created.len() as i64);
    let recorded: Vec<String> = entries(&app)
        .await
        .into_iter()
        .filter(|(_, action, _)| action == "secret.created")
        .map(|(_, _, target)| target)
        .collect();
    assert_eq!(recorded.len(), created.len());
    for (name, id) in &created {
        let target = format!("secret '{name}' (id {id})");
        assert_eq!(recorded.iter().filter(|t| **t == target).count(), 1, "{target}");
    }

    // Updates and deletes go through the same batches.
    let updates = created.values().take(CLIENTS).map(|id| {
        let (app, admin) = (&app, &admin);
        async move {
            let path = format!("/api/pipeline-secrets/{id}?workspaceId={ws_id}");
            let (updated, _) = app.send_json(admin, Method::PUT, &path, json!({ "value": "w" })).await;
            let (deleted, _) = app.send_json(admin, Method::DELETE, &path, json!({})).await;
            (updated, deleted)
        }
    });
    for (updated, deleted) in join_all(updates).await {
        assert_eq!((updated, deleted), (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT));
    }
    assert_eq!(verify(&app).await, Ok(after + 2 * CLIENTS as i64));
}

#[tokio::test]
async fn an_entry_written_in_a_batch_that_is_altered_or_reordered_breaks_the_chain_there() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "tampered").await;
    let path = format!("/api/pipeline-secrets?workspaceId={ws_id}");
    let creates = (0..CLIENTS).map(|i| {
        let (app, admin, path) = (&app, &admin, &path);
        async move {
            app.send_json(admin, Method::POST, path, json!({ "name": format!("S{i}"), "value": "v" })).await
        }
    });
    for (status, body) in join_all(creates).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let total = verify(&app).await.unwrap();
    assert_eq!(total, 3 + CLIENTS as i64, "setup, organization, workspace and one entry per secret");

    if is_postgres() {
        app.run_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await;
    } else {
        app.run_sql("DROP TRIGGER audit_log_no_update").await;
    }
    // Two neighbours swap places: the first of them no longer links to the entry before it.
    let (a, b) = (total - 6, total - 5);
    app.run_sql(&format!("UPDATE audit_log SET seq = -1 WHERE seq = {a}")).await;
    app.run_sql(&format!("UPDATE audit_log SET seq = {a} WHERE seq = {b}")).await;
    app.run_sql(&format!("UPDATE audit_log SET seq = {b} WHERE seq = -1")).await;
    let broken = verify(&app).await.unwrap_err();
    assert_eq!(broken.seq, a, "{broken}");
    // Put back, the chain holds again; then one entry's target is changed.
    app.run_sql(&format!("UPDATE audit_log SET seq = -1 WHERE seq = {a}")).await;
    app.run_sql(&format!("UPDATE audit_log SET seq = {a} WHERE seq = {b}")).await;
    app.run_sql(&format!("UPDATE audit_log SET seq = {b} WHERE seq = -1")).await;
    assert_eq!(verify(&app).await, Ok(total));
    app.run_sql(&format!("UPDATE audit_log SET target = 'secret ''X'' (id 1)' WHERE seq = {b}")).await;
    let broken = verify(&app).await.unwrap_err();
    assert_eq!(broken.seq, b);
    assert!(broken.reason.contains("altered"), "{broken}");
}
