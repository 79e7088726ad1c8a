//! Item 5: nobody borrows the Strongroom host's own cloud identity unless an instance
//! administrator allowed it for the workspace, and an AssumeRole made through it carries the
//! external id Strongroom generated for the workspace (checked on the wire, through a recording
//! proxy in front of moto, since moto does not check external ids).

use super::{
    add_credentials, add_env, call, cancel, copies_in_default_account, id, set_host_identity, warm_up_batch,
    EXEC_ROLE, KEYS,
};
use crate::fakes::moto::Moto;
use crate::helpers::*;
use crate::runs::{create_secret, launch, quick_jobs, stage, wait_for};
use app::model::{ComputeConfig, Platform};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::crypto::SecretBytes;
use server::providers::{self, CopySpec, HostIdentity, ProviderError, Target};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/strongroom";

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
        job_queue: Some(crate::fakes::moto::QUEUE.into()),
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
                managed_identity: None,
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
