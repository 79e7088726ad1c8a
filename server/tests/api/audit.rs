//! The audit trail: what is recorded, who may read it, that it is hash-chained and append-only,
//! and that an action whose entry cannot be written does not happen.

use crate::cli::{db_env, strongroom};
use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

async fn instance_audit(app: &TestApp, who: &Client) -> (StatusCode, Value) {
    let response = app.sfn(who, "instance_audit", &[]).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn workspace_audit(app: &TestApp, who: &Client, org_id: i64, ws_id: i64) -> (StatusCode, Value) {
    let (org, ws) = (org_id.to_string(), ws_id.to_string());
    let response = app.sfn(who, "workspace_audit", &[("org_id", &org), ("workspace_id", &ws)]).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn actions(page: &Value) -> Vec<(String, String)> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["outcome"].as_str().unwrap().to_string()))
        .collect()
}

async fn pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.database_url).await.unwrap()
}

pub(crate) async fn verify(app: &TestApp) -> Result<i64, server::audit::Broken> {
    let pool = pool(app).await;
    let result = server::audit::verify(&pool).await.unwrap().map(|v| v.entries);
    pool.close().await;
    result
}

async fn create_secret(
    app: &TestApp,
    who: &Client,
    ws_id: i64,
    name: &str,
    value: &str,
) -> (StatusCode, Value) {
    app.send_json(
        who,
        Method::POST,
        &format!("/api/pipeline-secrets?workspaceId={ws_id}"),
        json!({ "name": name, "value": value }),
    )
    .await
}

#[tokio::test]
async fn every_kind_of_action_is_recorded_with_who_where_and_outcome_but_never_a_value() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let failed =
        app.sfn(&client(), "login", &[("email", ADMIN_EMAIL), ("password", "wrong password!")]).await;
    assert!(failed.status().is_client_error(), "{}", failed.status());
    let (org_id, ws_id) = app.org_and_workspace(&admin, "audited").await;
    let viewer = app.user(&admin, "viewer@example.org").await;
    let participant = app.add_participant(&admin, org_id, ws_id, "viewer@example.org", "view").await;
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants/{participant}/role"),
            json!({ "role": "launch" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = create_secret(&app, &admin, ws_id, "DB_PASSWORD", "audit-canary-1").await;
    assert_eq!(status, StatusCode::OK);
    let id = body["secretId"].as_i64().unwrap();
    let path = format!("/api/pipeline-secrets/{id}?workspaceId={ws_id}");
    let (status, _) = app.send_json(&admin, Method::PUT, &path, json!({ "value": "audit-canary-2" })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A launch-role member may not write secrets: refused, and recorded as denied.
    let (status, _) = create_secret(&app, &viewer, ws_id, "NOT_ALLOWED", "audit-canary-3").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.send_json(&admin, Method::DELETE, &path, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, token) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "ci" })).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token_id = token["token"]["id"].as_i64().unwrap();
    let (status, _) =
        app.send_json(&admin, Method::DELETE, &format!("/api/tokens/{token_id}"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .send_json(
            &admin,
            Method::DELETE,
            &format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants/{participant}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, page) = instance_audit(&app, &admin).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut recorded = actions(&page);
    recorded.reverse(); // oldest first
    let expected: Vec<(&str, &str)> = vec![
        ("setup.completed", "ok"),
        ("sign-in", "failed"),
        ("organization.created", "ok"),
        ("workspace.created", "ok"),
        ("user.created", "ok"),
        ("sign-in", "ok"),
        ("participant.added", "ok"),
        ("participant.role_changed", "ok"),
        ("secret.created", "ok"),
        ("secret.updated", "ok"),
        ("access.denied", "denied"),
        ("secret.deleted", "ok"),
        ("token.created", "ok"),
        ("token.deleted", "ok"),
        ("participant.removed", "ok"),
    ];
    let expected: Vec<(String, String)> =
        expected.into_iter().map(|(a, o)| (a.to_string(), o.to_string())).collect();
    assert_eq!(recorded, expected);

    let entries = page["entries"].as_array().unwrap();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).unwrap().clone();
    let updated = find("secret.updated");
    assert_eq!(updated["actor"], ADMIN_EMAIL);
    assert_eq!(updated["ip"], "127.0.0.1", "the client address is recorded: {updated}");
    assert_eq!(updated["workspace_id"], ws_id);
    assert!(updated["target"].as_str().unwrap().contains("DB_PASSWORD"));
    assert_eq!(find("sign-in")["actor"], "viewer@example.org");
    let role_change = find("participant.role_changed");
    assert!(role_change["detail"].as_str().unwrap().contains("view → launch"), "{role_change}");
    let denied = find("access.denied");
    assert_eq!(denied["actor"], "viewer@example.org");
    assert_eq!(denied["workspace_id"], ws_id);
    // Every entry is timestamped in UTC milliseconds, in order.
    let times: Vec<i64> = entries.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    assert!(!page.to_string().contains("audit-canary"), "no value in any entry");

    assert_eq!(verify(&app).await, Ok(expected.len() as i64));
}

#[tokio::test]
async fn the_workspace_audit_tab_is_for_owners_and_admins_and_shows_that_workspace_only() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "alpha").await;
    let (other_org, other_ws) = app.org_and_workspace(&admin, "beta").await;
    create_secret(&app, &admin, ws_id, "IN_ALPHA", "x").await;
    create_secret(&app, &admin, other_ws, "IN_BETA", "x").await;
    for (email, role, allowed) in
        [("ws-admin@example.org", "admin", true), ("ws-maintain@example.org", "maintain", false)]
    {
        let user = app.user(&admin, email).await;
        app.add_participant(&admin, org_id, ws_id, email, role).await;
        let (status, page) = workspace_audit(&app, &user, org_id, ws_id).await;
        if allowed {
            assert_eq!(status, StatusCode::OK, "{page}");
            let text = page.to_string();
            assert!(text.contains("IN_ALPHA") && !text.contains("IN_BETA"), "{text}");
            assert!(page["entries"].as_array().unwrap().iter().all(|e| e["workspace_id"] == ws_id));
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{role}: {page}");
        }
        // Another workspace's trail is not even found; the instance view is for instance admins.
        assert_eq!(workspace_audit(&app, &user, other_org, other_ws).await.0, StatusCode::NOT_FOUND);
        assert_eq!(instance_audit(&app, &user).await.0, StatusCode::FORBIDDEN);
    }
    let (_, page) = instance_audit(&app, &admin).await;
    let denied: Vec<_> =
        page["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "access.denied").collect();
    assert_eq!(denied.len(), 3, "the maintainer's tab refusal and both instance-view refusals: {denied:?}");
}

#[tokio::test]
async fn pages_of_fifty_go_back_to_the_first_entry() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "paged").await;
    for i in 0..60 {
        create_secret(&app, &admin, ws_id, &format!("S{i}"), "x").await;
    }
    let (_, first) = instance_audit(&app, &admin).await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    let older = first["older_than"].as_i64().unwrap().to_string();
    let response = app.sfn(&admin, "instance_audit", &[("older_than", &older)]).await;
    let second: Value = response.json().await.unwrap();
    let seqs: Vec<i64> =
        second["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs.last(), Some(&1));
    assert_eq!(seqs.len(), 63 - 50, "setup, organization, workspace and 60 secrets");
    assert!(second["older_than"].is_null());
}

async fn filtered(app: &TestApp, who: &Client, filter: &[(&str, &str)]) -> Value {
    let response = app.sfn(who, "instance_audit", filter).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn filters_narrow_by_who_what_outcome_and_time_and_paging_keeps_them() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "filtered").await;
    // An underscore in the email: LIKE must read it literally.
    let bob = app.user(&admin, "bob_x@example.org").await;
    app.add_participant(&admin, org_id, ws_id, "bob_x@example.org", "admin").await;
    for i in 0..52 {
        create_secret(&app, &admin, ws_id, &format!("ADA_{i}"), "x").await;
    }
    create_secret(&app, &bob, ws_id, "BOB_ONE", "x").await;
    let refused = app.sfn(&client(), "login", &[("email", "bob_x@example.org"), ("password", "wrong")]).await;
    assert!(!refused.headers().contains_key("location"));

    let bobs = filtered(&app, &admin, &[("who", "BOB_X@")]).await;
    let who: Vec<&str> =
        bobs["entries"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert!(!who.is_empty() && who.iter().all(|w| *w == "bob_x@example.org"), "{who:?}");
    assert!(actions(&bobs).contains(&("secret.created".into(), "ok".into())));
    assert!(actions(&bobs).contains(&("sign-in".into(), "failed".into())));
    for literal in ["bob%x", "bobXx"] {
        let none = filtered(&app, &admin, &[("who", literal)]).await;
        assert_eq!(none["entries"].as_array().unwrap().len(), 0, "{literal} matched: {none}");
    }

    let failed = filtered(&app, &admin, &[("what", "sign-in"), ("outcome", "failed")]).await;
    assert_eq!(actions(&failed), vec![("sign-in".to_string(), "failed".to_string())]);

    // A group, across two pages: every entry is a secret's, the filter holds on the older page.
    let first = filtered(&app, &admin, &[("what", "secret")]).await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    assert!(actions(&first).iter().all(|(action, _)| action == "secret.created"));
    // `org_and_workspace` makes the workspace "Main workspace" (in the organization "filtered").
    assert_eq!(first["entries"][0]["workspace_name"], "Main workspace");
    let older = first["older_than"].as_i64().unwrap().to_string();
    let second = filtered(&app, &admin, &[("what", "secret"), ("older_than", &older)]).await;
    assert_eq!(actions(&second).len(), 53 - 50);
    assert!(actions(&second).iter().all(|(action, _)| action == "secret.created"));
    assert!(second["older_than"].is_null());

    // Time: nothing after tomorrow, everything since yesterday, nothing before the epoch's day 1.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let day = 86_400_000;
    let later = filtered(&app, &admin, &[("from", &(now + day).to_string())]).await;
    assert_eq!(later["entries"].as_array().unwrap().len(), 0);
    let recent = filtered(&app, &admin, &[("from", &(now - day).to_string()), ("what", "secret")]).await;
    assert_eq!(recent["entries"].as_array().unwrap().len(), 50);
    let ancient = filtered(&app, &admin, &[("to", &day.to_string())]).await;
    assert_eq!(ancient["entries"].as_array().unwrap().len(), 0);

    // The workspace tab takes the same filter, inside its own workspace only.
    let (org, ws) = (org_id.to_string(), ws_id.to_string());
    let response =
        app.sfn(&bob, "workspace_audit", &[("org_id", &org), ("workspace_id", &ws), ("who", "bob_x")]).await;
    let tab: Value = response.json().await.unwrap();
    assert_eq!(actions(&tab), vec![("secret.created".to_string(), "ok".to_string())], "{tab}");
}

#[tokio::test]
async fn an_action_whose_audit_entry_cannot_be_written_does_not_happen() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "rollback").await;
    // Make every audit insert fail, as a full disk or a lost connection would.
    if is_postgres() {
        app.run_sql(
            "CREATE FUNCTION audit_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no space'; END; $$ \
             LANGUAGE plpgsql",
        )
        .await;
        app.run_sql(
            "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_fail()",
        )
        .await;
    } else {
        app.run_sql(
            "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no space'); END",
        )
        .await;
    }
    let (status, body) = create_secret(&app, &admin, ws_id, "NEVER_STORED", "x").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let (status, _) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "never" })).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    app.run_sql(if is_postgres() {
        "DROP TRIGGER audit_fail ON audit_log"
    } else {
        "DROP TRIGGER audit_fail"
    })
    .await;

    let (_, list) = app.get_json(&admin, &format!("/api/pipeline-secrets?workspaceId={ws_id}")).await;
    assert_eq!(list["totalSize"], 0, "the secret was rolled back: {list}");
    let (_, tokens) = app.get_json(&admin, "/api/tokens").await;
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 0, "the token was rolled back: {tokens}");
    // And the chain is intact: the failed attempts left no gap.
    let (status, _) = create_secret(&app, &admin, ws_id, "STORED", "x").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verify(&app).await, Ok(4));
}

#[tokio::test]
async fn the_log_is_append_only_and_verify_names_the_first_altered_or_removed_entry() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "tamper").await;
    for name in ["SECRET_A", "SECRET_B", "SECRET_C"] {
        assert_eq!(create_secret(&app, &admin, ws_id, name, "x").await.0, StatusCode::OK);
    }
    assert_eq!(verify(&app).await, Ok(6));
    let intact = strongroom(&["audit", "verify"], &db_env(&app), None).await;
    assert!(intact.ok, "{}", intact.stderr);
    assert!(intact.stdout.contains("intact: 6 entries verified"), "{}", intact.stdout);
    // The database itself refuses changes and removals.
    let pool = pool(&app).await;
    for sql in
        ["UPDATE audit_log SET target = 'nothing' WHERE seq = 4", "DELETE FROM audit_log WHERE seq = 6"]
    {
        let error = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    pool.close().await;

    // Someone with the database's owner rights drops the guard and rewrites history.
    if is_postgres() {
        app.run_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await;
    } else {
        app.run_sql("DROP TRIGGER audit_log_no_update").await;
        app.run_sql("DROP TRIGGER audit_log_no_delete").await;
    }
    app.run_sql("UPDATE audit_log SET target = 'secret ''Z'' (id 9)' WHERE seq = 5").await;
    let broken = verify(&app).await.unwrap_err();
    assert_eq!(broken.seq, 5);
    assert!(broken.reason.contains("altered"), "{broken}");
    let named = strongroom(&["audit", "verify"], &db_env(&app), None).await;
    assert!(!named.ok, "verify exits non-zero on a broken chain");
    assert!(named.stderr.contains("audit entry #5 is broken"), "{}", named.stderr);

    let (_, page) = instance_audit(&app, &admin).await;
    let original = page["entries"].as_array().unwrap().iter().find(|e| e["seq"] == 5).unwrap().clone();
    assert_eq!(original["target"], "secret 'Z' (id 9)");
    app.run_sql("DELETE FROM audit_log WHERE seq = 5").await;
    let broken = verify(&app).await.unwrap_err();
    assert_eq!(broken.seq, 5);
    assert!(broken.reason.contains("missing"), "{broken}");
    app.run_sql("DELETE FROM audit_log WHERE seq = 6").await;
    app.run_sql("DELETE FROM audit_log WHERE seq = 4").await;
    let broken = verify(&app).await.unwrap_err();
    assert_eq!(broken.seq, 4, "{broken}");
    assert!(broken.reason.contains("removed"), "{broken}");
}

#[tokio::test]
async fn a_refusal_met_while_rendering_a_page_records_the_client_address() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "rendered").await;
    let viewer = app.user(&admin, "viewer@example.org").await;
    app.add_participant(&admin, org_id, ws_id, "viewer@example.org", "view").await;
    let page = app.get(&viewer, &format!("/orgs/{org_id}/workspaces/{ws_id}/audit")).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let (_, audit) = instance_audit(&app, &admin).await;
    let denied =
        audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "access.denied").unwrap().clone();
    assert_eq!(denied["actor"], "viewer@example.org");
    assert_eq!(denied["ip"], "127.0.0.1", "{denied}");
}
