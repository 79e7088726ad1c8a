//! Every secret value written here is a random canary, through the REST API and through the UI's
//! server functions, on happy and error paths, and copied by a launch; then every response body,
//! every page, the captured logs and the raw database bytes are searched for every canary.

use super::{contains, database_bytes, encodings, Recorder};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn no_secret_value_reaches_a_response_a_log_a_page_or_the_database() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "leaks").await;
    let maintainer = app.user(&admin, "maintainer@example.org").await;
    let viewer = app.user(&admin, "viewer@example.org").await;
    let launcher = app.user(&admin, "launcher@example.org").await;
    app.add_participant(&admin, org_id, ws_id, "maintainer@example.org", "maintain").await;
    app.add_participant(&admin, org_id, ws_id, "viewer@example.org", "view").await;
    app.add_participant(&admin, org_id, ws_id, "launcher@example.org", "launch").await;
    let ws = format!("?workspaceId={ws_id}");
    let ws_form = ws_id.to_string();
    let mut r = Recorder { app: &app, canaries: Vec::new(), bodies: Vec::new() };

    // A name is not secret: stored in plaintext, it proves the database scan can find a string.
    let control = format!("CTRL_{}", uuid::Uuid::new_v4().simple().to_string().to_uppercase());

    // Creates: REST and server functions, workspace and user scope, single- and multi-line values.
    let c = r.canary();
    let (status, body) = r
        .json(
            &admin,
            Method::POST,
            &format!("/api/pipeline-secrets{ws}"),
            json!({"name": control, "value": c}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let control_id = body["secretId"].as_i64().unwrap();
    let c = r.canary();
    let (status, body) = r
        .json(
            &maintainer,
            Method::POST,
            &format!("/api/pipeline-secrets{ws}"),
            json!({"name": "MAINT_KEY", "value": c}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let maint_id = body["secretId"].as_i64().unwrap();
    let c = r.canary();
    let multi_line = format!("-----BEGIN KEY-----\n{c}\n-----END KEY-----\n");
    let (status, body) = r
        .json(
            &viewer,
            Method::POST,
            "/api/pipeline-secrets",
            json!({"name": "VIEWER_OWN", "value": multi_line}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "viewers keep their own secrets: {body}");
    let viewer_own_id = body["secretId"].as_i64().unwrap();
    let c = r.canary();
    let (status, body) = r
        .sfn(&admin, "create_secret", &[("workspace_id", &ws_form), ("name", "UI_WS_KEY"), ("value", &c)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ui_ws_id = body.as_i64().unwrap();
    let c = r.canary();
    let (status, body) = r
        .sfn(&maintainer, "create_secret", &[("workspace_id", "0"), ("name", "UI_MINE"), ("value", &c)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ui_mine_id = body.as_i64().unwrap();

    // Updates with new canaries.
    let c = r.canary();
    let (status, _) = r
        .json(&admin, Method::PUT, &format!("/api/pipeline-secrets/{control_id}{ws}"), json!({"value": c}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let c = r.canary();
    let id = ui_mine_id.to_string();
    let (status, body) = r
        .sfn(&maintainer, "update_secret", &[("workspace_id", "0"), ("secret_id", &id), ("value", &c)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = r.canary();
    let id = ui_ws_id.to_string();
    let (status, body) = r
        .sfn(&maintainer, "update_secret", &[("workspace_id", &ws_form), ("secret_id", &id), ("value", &c)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Names, lists, descriptions.
    for name in [control.as_str(), "FREE_NAME", "BAD-NAME"] {
        r.json(&admin, Method::GET, &format!("/api/pipeline-secrets/validate{ws}&name={name}"), Value::Null)
            .await;
    }
    for who in [&admin, &maintainer, &viewer, &launcher] {
        let (status, list) =
            r.json(who, Method::GET, &format!("/api/pipeline-secrets{ws}"), Value::Null).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.to_string().contains(&control), "the response scan can find a name");
        r.json(who, Method::GET, "/api/pipeline-secrets", Value::Null).await;
        r.json(who, Method::GET, &format!("/api/pipeline-secrets/{control_id}{ws}"), Value::Null).await;
        r.sfn(who, "list_secrets", &[("workspace_id", &ws_form), ("search", "")]).await;
        r.sfn(who, "list_secrets", &[("workspace_id", "0"), ("search", "")]).await;
    }
    r.json(&viewer, Method::GET, &format!("/api/pipeline-secrets/{viewer_own_id}"), Value::Null).await;

    // Error paths, each carrying a canary.
    let c = r.canary();
    let (status, _) = r
        .json(
            &admin,
            Method::POST,
            &format!("/api/pipeline-secrets{ws}"),
            json!({"name": "MAINT_KEY", "value": c}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let c = r.canary();
    let (status, _) = r
        .sfn(&admin, "create_secret", &[("workspace_id", &ws_form), ("name", "UI_WS_KEY"), ("value", &c)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let c = r.canary();
    let too_long = format!("{c}{}", "x".repeat(64 * 1024));
    let (status, _) = r
        .json(
            &admin,
            Method::POST,
            &format!("/api/pipeline-secrets{ws}"),
            json!({"name": "TOO_LONG", "value": too_long}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let c = r.canary();
    let too_long = format!("{c}{}", "y".repeat(64 * 1024));
    let (status, _) = r
        .sfn(&admin, "create_secret", &[("workspace_id", "0"), ("name", "TOO_LONG_UI"), ("value", &too_long)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let c = r.canary();
    let (status, _) = r
        .json(
            &admin,
            Method::POST,
            &format!("/api/pipeline-secrets{ws}"),
            json!({"name": "1-BAD NAME", "value": c}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for (who, role) in [(&viewer, "view"), (&launcher, "launch")] {
        let c = r.canary();
        let (status, _) = r
            .json(
                who,
                Method::POST,
                &format!("/api/pipeline-secrets{ws}"),
                json!({"name": "FORBIDDEN", "value": c}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} creates");
        let c = r.canary();
        let (status, _) = r
            .json(who, Method::PUT, &format!("/api/pipeline-secrets/{control_id}{ws}"), json!({"value": c}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} updates");
        let c = r.canary();
        let (status, _) = r
            .sfn(who, "create_secret", &[("workspace_id", &ws_form), ("name", "FORBIDDEN_UI"), ("value", &c)])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} creates through the UI");
        let c = r.canary();
        let id = control_id.to_string();
        let (status, _) = r
            .sfn(who, "update_secret", &[("workspace_id", &ws_form), ("secret_id", &id), ("value", &c)])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} updates through the UI");
    }
    // Someone else's secret, and no caller at all.
    let c = r.canary();
    let (status, _) = r
        .json(&admin, Method::PUT, &format!("/api/pipeline-secrets/{viewer_own_id}"), json!({"value": c}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let c = r.canary();
    let (status, _) =
        r.json(&client(), Method::POST, "/api/pipeline-secrets", json!({"name": "ANON", "value": c})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let c = r.canary();
    let (status, _) =
        r.sfn(&client(), "create_secret", &[("workspace_id", "0"), ("name", "ANON"), ("value", &c)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a signed-out server-function call");
    // Malformed requests, whose parser errors could quote the input.
    let c = r.canary();
    let (status, _) = r
        .raw(
            &admin,
            Method::POST,
            "/api/pipeline-secrets",
            format!("{{\"name\": \"TRUNC\", \"value\": \"{c}"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let c = r.canary();
    let (status, _) = r
        .raw(&admin, Method::POST, "/api/pipeline-secrets", format!("{{\"name\": 7, \"value\": \"{c}\"}}"))
        .await;
    assert!(status.is_client_error(), "{status}");
    let c = r.canary();
    let (status, _) = r
        .raw(
            &admin,
            Method::PUT,
            &format!("/api/pipeline-secrets/{control_id}{ws}"),
            format!("{{\"value\": [\"{c}\"]}}"),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let c = r.canary();
    let (status, _) = r
        .sfn(
            &admin,
            "create_secret",
            &[("workspace_id", "not-a-number"), ("name", "BAD_FORM"), ("value", &c)],
        )
        .await;
    assert!(status.is_client_error() || status.is_server_error(), "{status}");
    let c = r.canary();
    let (status, _) =
        r.sfn(&admin, "update_secret", &[("workspace_id", "0"), ("secret_id", &c), ("value", &c)]).await;
    assert!(!status.is_success(), "{status}");

    // Deletes.
    let (status, _) = r
        .json(&maintainer, Method::DELETE, &format!("/api/pipeline-secrets/{maint_id}{ws}"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let id = ui_mine_id.to_string();
    let (status, body) =
        r.sfn(&maintainer, "delete_secret", &[("workspace_id", "0"), ("secret_id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A launch copies the control secret's canary value to the local HPC store; the run's
    // answers and pages, while it is live and after it is cancelled, never carry it.
    let launch = json!({"launch": {"pipeline": "nf-core/leaks", "workspaceSecrets": [control]}});
    let (status, body) = r.json(&launcher, Method::POST, &format!("/api/workflow/launch{ws}"), launch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wf = body["workflowId"].as_str().unwrap().to_string();
    let mut store = None;
    for _ in 0..400 {
        let (_, run) = r.json(&launcher, Method::GET, &format!("/api/workflow/{wf}{ws}"), Value::Null).await;
        if run["cleanupStage"] == "launched" {
            store = run["launchEnvironment"]["NXF_SECRETS_FILE"].as_str().map(std::path::PathBuf::from);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let store = store.expect("the launch reached its compute environment");
    let copied = std::fs::read(&store).unwrap();
    assert!(
        r.canaries.iter().any(|c| contains(&copied, c)),
        "the copy holds the value: the run path really ran"
    );
    let run_page = format!("/orgs/{org_id}/workspaces/{ws_id}/runs/{wf}");
    r.page(&launcher, "launcher", &run_page).await;
    let (status, _) =
        r.json(&launcher, Method::POST, &format!("/api/workflow/{wf}/cancel{ws}"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Every page, as the administrator and as members of each kind.
    let base = format!("/orgs/{org_id}/workspaces/{ws_id}");
    let pages = [
        "/".to_string(),
        base.clone(),
        format!("{base}/secrets"),
        format!("{base}/members"),
        format!("{base}/settings"),
        format!("{base}/runs"),
        run_page.clone(),
        "/user/secrets".into(),
        "/account".into(),
    ];
    for (whose, who) in
        [("admin", &admin), ("maintainer", &maintainer), ("viewer", &viewer), ("launcher", &launcher)]
    {
        for path in &pages {
            let html = r.page(who, whose, path).await;
            if path.ends_with("/secrets") && path.starts_with("/orgs") {
                assert!(html.contains(&control), "the page scan can find a name ({whose} {path})");
            }
        }
    }
    r.page(&admin, "admin", "/admin/users").await;

    // Nowhere: responses, logs, database.
    assert!(r.canaries.len() >= 25, "{} canaries", r.canaries.len());
    let logs = captured_logs();
    assert!(logs.contains("secret created"), "the log scan has the secret service's lines to search");
    let database = database_bytes(&app).await;
    assert!(
        database.iter().any(|(_, bytes)| contains(bytes, &control)),
        "the database scan finds the control name, so it would find a plaintext value"
    );
    let mut leaks = Vec::new();
    for canary in &r.canaries {
        for (what, body) in &r.bodies {
            if body.contains(canary.as_str()) {
                leaks.push(format!("response of {what}"));
            }
        }
        if logs.contains(canary.as_str()) {
            let line = logs.lines().find(|l| l.contains(canary.as_str())).unwrap_or_default();
            leaks.push(format!("log line: {}", line.replace(canary.as_str(), "<CANARY>")));
        }
        for (file, bytes) in &database {
            for (i, form) in encodings(canary).iter().enumerate() {
                if contains(bytes, form) {
                    leaks.push(format!("{file} (encoding #{i})"));
                }
            }
        }
    }
    leaks.dedup();
    assert!(leaks.is_empty(), "secret values leaked to: {leaks:#?}");

    // The values are in the database, as ciphertext: one sealed value per live secret, none of
    // them the plaintext (checked above), and the rejected writes stored nothing.
    let (_, list) = app.get_json(&admin, &format!("/api/pipeline-secrets{ws}")).await;
    let names: Vec<&str> =
        list["pipelineSecrets"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    let mut names = names.into_iter().map(String::from).collect::<Vec<_>>();
    names.sort();
    let mut expected = vec![control.clone(), "UI_WS_KEY".to_string()];
    expected.sort();
    assert_eq!(names, expected);
    assert_ciphertexts(&app).await;
}

/// Every secret row holds a non-empty ciphertext and wrapped key.
async fn assert_ciphertexts(app: &TestApp) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let rows: Vec<(String, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT name, wrapped_key, ciphertext FROM secrets").fetch_all(&pool).await.unwrap();
    pool.close().await;
    // control, UI_WS_KEY, VIEWER_OWN (MAINT_KEY and UI_MINE were deleted).
    assert_eq!(rows.len(), 3, "{:?}", rows.iter().map(|r| &r.0).collect::<Vec<_>>());
    for (name, wrapped_key, ciphertext) in rows {
        assert!(!wrapped_key.is_empty() && ciphertext.len() > 16, "{name} is sealed");
    }
}
