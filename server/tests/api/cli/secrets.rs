//! `strongroom secrets` against a running app: your own secrets with `STRONGROOM_*` variables,
//! a workspace's with `TOWER_*` variables or `--workspace`, and a clear sentence (never a token)
//! for bad tokens, unknown names, the server's refusals and unreachable servers.

use super::{api_token, kek_from, open_all, strongroom, strongroom_env};
use crate::helpers::*;
use serde_json::Value;

fn names(list: &Value) -> Vec<String> {
    list["pipelineSecrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn secrets_cli_manages_your_own_secrets_with_strongroom_variables() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let token = api_token(&app, &admin, "cli").await;
    let env = strongroom_env(&app, &token);
    let kek = kek_from(&app.key_file());

    let canary = "stdin-value-c4n4ry";
    let out =
        strongroom(&["secrets", "add", "--name", "FROM_STDIN", "--value-file", "-"], &env, Some(canary))
            .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("Created secret 'FROM_STDIN'"), "{}", out.stdout);
    assert!(!out.stdout.contains(canary) && !out.stderr.contains(canary));

    let value_file = app.data_dir.path().join("value.txt");
    std::fs::write(&value_file, "line one\nline two\n").unwrap();
    let path = value_file.display().to_string();
    let out = strongroom(&["secrets", "add", "--name", "FROM_FILE", "--value-file", &path], &env, None).await;
    assert!(out.ok, "{}", out.stderr);

    let out = strongroom(&["secrets", "list"], &env, None).await;
    assert!(out.ok, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("LAST USED"), "{}", out.stdout);
    assert!(lines[1].starts_with("FROM_FILE") && lines[1].ends_with("never"), "{}", out.stdout);
    assert!(lines[2].starts_with("FROM_STDIN"), "{}", out.stdout);
    let out = strongroom(&["secrets", "list", "--json"], &env, None).await;
    let listed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(names(&listed), ["FROM_FILE", "FROM_STDIN"]);
    assert_eq!(listed["totalSize"], 2);

    // The values stored are exactly what was given (one trailing newline dropped).
    let opened = open_all(&app, &kek).await;
    assert_eq!(opened[0].2.as_deref(), Ok("line one\nline two"));
    assert_eq!(opened[1].2.as_deref(), Ok(canary));

    let out =
        strongroom(&["secrets", "update", "--name", "FROM_STDIN", "--value-file", "-"], &env, Some("new\n"))
            .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("Updated secret 'FROM_STDIN'"), "{}", out.stdout);
    assert_eq!(open_all(&app, &kek).await[1].2.as_deref(), Ok("new"));

    let out = strongroom(&["secrets", "delete", "--name", "FROM_FILE"], &env, None).await;
    assert!(out.ok, "{}", out.stderr);
    let (_, listed) = app.get_json(&admin, "/api/pipeline-secrets").await;
    assert_eq!(names(&listed), ["FROM_STDIN"]);
}

#[tokio::test]
async fn secrets_cli_manages_workspace_secrets_with_tower_variables_and_the_flag() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let (_, other_ws) = app.org_and_workspace(&admin, "proteomics").await;
    let token = api_token(&app, &admin, "tower").await;
    let tower = vec![
        ("TOWER_API_ENDPOINT", app.url("/api")),
        ("TOWER_ACCESS_TOKEN", token.clone()),
        ("TOWER_WORKSPACE_ID", ws_id.to_string()),
    ];

    let out =
        strongroom(&["secrets", "add", "--name", "WS_SECRET", "--value-file", "-"], &tower, Some("v1")).await;
    assert!(out.ok, "{}", out.stderr);
    let (_, listed) = app.get_json(&admin, &format!("/api/pipeline-secrets?workspaceId={ws_id}")).await;
    assert_eq!(names(&listed), ["WS_SECRET"]);
    let (_, mine) = app.get_json(&admin, "/api/pipeline-secrets").await;
    assert_eq!(names(&mine), Vec::<String>::new(), "not among the caller's own secrets");

    // `--workspace` wins over TOWER_WORKSPACE_ID; STRONGROOM_* win over TOWER_* (a bogus token here).
    let mut mixed = tower.clone();
    mixed[1].1 = "sr_bogus".into();
    mixed.push(("STRONGROOM_URL", format!("{}/", app.url(""))));
    mixed.push(("STRONGROOM_ACCESS_TOKEN", token.clone()));
    let other = other_ws.to_string();
    let out = strongroom(
        &["secrets", "add", "--workspace", &other, "--name", "WS_SECRET", "--value-file", "-"],
        &mixed,
        Some("other"),
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let (_, listed) = app.get_json(&admin, &format!("/api/pipeline-secrets?workspaceId={other_ws}")).await;
    assert_eq!(names(&listed), ["WS_SECRET"]);

    let out =
        strongroom(&["secrets", "update", "--name", "WS_SECRET", "--value-file", "-"], &tower, Some("v2"))
            .await;
    assert!(out.ok, "{}", out.stderr);
    let kek = kek_from(&app.key_file());
    let values: Vec<String> = open_all(&app, &kek).await.into_iter().map(|(_, _, v)| v.unwrap()).collect();
    assert!(values.contains(&"v2".to_string()) && values.contains(&"other".to_string()), "{values:?}");

    let out = strongroom(&["secrets", "list", "--json"], &tower, None).await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(names(&serde_json::from_str(&out.stdout).unwrap()), ["WS_SECRET"]);
    let out = strongroom(&["secrets", "delete", "--name", "WS_SECRET"], &tower, None).await;
    assert!(out.ok, "{}", out.stderr);
    let (_, listed) = app.get_json(&admin, &format!("/api/pipeline-secrets?workspaceId={ws_id}")).await;
    assert_eq!(names(&listed), Vec::<String>::new());
    let (_, listed) = app.get_json(&admin, &format!("/api/pipeline-secrets?workspaceId={other_ws}")).await;
    assert_eq!(names(&listed), ["WS_SECRET"], "the other workspace's secret is untouched");
}

#[tokio::test]
async fn secrets_cli_explains_bad_tokens_unknown_names_refusals_and_unreachable_servers() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let token = api_token(&app, &admin, "cli").await;

    let bad = strongroom_env(&app, "sr_not-a-real-token");
    let out = strongroom(&["secrets", "list"], &bad, None).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("(HTTP 401)"), "{}", out.stderr);
    assert!(!out.stderr.contains("sr_not-a-real-token"), "{}", out.stderr);

    let env = strongroom_env(&app, &token);
    let out = strongroom(&["secrets", "delete", "--name", "NOPE"], &env, None).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("there is no secret named 'NOPE' in your own secrets"), "{}", out.stderr);
    let out = strongroom(
        &["secrets", "update", "--workspace", "999", "--name", "NOPE", "--value-file", "-"],
        &env,
        Some("v"),
    )
    .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("(HTTP 40"), "the server's refusal for an unknown workspace: {}", out.stderr);

    // The server's own message for an invalid name, and for a duplicate.
    let out =
        strongroom(&["secrets", "add", "--name", "BAD-NAME", "--value-file", "-"], &env, Some("v")).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("(HTTP 400)"), "{}", out.stderr);
    strongroom(&["secrets", "add", "--name", "TWICE", "--value-file", "-"], &env, Some("v")).await;
    let out = strongroom(&["secrets", "add", "--name", "TWICE", "--value-file", "-"], &env, Some("v")).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("(HTTP 409)"), "{}", out.stderr);

    // Nothing listens on a port we just released.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = strongroom(
        &["secrets", "list"],
        &[("STRONGROOM_URL", dead.clone()), ("STRONGROOM_ACCESS_TOKEN", token.clone())],
        None,
    )
    .await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains(&format!("could not reach the Strongroom server at {dead}/api/")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&token));

    let out = strongroom(&["secrets", "list"], &[("STRONGROOM_ACCESS_TOKEN", token.clone())], None).await;
    assert!(!out.ok && out.stderr.contains("set STRONGROOM_URL"), "{}", out.stderr);
    // A value is never accepted as an argument.
    let out = strongroom(&["secrets", "add", "--name", "X_Y", "--value", "v"], &env, None).await;
    assert!(!out.ok);
}
