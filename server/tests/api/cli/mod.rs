//! The `strongroom` binary itself: the `secrets` API client against a running app, `admin token`
//! and `keys rotate` next to the app's database, and the key given in `STRONGROOM_KEY`. This
//! module runs the binary and opens what it stored, for these tests and for others that use it.

mod admin_token;
mod keys;
mod secrets;

use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::json;
use server::crypto::{Binding, Kek, Sealed};
use std::os::unix::fs::OpenOptionsExt;
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
pub(crate) async fn open_all(app: &TestApp, kek: &Kek) -> Vec<(String, String, Result<String, String>)> {
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
