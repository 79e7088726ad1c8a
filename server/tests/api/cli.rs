//! The `strongroom` binary itself: the `secrets` API client against a running app, `admin token`
//! and `keys rotate` next to the app's database, and the key given in `STRONGROOM_KEY`.

use crate::helpers::*;
use base64::Engine;
use reqwest::{Client, Method, StatusCode};
use secrecy::{ExposeSecret, SecretBox};
use serde_json::{json, Value};
use server::config::Config;
use server::crypto::{Binding, Kek, Sealed};
use server::startup::Application;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

pub(crate) struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with exactly `env` (nothing inherited but PATH), feeding `stdin` if given.
pub(crate) async fn strongroom(args: &[&str], env: &[(&str, String)], stdin: Option<&str>) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the strongroom binary runs");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).await.unwrap();
        drop(pipe);
    }
    let output = child.wait_with_output().await.unwrap();
    Output {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What a command next to the database needs: the app's database, data directory and key file.
pub(crate) fn db_env(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", app.database_url.clone()),
        ("STRONGROOM_DATA_DIR", app.data_dir.path().display().to_string()),
        ("STRONGROOM_KEY_FILE", app.key_file().display().to_string()),
    ]
}

fn strongroom_env(app: &TestApp, token: &str) -> Vec<(&'static str, String)> {
    vec![("STRONGROOM_URL", app.url("")), ("STRONGROOM_ACCESS_TOKEN", token.to_string())]
}

async fn api_token(app: &TestApp, who: &Client, name: &str) -> String {
    let (status, body) = app.send_json(who, Method::POST, "/api/tokens", json!({ "name": name })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["accessKey"].as_str().unwrap().to_string()
}

fn bearer(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

/// A fresh random key file with mode 0600.
pub(crate) fn new_key_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).unwrap();
    std::io::Write::write_all(&mut file, &key).unwrap();
    path
}

pub(crate) fn kek_from(path: &Path) -> Kek {
    Kek::new(server::crypto::kek_file::load(path).unwrap())
}

async fn pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.database_url).await.unwrap()
}

type Row = (i64, String, String, Option<i64>, Option<i64>, i64, String, Vec<u8>, Vec<u8>);

/// Every secret row, opened with `kek`: (name, key id, plaintext or the error).
async fn open_all(app: &TestApp, kek: &Kek) -> Vec<(String, String, Result<String, String>)> {
    let pool = pool(app).await;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, scope, workspace_id, user_id, version, key_id, wrapped_key, ciphertext \
         FROM secrets ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut opened: Vec<_> = rows
        .into_iter()
        .map(|(id, name, scope, ws, user, version, key_id, wrapped_key, ciphertext)| {
            let owner_id = if scope == "workspace" { ws.unwrap() } else { user.unwrap() };
            let binding = Binding::secret(&scope, owner_id, id, version);
            let sealed = Sealed { key_id: key_id.clone(), wrapped_key, ciphertext };
            let opened = kek
                .open(&sealed, &binding)
                .map(|v| String::from_utf8(v.expose_secret().to_vec()).unwrap())
                .map_err(|e| e.to_string());
            (name, key_id, opened)
        })
        .collect();
    opened.sort_by(|a, b| a.0.cmp(&b.0));
    opened
}

async fn key_states(app: &TestApp) -> Vec<(String, i64)> {
    let pool = pool(app).await;
    let rows = sqlx::query_as("SELECT key_id, active FROM encryption_keys ORDER BY key_id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

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

#[tokio::test]
async fn admin_token_prints_only_a_token_the_api_accepts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user(&admin, "bot@example.org").await;
    let out = strongroom(
        &["admin", "token", "--email", "Bot@Example.org", "--name", "automation", "--expires-in-days", "7"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let token = out.stdout.trim();
    assert_eq!(out.stdout.lines().count(), 1, "only the token on stdout: {}", out.stdout);
    assert!(token.starts_with("sr_"), "{token}");
    assert!(out.stderr.contains("shown once") && !out.stderr.contains(token), "{}", out.stderr);
    let (status, info) = app.get_json(&bearer(token), "/api/user-info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["user"]["email"], "bot@example.org");

    let (_, tokens) = app.get_json(&app.login("bot@example.org", PASSWORD).await, "/api/tokens").await;
    assert_eq!(tokens["tokens"][0]["name"], "automation");
    assert!(tokens["tokens"][0]["expiresAt"].is_string(), "{tokens}");

    let out =
        strongroom(&["admin", "token", "--email", "nobody@example.org", "--name", "x"], &db_env(&app), None)
            .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("no user with the email nobody@example.org"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let out = strongroom(
        &["admin", "token", "--email", "bot@example.org", "--name", "automation"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("already have a token named"), "{}", out.stderr);
}

#[tokio::test]
async fn the_key_can_come_from_strongroom_key_instead_of_a_file() {
    let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let secret_key = key.clone();
    let app = spawn_app_with(move |config| config.key = Some(secret_key.into())).await;
    let admin = app.setup_admin().await;
    let token = api_token(&app, &admin, "cli").await;
    let out = strongroom(
        &["secrets", "add", "--name", "ENV_KEYED", "--value-file", "-"],
        &strongroom_env(&app, &token),
        Some("v"),
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(!app.key_file().exists(), "no key file is created when STRONGROOM_KEY is set");
    let kek = Kek::new(SecretBox::new(Box::new([42u8; 32])));
    assert_eq!(open_all(&app, &kek).await[0].2.as_deref(), Ok("v"));

    // The binary reads STRONGROOM_KEY too, and it wins over a (wrong) key file.
    let mut env = db_env(&app);
    let wrong = new_key_file(app.data_dir.path(), "wrong.key");
    env[2].1 = wrong.display().to_string();
    env.push(("STRONGROOM_KEY", key.clone()));
    let out = strongroom(&["admin", "token", "--email", ADMIN_EMAIL, "--name", "env"], &env, None).await;
    assert!(out.ok, "{}", out.stderr);
    env.pop();
    let out = strongroom(&["admin", "token", "--email", ADMIN_EMAIL, "--name", "file"], &env, None).await;
    assert!(
        !out.ok && out.stderr.contains("is not the key this database is encrypted with"),
        "{}",
        out.stderr
    );

    env.push(("STRONGROOM_KEY", "dGhpcyBpcyBub3QgMzIgYnl0ZXM=".into()));
    let out = strongroom(&["admin", "token", "--email", ADMIN_EMAIL, "--name", "short"], &env, None).await;
    assert!(!out.ok && out.stderr.contains("exactly 32 bytes"), "{}", out.stderr);
    assert!(!out.stderr.contains("dGhpcyBpcyBub3Qg"), "{}", out.stderr);
}

/// Creates `n` user secrets and `n` workspace secrets through the API; returns their values by name.
async fn many_secrets(app: &TestApp, admin: &Client, n: usize) -> Vec<(String, String)> {
    let (_, ws_id) = app.org_and_workspace(admin, "genomics").await;
    let mut made = Vec::new();
    for i in 0..n {
        for (scope, prefix) in [(String::new(), "MINE"), (format!("?workspaceId={ws_id}"), "WS")] {
            let (name, value) = (format!("{prefix}_{i}"), format!("value-{prefix}-{i}"));
            let (status, body) = app
                .send_json(
                    admin,
                    Method::POST,
                    &format!("/api/pipeline-secrets{scope}"),
                    json!({"name": name, "value": value}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            made.push((name, value));
        }
    }
    made.sort();
    made
}

/// A config for a second app on the same database, with `key_file`.
fn config_for(app: &TestApp, key_file: PathBuf) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: app.data_dir.path().to_path_buf(),
        database_url: Some(app.database_url.clone()),
        key_file: Some(key_file),
        ..Config::default()
    }
}

#[tokio::test]
async fn key_rotation_rewraps_every_secret_in_batches_and_retires_the_old_key() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let made = many_secrets(&app, &admin, 4).await;
    let old = kek_from(&app.key_file());
    let keys_dir = tempfile::tempdir().unwrap();
    let new_file = new_key_file(keys_dir.path(), "new.key");
    let new = kek_from(&new_file);
    let new_path = new_file.display().to_string();

    let out = strongroom(
        &["keys", "rotate", "--new-key-file", &new_path, "--batch-size", "3"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let progress: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("re-wrapped")).collect();
    assert_eq!(
        progress,
        ["re-wrapped 0 of 8", "re-wrapped 3 of 8", "re-wrapped 6 of 8", "re-wrapped 8 of 8"]
    );
    assert!(out.stdout.contains(&format!("point STRONGROOM_KEY_FILE at {new_path}")), "{}", out.stdout);

    let opened = open_all(&app, &new).await;
    assert_eq!(opened.len(), made.len());
    for ((name, key_id, value), (made_name, made_value)) in opened.iter().zip(&made) {
        assert_eq!(name, made_name);
        assert_eq!(key_id, new.id(), "{name} moved to the new key");
        assert_eq!(value.as_deref(), Ok(made_value.as_str()), "{name} is intact");
    }
    let mut expected = vec![(old.id().to_string(), 0), (new.id().to_string(), 1)];
    expected.sort();
    assert_eq!(key_states(&app).await, expected);

    // Running it again is harmless.
    let out = strongroom(&["keys", "rotate", "--new-key-file", &new_path], &db_env(&app), None).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("re-wrapped 8 of 8"), "{}", out.stdout);

    // A server with the new key starts; one with the old key is refused with a clear message.
    let restarted = Application::build(config_for(&app, new_file.clone())).await;
    assert!(restarted.is_ok(), "{:#}", restarted.err().unwrap());
    let refused = Application::build(config_for(&app, app.key_file())).await;
    let message = format!("{:#}", refused.err().expect("the old key is refused"));
    assert!(message.contains("retired by a key rotation"), "{message}");
    assert!(message.contains(new.id()), "{message}");
}

#[tokio::test]
async fn an_interrupted_key_rotation_resumes_and_never_overwrites_a_newer_value() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let made = many_secrets(&app, &admin, 3).await;
    let old = kek_from(&app.key_file());
    let keys_dir = tempfile::tempdir().unwrap();
    let new_file = new_key_file(keys_dir.path(), "new.key");
    let new = kek_from(&new_file);
    let new_path = new_file.display().to_string();

    let out = strongroom(
        &["keys", "rotate", "--new-key-file", &new_path, "--batch-size", "2", "--max-batches", "1"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("re-wrapped 2 of 6") && out.stdout.contains("Run the same command again"),
        "{}",
        out.stdout
    );
    let opened = open_all(&app, &new).await;
    let moved = opened.iter().filter(|(_, key_id, _)| key_id == new.id()).count();
    let stayed = opened.iter().filter(|(_, key_id, _)| key_id == old.id()).count();
    assert_eq!((moved, stayed), (2, 4));
    let mut states = key_states(&app).await;
    states.sort_by_key(|(id, _)| id != old.id());
    assert_eq!(states, [(old.id().to_string(), 1), (new.id().to_string(), 2)], "old active, new the target");

    // Meanwhile the running server (old key) keeps serving: it replaces a value that was already
    // moved, sealing it under the old key again; the rerun moves it again, with the newer value.
    let (_, mine) = app.get_json(&admin, "/api/pipeline-secrets").await;
    let first = mine["pipelineSecrets"].as_array().unwrap().iter().find(|s| s["name"] == "MINE_0").unwrap();
    let first_id = first["id"].as_i64().unwrap();
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &format!("/api/pipeline-secrets/{first_id}"),
            json!({"value": "newer"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A re-wrap computed from a row read before that update (an older version) is not stored.
    let pool = pool(&app).await;
    let version: i64 = sqlx::query_scalar("SELECT version FROM secrets WHERE id = $1")
        .bind(first_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let stored = server::db::key_rotation::store_rewrapped(
        &mut tx,
        server::db::key_rotation::SealedTable::Secrets,
        first_id,
        version - 1,
        old.id(),
        new.id(),
        b"stale",
    )
    .await
    .unwrap();
    assert!(!stored, "a stale re-wrap never overwrites a newer value");
    tx.commit().await.unwrap();
    pool.close().await;
    // During the rotation both keys start a server.
    for key in [app.key_file(), new_file.clone()] {
        let started = Application::build(config_for(&app, key)).await;
        assert!(started.is_ok(), "{:#}", started.err().unwrap());
    }

    let out = strongroom(
        &["keys", "rotate", "--new-key-file", &new_path, "--batch-size", "2"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.starts_with("re-wrapped 1 of 6"), "resumes where it stopped: {}", out.stdout);
    assert!(out.stdout.contains("re-wrapped 6 of 6"), "{}", out.stdout);
    let opened = open_all(&app, &new).await;
    for ((name, key_id, value), (_, made_value)) in opened.iter().zip(&made) {
        assert_eq!(key_id, new.id(), "{name}");
        let expected = if name == "MINE_0" { "newer" } else { made_value.as_str() };
        assert_eq!(value.as_deref(), Ok(expected), "{name}");
    }
    let refused = Application::build(config_for(&app, app.key_file())).await;
    assert!(refused.is_err(), "the old key is retired once the rotation finishes");
}

#[tokio::test]
async fn key_rotation_refuses_a_readable_key_file_or_the_same_key() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let keys_dir = tempfile::tempdir().unwrap();
    let loose = new_key_file(keys_dir.path(), "loose.key");
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out =
        strongroom(&["keys", "rotate", "--new-key-file", &loose.display().to_string()], &db_env(&app), None)
            .await;
    assert!(!out.ok && out.stderr.contains("chmod 600"), "{}", out.stderr);
    let same = app.key_file().display().to_string();
    let out = strongroom(&["keys", "rotate", "--new-key-file", &same], &db_env(&app), None).await;
    assert!(!out.ok && out.stderr.contains("already in use"), "{}", out.stderr);
}
