//! Item 7: credentials a run still needs cannot be deleted, and a run's cleanup uses the keys it
//! provisioned with even after they were replaced with another account's (moto keeps accounts
//! apart by the account of the credentials: an AssumeRole into `111111111111` reaches another
//! account than the default `123456789012`); a key rotation moves those kept versions too.

use super::{add_credentials, add_env, call, cancel, copies_in_default_account, id, warm_up_batch, KEYS};
use crate::cli::{db_env, kek_from, new_key_file, strongroom};
use crate::fakes::moto::Moto;
use crate::helpers::*;
use crate::runs::{create_secret, launch, quick_jobs, stage, wait_for};
use reqwest::{Client, Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use server::crypto::{Binding, Sealed};

/// A role in another moto account: credentials assumed into it reach account 111111111111.
const OTHER_ACCOUNT_ROLE: &str = "arn:aws:iam::111111111111:role/other-account";

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// Credentials with moto's keys (default account), an environment on them, a workspace secret,
/// and a launched run: (credentials id, environment id, workflow id).
async fn launched_run(app: &TestApp, admin: &Client, ws: i64, moto: &Moto) -> (String, String, String) {
    warm_up_batch(moto).await;
    let (status, creds) =
        add_credentials(app, admin, ws, "first-account", json!({ "accessKey": KEYS.0, "secretKey": KEYS.1 }))
            .await;
    assert_eq!(status, StatusCode::OK, "{creds}");
    let creds_id = id(&creds, "credentialsId");
    let (status, env) = add_env(app, admin, ws, "aws", Some(&creds_id), Some(&moto.endpoint)).await;
    assert_eq!(status, StatusCode::OK, "{env}");
    let env_id = id(&env, "computeEnvId");
    create_secret(app, admin, Some(ws), "DB_PASS", "first-account-value").await;
    let body = json!({ "pipeline": "nf-core/demo", "runName": "nightly-1", "computeEnvId": env_id,
        "workspaceSecrets": ["DB_PASS"] });
    let (status, launched) = launch(app, admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = id(&launched, "workflowId");
    wait_for(app, admin, ws, &wf, |r| stage(r) == "launched").await;
    assert_eq!(copies_in_default_account(moto, &wf).await, [format!("tower-{wf}/DB_PASS")]);
    (creds_id, env_id, wf)
}

#[tokio::test]
async fn credentials_a_run_still_needs_cannot_be_deleted() {
    let moto = Moto::start().await;
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let (creds_id, env_id, wf) = launched_run(&app, &admin, ws, &moto).await;
    // The environment goes; the run still has copies made with these keys.
    let (status, _) = call(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/compute-envs/{env_id}?workspaceId={ws}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let path = format!("/api/credentials/{creds_id}?workspaceId={ws}");
    let (status, body) = call(&app, &admin, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["credentialsId"], creds_id.as_str());
    assert_eq!(body["conflicts"], json!([{ "type": "workflow", "id": wf, "name": "nightly-1" }]));
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(&wf) && message.contains("nightly-1"), "{message}");

    // Once the run is cleaned (its copies deleted with these keys), they can go.
    cancel(&app, &admin, ws, &wf).await;
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert!(copies_in_default_account(&moto, &wf).await.is_empty());
    let (status, body) = call(&app, &admin, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn a_run_cleans_up_with_the_keys_it_provisioned_with_after_they_are_replaced() {
    let moto = Moto::start().await;
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let (creds_id, env_id, wf) = launched_run(&app, &admin, ws, &moto).await;

    // Mid-run, the keys become another account's (their own role into 111111111111), which has
    // a job queue of the same name for the head jobs of the runs launched with them.
    moto.create_queue_in("111111111111", crate::fakes::moto::QUEUE).await;
    let other = json!({ "accessKey": KEYS.0, "secretKey": KEYS.1, "assumeRoleArn": OTHER_ACCOUNT_ROLE });
    let (status, body) = call(
        &app,
        &admin,
        Method::PUT,
        &format!("/api/credentials/{creds_id}?workspaceId={ws}"),
        json!({ "credentials": { "keys": other } }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credential_versions").await, 1, "the first version is kept");

    // A server that has not opened the run's store yet (a restart, another replica) opens it with
    // the kept version: it lists the run's copy, which is in the first account.
    let target = {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
        let target: String = sqlx::query_scalar("SELECT target FROM runs WHERE id = $1")
            .bind(&wf)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        server::providers::RunTarget::from_json(&target).expect("the stored target parses")
    };
    let fresh = app.services().await;
    let store = fresh.store_for(ws, &target).await.expect("the run's store opens");
    let listed = store.list_managed().await.expect("the first account lists");
    assert!(listed.iter().any(|copy| copy.workflow_id == wf), "{listed:?}");

    // Cleanup deletes the copy in the first account, where it was made (listed there directly).
    cancel(&app, &admin, ws, &wf).await;
    let run = wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert!(run["secretCopies"].as_array().unwrap().iter().all(|c| c["state"] == "deleted"), "{run:#}");
    assert!(
        copies_in_default_account(&moto, &wf).await.is_empty(),
        "the first account holds no copy any more"
    );
    // Deleted right after the run is cleaned (the run page may show `cleaned` a moment before).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(&app, "SELECT COUNT(*) FROM credential_versions").await > 0 {
        assert!(std::time::Instant::now() < deadline, "the kept version outlived the run that needed it");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // New launches use the new keys: their copies are in the other account, not the first.
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env_id, "workspaceSecrets": ["DB_PASS"] });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let second = id(&launched, "workflowId");
    wait_for(&app, &admin, ws, &second, |r| stage(r) == "launched").await;
    assert!(copies_in_default_account(&moto, &second).await.is_empty(), "not in the first account");
    cancel(&app, &admin, ws, &second).await;
    wait_for(&app, &admin, ws, &second, |r| stage(r) == "cleaned").await;
}

#[tokio::test]
async fn key_rotation_moves_the_kept_versions_too() {
    let moto = Moto::start().await;
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let (creds_id, _, _) = launched_run(&app, &admin, ws, &moto).await;
    let replaced = json!({ "accessKey": KEYS.0, "secretKey": "second-secret-key" });
    let (status, _) = call(
        &app,
        &admin,
        Method::PUT,
        &format!("/api/credentials/{creds_id}?workspaceId={ws}"),
        json!({ "credentials": { "keys": replaced } }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let keys_dir = tempfile::tempdir().unwrap();
    let new_file = new_key_file(keys_dir.path(), "new.key");
    let (old, new) = (kek_from(&app.key_file()), kek_from(&new_file));
    let out = strongroom(
        &["keys", "rotate", "--new-key-file", &new_file.display().to_string()],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    // credentials id, workspace id, version, key id, wrapped key, ciphertext
    type SealedVersionRow = (i64, i64, i64, String, Vec<u8>, Vec<u8>);
    let (credentials_id, workspace_id, version, key_id, wrapped_key, ciphertext): SealedVersionRow =
        sqlx::query_as(
            "SELECT credentials_id, workspace_id, version, key_id, wrapped_key, ciphertext \
             FROM credential_versions",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!((credentials_id.to_string(), version), (creds_id, 1));
    assert_eq!(key_id, new.id(), "the kept version moved to the new key");
    let binding = Binding::credentials(workspace_id, credentials_id, version);
    let sealed = Sealed { key_id, wrapped_key, ciphertext };
    assert!(old.open(&sealed, &binding).is_err());
    let keys: Value = serde_json::from_slice(new.open(&sealed, &binding).unwrap().expose_secret()).unwrap();
    assert_eq!(keys["secretKey"], KEYS.1, "the first version's keys, intact");
}
