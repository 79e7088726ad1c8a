//! `keys rotate` moves credentials too: their data keys are re-wrapped under the new key and the
//! keys documents open with it, bound to their own rows.

use crate::cli::{db_env, kek_from, new_key_file, strongroom};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use server::crypto::{Binding, Sealed};

#[tokio::test]
async fn key_rotation_rewraps_credentials_with_the_secrets() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    for i in 0..3 {
        let body = json!({"credentials": {"name": format!("aws-{i}"), "provider": "aws", "keys": {
            "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": format!("secret-{i}")
        }}});
        let (status, answer) =
            app.send_json(&admin, Method::POST, &format!("/api/credentials?workspaceId={ws_id}"), body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (status, _) = app
        .send_json(&admin, Method::POST, "/api/pipeline-secrets", json!({"name": "MINE", "value": "v"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let old = kek_from(&app.key_file());
    let keys_dir = tempfile::tempdir().unwrap();
    let new_file = new_key_file(keys_dir.path(), "new.key");
    let new = kek_from(&new_file);

    let out = strongroom(
        &["keys", "rotate", "--new-key-file", &new_file.display().to_string(), "--batch-size", "2"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let progress: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("re-wrapped")).collect();
    assert_eq!(
        progress,
        ["re-wrapped 0 of 4", "re-wrapped 1 of 4", "re-wrapped 3 of 4", "re-wrapped 4 of 4"]
    );

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    // id, workspace id, name, version, key id, wrapped key, ciphertext
    type SealedCredentialsRow = (i64, i64, String, i64, String, Vec<u8>, Vec<u8>);
    let rows: Vec<SealedCredentialsRow> = sqlx::query_as(
        "SELECT id, workspace_id, name, version, key_id, wrapped_key, ciphertext FROM credentials \
         ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(rows.len(), 3);
    for (i, (id, workspace_id, name, version, key_id, wrapped_key, ciphertext)) in
        rows.into_iter().enumerate()
    {
        assert_eq!(key_id, new.id(), "{name} moved to the new key");
        let binding = Binding::credentials(workspace_id, id, version);
        let sealed = Sealed { key_id, wrapped_key, ciphertext };
        assert!(old.open(&sealed, &binding).is_err(), "{name} no longer opens with the old key");
        let keys: Value =
            serde_json::from_slice(new.open(&sealed, &binding).unwrap().expose_secret()).unwrap();
        assert_eq!(keys["secretKey"], format!("secret-{i}"), "{name} is intact");
    }
    // The credentials still work through the API with a server on the new key.
    let (status, list) = app.get_json(&admin, &format!("/api/credentials?workspaceId={ws_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["credentials"].as_array().unwrap().len(), 3);
}
