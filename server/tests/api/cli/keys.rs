//! The encryption key: given in `STRONGROOM_KEY` instead of a file (for the app and the binary),
//! and `strongroom keys rotate`, which re-wraps every secret in batches, resumes after an
//! interruption without overwriting a newer value, retires the old key, and refuses a readable
//! key file or the key already in use.

use super::{api_token, db_env, kek_from, new_key_file, open_all, pool, strongroom, strongroom_env};
use crate::helpers::*;
use base64::Engine;
use reqwest::{Client, Method, StatusCode};
use secrecy::SecretBox;
use serde_json::json;
use server::config::Config;
use server::crypto::Kek;
use server::startup::Application;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

async fn key_states(app: &TestApp) -> Vec<(String, i64)> {
    let pool = pool(app).await;
    let rows = sqlx::query_as("SELECT key_id, active FROM encryption_keys ORDER BY key_id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
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
