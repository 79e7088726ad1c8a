//! Issue 10, items 5 and 7, against the real app and moto.
//!
//! Item 5: nobody borrows the Strongroom host's own cloud identity unless an instance
//! administrator allowed it for the workspace, and an AssumeRole made through it carries the
//! external id Strongroom generated for the workspace (checked on the wire, through a recording
//! proxy in front of moto, since moto does not check external ids).
//!
//! Item 7: credentials a run still needs cannot be deleted, and a run's cleanup uses the keys it
//! provisioned with even after they were replaced with another account's (moto keeps accounts
//! apart by the account of the credentials: an AssumeRole into `111111111111` reaches another
//! account than the default `123456789012`).

use crate::cli::{db_env, kek_from, new_key_file, strongroom};
use crate::fakes::moto::Moto;
use crate::helpers::*;
use crate::runs::{create_secret, launch, quick_jobs, stage, wait_for};
use app::model::{ComputeConfig, Platform};
use reqwest::{Client, Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use server::crypto::{Binding, Sealed, SecretBytes};
use server::providers::{self, CopySpec, HostIdentity, ProviderError, Target};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/strongroom-exec";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/strongroom";
/// A role in another moto account: credentials assumed into it reach account 111111111111.
const OTHER_ACCOUNT_ROLE: &str = "arn:aws:iam::111111111111:role/other-account";
const KEYS: (&str, &str) = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

/// A TCP proxy to moto that keeps every byte the app sent, to check what went on the wire.
struct Recorder {
    endpoint: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    async fn start(upstream: &str) -> Recorder {
        // On the emulators' address, which the test apps list in `endpoint_allow`.
        let listener = tokio::net::TcpListener::bind((crate::helpers::EMULATOR_HOST, 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = sent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, log) = (upstream.clone(), log.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    });
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = client_read.read(&mut buf).await {
                        if n == 0 || server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
            }
        });
        Recorder { endpoint, sent }
    }

    fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

/// A shared-credentials file standing in for the host's own identity.
fn host_credentials_file(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("host-aws-credentials");
    std::fs::write(
        &file,
        "[default]\naws_access_key_id = AKIAHOSTIDENTITY0001\naws_secret_access_key = host-secret\n",
    )
    .unwrap();
    file
}

async fn call(app: &TestApp, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    if body.is_null() {
        let response = who.request(method, app.url(path)).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    } else {
        app.send_json(who, method, path, body).await
    }
}

/// An instance administrator lets the workspace use the host identity (for tests of other
/// things that use role-only credentials or environments without credentials).
pub(crate) async fn allow_host_identity(app: &TestApp, instance_admin: &Client, ws: i64) {
    let (status, body) = set_host_identity(app, instance_admin, ws, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn set_host_identity(app: &TestApp, who: &Client, ws: i64, allowed: bool) -> (StatusCode, Value) {
    call(app, who, Method::PUT, &format!("/api/workspaces/{ws}/host-identity"), json!({ "allowed": allowed }))
        .await
}

async fn add_credentials(
    app: &TestApp,
    who: &Client,
    ws: i64,
    name: &str,
    keys: Value,
) -> (StatusCode, Value) {
    let body = json!({ "credentials": { "name": name, "provider": "aws", "keys": keys } });
    call(app, who, Method::POST, &format!("/api/credentials?workspaceId={ws}"), body).await
}

async fn add_env(
    app: &TestApp,
    who: &Client,
    ws: i64,
    name: &str,
    credentials_id: Option<&str>,
    endpoint: Option<&str>,
) -> (StatusCode, Value) {
    let config = json!({ "region": "us-east-1", "computeQueue": "queue-1", "executionRole": EXEC_ROLE,
        "endpointUrl": endpoint });
    let body = json!({ "computeEnv": { "name": name, "platform": "aws-batch", "credentialsId": credentials_id,
        "config": config } });
    call(app, who, Method::POST, &format!("/api/compute-envs?workspaceId={ws}"), body).await
}

fn id(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_else(|| panic!("no {field} in {body}")).to_string()
}

async fn copies_in_default_account(moto: &Moto, workflow_id: &str) -> Vec<String> {
    let client = moto.secrets_client().await;
    let listed = client.list_secrets().include_planned_deletion(true).send().await.unwrap();
    listed
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .filter(|n| n.contains(workflow_id))
        .map(String::from)
        .collect()
}

/// moto answers its first Batch request slowly (it loads the Batch backend), which on a busy
/// machine can outlast the app's 10 s attempt timeout: make that first request from the test.
async fn warm_up_batch(moto: &Moto) {
    moto.batch_client().await.describe_job_definitions().send().await.expect("moto's Batch answers");
}

async fn cancel(app: &TestApp, who: &Client, ws: i64, wf: &str) {
    let (status, body) =
        call(app, who, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn the_host_identity_needs_an_instance_administrators_grant_for_the_workspace() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    // Any user can own a workspace: this one is its owner, not an instance administrator.
    let owner = app.user(&admin, "owner@example.org").await;
    let (_, ws) = app.org_and_workspace(&owner, "mine").await;
    let role_only = json!({ "assumeRoleArn": ROLE_ARN });

    // Refused without the grant: role-only credentials, and an environment with no credentials.
    let (status, body) = add_credentials(&app, &owner, ws, "host-role", role_only.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("instance administrator must allow"), "{body}");
    let (status, body) = add_env(&app, &owner, ws, "ambient", None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("instance administrator must allow"), "{body}");
    // Own keys need no grant, and their own external id stays theirs.
    let own = json!({
        "accessKey": KEYS.0,
        "secretKey": KEYS.1,
        "assumeRoleArn": ROLE_ARN,
        "externalId": "their-own-id",
    });
    let (status, body) = add_credentials(&app, &owner, ws, "own-keys", own).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own_id = id(&body, "credentialsId");
    // Replacing own keys by role-only ones is the same borrowing.
    let (status, body) = call(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/credentials/{own_id}?workspaceId={ws}"),
        json!({ "credentials": { "keys": role_only } }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Only an instance administrator grants.
    let (status, body) = set_host_identity(&app, &owner, ws, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, granted) = set_host_identity(&app, &admin, ws, true).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["hostIdentityAllowed"], true);
    let external_id = id(&granted, "externalId");
    assert!(external_id.starts_with("strongroom-") && external_id.len() > 30, "{external_id}");
    let (status, _) = set_host_identity(&app, &admin, ws + 1000, true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Granted: a user-typed external id is refused with the workspace's own.
    let typed = json!({ "assumeRoleArn": ROLE_ARN, "externalId": "chosen-by-user" });
    let (status, body) = add_credentials(&app, &owner, ws, "host-role", typed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains(&external_id), "{body}");
    let (status, body) =
        add_credentials(&app, &owner, ws, "host-role", json!({ "assumeRoleArn": ROLE_ARN })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let host_id = id(&body, "credentialsId");
    let (status, env) = add_env(&app, &owner, ws, "host-env", Some(&host_id), None).await;
    assert_eq!(status, StatusCode::OK, "{env}");
    let env_id = id(&env, "computeEnvId");
    let (status, body) = add_env(&app, &owner, ws, "ambient", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Workspace admins see the id to put in the role's trust policy; own keys show their own.
    let (_, list) =
        call(&app, &owner, Method::GET, &format!("/api/credentials?workspaceId={ws}"), Value::Null).await;
    let keys_of = |name: &str| {
        list["credentials"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["keys"].clone()
    };
    assert_eq!(keys_of("host-role")["externalId"], external_id.as_str());
    assert_eq!(keys_of("own-keys")["externalId"], "their-own-id");
    let (_, described) =
        call(&app, &owner, Method::GET, &format!("/api/credentials/{host_id}?workspaceId={ws}"), Value::Null)
            .await;
    assert_eq!(described["credentials"]["keys"]["externalId"], external_id.as_str());

    // Withdrawn: new uses are refused again, and an existing environment no longer opens (the
    // launch's preflight says why), whatever the rows say.
    let (status, body) = set_host_identity(&app, &admin, ws, false).await;
    assert_eq!((status, body["externalId"].as_str()), (StatusCode::OK, Some(external_id.as_str())), "{body}");
    let (status, _) = add_env(&app, &owner, ws, "ambient-2", None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        launch(&app, &owner, ws, json!({ "pipeline": "nf-core/demo", "computeEnvId": env_id })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("instance administrator has not allowed"), "{body}");
    // Given again, the id is the same one (trust policies that name it keep working).
    let (_, again) = set_host_identity(&app, &admin, ws, true).await;
    assert_eq!(again["externalId"], external_id.as_str());
}

fn aws_config(endpoint: &str) -> ComputeConfig {
    ComputeConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        execution_role_arn: Some(EXEC_ROLE.into()),
        job_queue: Some("queue-1".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_store_sends_the_generated_external_id_through_the_host_identity_and_refuses_without_grant() {
    let moto = Moto::start().await;
    let recorder = Recorder::start(&moto.endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let file = host_credentials_file(dir.path());
    let config = aws_config(&recorder.endpoint);
    let open = |keys: &'static str, host_identity: HostIdentity<'static>| {
        let config = config.clone();
        async move {
            let keys = SecretBytes::from(keys.as_bytes().to_vec());
            providers::open(Target {
                platform: Platform::AwsBatch,
                config: &config,
                credentials: Some(&keys),
                install_id: "strongroom-test-install",
                host_identity,
            })
            .await
        }
    };
    let role_with_typed_id =
        r#"{"assumeRoleArn":"arn:aws:iam::123456789012:role/strongroom","externalId":"chosen-by-user"}"#;

    // Without the grant the store does not open (defence in depth behind the services' checks).
    match open(role_with_typed_id, HostIdentity::Refused).await {
        Err(ProviderError::Rejected(message)) => {
            assert!(message.contains("instance administrator"), "{message}")
        }
        Err(other) => panic!("expected Rejected, got {other:?}"),
        Ok(_) => panic!("the host identity was used without a grant"),
    }

    // Allowed: the AssumeRole carries the workspace's id, never the typed one.
    let file: &'static std::path::Path = Box::leak(file.into_boxed_path());
    let allowed =
        HostIdentity::Allowed { external_id: "strongroom-generated-0001", credentials_file: Some(file) };
    let store = open(role_with_typed_id, allowed).await.expect("opens with the grant");
    let copy = CopySpec { workflow_id: "wf0000000000A1", name: "DB_PASS" };
    store
        .create_copy(copy, &SecretBytes::from(b"v".to_vec()))
        .await
        .expect("the copy is made through the role");
    let sent = recorder.sent();
    assert!(sent.contains("Action=AssumeRole"), "an AssumeRole went out");
    assert!(sent.contains("ExternalId=strongroom-generated-0001"), "{sent}");
    assert!(!sent.contains("chosen-by-user"), "the typed external id never leaves");
    assert!(sent.contains("AKIAHOSTIDENTITY0001"), "signed with the host identity's keys");

    // Own keys: the user's external id is theirs to choose, with or without a grant.
    let own = concat!(
        r#"{"accessKey":"AKIAIOSFODNN7EXAMPLE","secretKey":"x","#,
        r#""assumeRoleArn":"arn:aws:iam::123456789012:role/strongroom","externalId":"their-own-id"}"#,
    );
    let store = open(own, HostIdentity::Refused).await.expect("own keys need no grant");
    store.create_copy(CopySpec { name: "OTHER", ..copy }, &SecretBytes::from(b"v".to_vec())).await.unwrap();
    assert!(recorder.sent().contains("ExternalId=their-own-id"));
}

#[tokio::test]
async fn a_granted_workspace_launches_through_the_host_identity_with_its_external_id() {
    let moto = Moto::start().await;
    warm_up_batch(&moto).await;
    let recorder = Recorder::start(&moto.endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let file = host_credentials_file(dir.path());
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.aws_host_credentials_file = Some(file);
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let (_, granted) = set_host_identity(&app, &admin, ws, true).await;
    let external_id = id(&granted, "externalId");
    let (status, creds) =
        add_credentials(&app, &admin, ws, "host-role", json!({ "assumeRoleArn": ROLE_ARN })).await;
    assert_eq!(status, StatusCode::OK, "{creds}");
    let (status, env) =
        add_env(&app, &admin, ws, "host-env", Some(&id(&creds, "credentialsId")), Some(&recorder.endpoint))
            .await;
    assert_eq!(status, StatusCode::OK, "{env}");
    create_secret(&app, &admin, Some(ws), "DB_PASS", "through-the-host").await;

    let body = json!({
        "pipeline": "nf-core/demo",
        "computeEnvId": id(&env, "computeEnvId"),
        "workspaceSecrets": ["DB_PASS"],
    });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = id(&launched, "workflowId");
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "launched").await;
    assert_eq!(copies_in_default_account(&moto, &wf).await, [format!("tower-{wf}/DB_PASS")]);
    let sent = recorder.sent();
    assert!(sent.contains(&format!("ExternalId={external_id}")), "the AssumeRole carries the workspace's id");
    cancel(&app, &admin, ws, &wf).await;
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    assert!(copies_in_default_account(&moto, &wf).await.is_empty());
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

    // Mid-run, the keys become another account's (their own role into 111111111111).
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
