//! Issue 10, items 1 and 6: a launch command gets none of the server's secrets and runs as the
//! launch account, which cannot read the key or the database; HPC work directories stay under
//! the allowed roots; nothing under `.strongroom` is followed through a link; each install
//! touches only its own run directories; cleanup leaves no temporary store or launch log.

use crate::helpers::*;
use crate::runs::{create_secret, launch, quick_jobs, stage, wait_for};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

async fn wait_for_file(path: &Path) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "{} never appeared", path.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An HPC environment made by the instance administrator; returns its id.
async fn hpc_env(app: &TestApp, admin: &Client, ws: i64, name: &str, config: Value) -> String {
    let body = json!({ "computeEnv": { "name": name, "platform": "slurm-platform", "config": config } });
    let (status, created) =
        app.send_json(admin, Method::POST, &format!("/api/compute-envs?workspaceId={ws}"), body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created["computeEnvId"].as_str().unwrap().to_string()
}

/// The run's store path, once every copy is in place.
async fn launched_store(app: &TestApp, admin: &Client, ws: i64, body: Value) -> (String, PathBuf) {
    let (status, answer) = launch(app, admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let wf = answer["workflowId"].as_str().unwrap().to_string();
    let run = wait_for(app, admin, ws, &wf, |r| stage(r) == "launched").await;
    let store = PathBuf::from(run["launchEnvironment"]["NXF_SECRETS_FILE"].as_str().unwrap());
    (wf, store)
}

async fn cancel_and_wait_cleaned(app: &TestApp, admin: &Client, ws: i64, wf: &str) -> Value {
    let path = format!("/api/workflow/{wf}/cancel?workspaceId={ws}");
    let (status, body) = app.send_json(admin, Method::POST, &path, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    wait_for(app, admin, ws, wf, |r| stage(r) == "cleaned").await
}

#[tokio::test]
async fn a_launch_command_gets_none_of_the_servers_secrets_and_cannot_read_the_key_or_database() {
    // Variables the server process holds that must never reach the command (names only: the
    // real key and database URL are checked by value below).
    std::env::set_var("STRONGROOM_HPC_TEST_CANARY", "strongroom-canary-value");
    std::env::set_var("DATABASE_URL_HPC_TEST_CANARY", "database-canary-value");
    std::env::set_var("AWS_HPC_TEST_CANARY", "aws-canary-value");
    std::env::set_var("SR_HPC_TEST_ALLOWED", "allowed-value");
    std::env::set_var("SR_HPC_TEST_UNLISTED", "unlisted-value");
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.launch_env_allow = vec!["SR_HPC_TEST_ALLOWED".into()];
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "LICENCE", "licence-value-17").await;
    let work_dir = app.launch_work_dir("nosy");
    let key_file = app.key_file();
    let database_file = app.data_dir.path().join("test.db");
    let out = |name: &str| work_dir.join(name);
    let command = format!(
        "env > {env}; id -u > {uid}; id -G > {groups}; \
         if cat {key} > /dev/null 2>&1; then echo read > {key_out}; else echo refused > {key_out}; fi; \
         if cat {db} > /dev/null 2>&1; then echo read > {db_out}; else echo refused > {db_out}; fi; \
         echo done > {done}",
        env = out("env.txt").display(),
        uid = out("uid.txt").display(),
        groups = out("groups.txt").display(),
        key = key_file.display(),
        key_out = out("key.txt").display(),
        db = database_file.display(),
        db_out = out("db.txt").display(),
        done = out("done.txt").display(),
    );
    let config = json!({ "workDir": work_dir.display().to_string(), "launchCommand": command });
    let env_id = hpc_env(&app, &admin, ws, "slurm", config).await;
    let (wf, store) = launched_store(
        &app,
        &admin,
        ws,
        json!({
            "pipeline": "nf-core/demo",
            "runName": "nosy_run",
            "computeEnvId": env_id,
            "workspaceSecrets": ["LICENCE"],
        }),
    )
    .await;
    wait_for_file(&out("done.txt")).await;

    let env = std::fs::read_to_string(out("env.txt")).unwrap();
    let key_b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&key_file).unwrap())
    };
    for forbidden in ["STRONGROOM_", "DATABASE_URL", "AWS_", "GOOGLE_", "canary-value", "unlisted-value"] {
        assert!(!env.contains(forbidden), "{forbidden} reached the launch command:\n{env}");
    }
    assert!(!env.contains(&app.database_url) && !env.contains(&key_b64), "{env}");
    for expected in [
        "SR_HPC_TEST_ALLOWED=allowed-value".to_string(),
        format!("TOWER_WORKFLOW_ID={wf}"),
        "TOWER_ACCESS_TOKEN=".into(),
        "SR_PIPELINE=nf-core/demo".into(),
        "SR_RUN_NAME=nosy_run".into(),
        format!("NXF_SECRETS_FILE={}", store.display()),
        "PATH=".into(),
        "HOME=".into(),
    ] {
        assert!(env.lines().any(|l| l.starts_with(&expected)), "{expected} is missing:\n{env}");
    }
    // It ran as the launch account, without root's groups, and could read neither file.
    let (uid, gid) = ensure_launch_account();
    assert_eq!(std::fs::read_to_string(out("uid.txt")).unwrap().trim(), uid.to_string());
    assert_eq!(std::fs::read_to_string(out("groups.txt")).unwrap().trim(), gid.to_string());
    assert_eq!(std::fs::read_to_string(out("key.txt")).unwrap().trim(), "refused");
    assert_eq!(std::fs::read_to_string(out("db.txt")).unwrap().trim(), "refused");

    // Its log is private to the launch account, in the run directory, and goes with the run.
    let run_dir = store.parent().unwrap().to_path_buf();
    let log = run_dir.join("launch.log");
    assert_eq!(mode(&log), 0o600);
    assert_eq!(std::fs::metadata(&log).unwrap().uid(), uid, "the launch account owns its log");
    assert_eq!(std::fs::metadata(&store).unwrap().uid(), uid, "and the store it reads");
    cancel_and_wait_cleaned(&app, &admin, ws, &wf).await;
    assert!(!log.exists() && !run_dir.exists(), "the launch log and the run directory are gone");
    let logs = captured_logs();
    assert!(!logs.contains("licence-value-17") && !logs.contains(&key_b64));
}

#[tokio::test]
async fn as_root_without_a_launch_account_launch_commands_are_refused_and_the_check_says_so() {
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.launch_account = None;
    })
    .await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let work_dir = app.launch_work_dir("unowned");
    let ran = work_dir.join("ran");
    let config = json!({
        "workDir": work_dir.display().to_string(),
        "launchCommand": format!("touch {}", ran.display()),
    });
    let env_id = hpc_env(&app, &admin, ws, "slurm", config).await;

    let path = format!("/api/compute-envs/{env_id}/validate?workspaceId={ws}");
    let (status, check) = app.send_json(&admin, Method::POST, &path, json!({})).await;
    assert_eq!((status, check["status"].as_str()), (StatusCode::OK, Some("INVALID")), "{check}");
    assert!(check["message"].as_str().unwrap().contains("STRONGROOM_LAUNCH_ACCOUNT"), "{check}");

    let (status, body) = launch(&app, &admin, ws, json!({ "pipeline": "p", "computeEnvId": env_id })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("STRONGROOM_LAUNCH_ACCOUNT"), "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!ran.exists(), "the command never ran");

    // The same environment without a command is fine: only launch commands need the account.
    let (status, _) = app
        .send_json(
            &admin,
            Method::PUT,
            &format!("/api/compute-envs/{env_id}?workspaceId={ws}"),
            json!({ "config": { "workDir": work_dir.display().to_string() } }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, check) = app.send_json(&admin, Method::POST, &path, json!({})).await;
    assert_eq!(check["status"], "AVAILABLE", "{check}");
}

#[tokio::test]
async fn work_dirs_outside_the_roots_are_refused_without_saying_what_exists() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let owner = app.user(&admin, "owner@example.com").await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    // The instance administrator takes part too, to set the launch command.
    app.add_participant(&owner, org, ws, ADMIN_EMAIL, "admin").await;
    let path = format!("/api/compute-envs?workspaceId={ws}");
    let mut messages = Vec::new();
    for (platform, dir) in [
        ("slurm-platform", "/etc"),
        ("lsf-platform", "/root"),
        ("altair-platform", "/no/such/directory"),
        ("slurm-platform", "/"),
    ] {
        let body =
            json!({ "computeEnv": { "name": "hpc", "platform": platform, "config": { "workDir": dir } } });
        let (status, answer) = app.send_json(&owner, Method::POST, &path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{dir}: {answer}");
        let message = answer["message"].as_str().unwrap().to_string();
        assert!(
            message.contains("workDir must be under a directory an instance administrator allowed"),
            "{message}"
        );
        messages.push(message);
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "one answer whatever exists: {messages:?}");
    assert!(!messages[0].contains("/etc"), "{}", messages[0]);

    // Inside a root is fine; moving an environment that has a launch command is not the owner's call.
    let inside = app.work_root.path().join("lab").display().to_string();
    let body = json!({
        "computeEnv": { "name": "hpc", "platform": "slurm-platform", "config": { "workDir": inside } }
    });
    let (status, answer) = app.send_json(&owner, Method::POST, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let env_id = answer["computeEnvId"].as_str().unwrap().to_string();
    let env_path = format!("/api/compute-envs/{env_id}?workspaceId={ws}");
    let with_command = |dir: &str| json!({ "config": { "workDir": dir, "launchCommand": "sbatch run.sh" } });
    let (status, _) = app.send_json(&admin, Method::PUT, &env_path, with_command(&inside)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the instance administrator adds a command");
    let elsewhere = app.work_root.path().join("elsewhere").display().to_string();
    let (status, answer) = app.send_json(&owner, Method::PUT, &env_path, with_command(&elsewhere)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("instance administrator"), "{answer}");
    let (status, _) = app.send_json(&admin, Method::PUT, &env_path, with_command(&elsewhere)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn links_planted_under_strongroom_are_left_alone_and_nothing_outside_is_touched() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "TOKEN_A", "aaaa").await;
    // Outside: a directory with what looks like a store, and a store file of its own.
    let outside = app.data_dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o700)).unwrap();
    let outside_store = outside.join("secrets.json");
    let outside_text = r#"[{"name":"TOKEN_A","value":"not yours"}]"#;
    std::fs::write(&outside_store, outside_text).unwrap();
    std::fs::set_permissions(&outside_store, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(outside.join("secrets.json.tmp-1"), "keep").unwrap();
    std::fs::write(outside.join(".nf-1.secrets"), "keep").unwrap();

    let (wf, store) =
        launched_store(&app, &admin, ws, json!({ "pipeline": "p", "workspaceSecrets": ["TOKEN_A"] })).await;
    let run_dir = store.parent().unwrap().to_path_buf();
    let install_dir = run_dir.parent().unwrap().to_path_buf();
    // A run directory that is a link to the outside, for a run this database never knew.
    let planted = install_dir.join("PlantedRun0001");
    std::os::unix::fs::symlink(&outside, &planted).unwrap();
    // A real run directory whose store is a link to the outside store.
    let linked_store_dir = install_dir.join("LinkedStore001");
    std::fs::create_dir(&linked_store_dir).unwrap();
    std::fs::set_permissions(&linked_store_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&outside_store, linked_store_dir.join("secrets.json")).unwrap();
    // The live run's own directory swapped for a link to the outside while it runs.
    std::fs::rename(&run_dir, app.data_dir.path().join("moved-run-dir")).unwrap();
    std::os::unix::fs::symlink(&outside, &run_dir).unwrap();

    let services = app.services().await;
    server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    let run = cancel_and_wait_cleaned(&app, &admin, ws, &wf).await;
    assert_eq!(run["workflow"]["status"], "CANCELLED");
    server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();

    assert!(std::fs::symlink_metadata(&planted).unwrap().file_type().is_symlink(), "the planted link stays");
    assert!(std::fs::symlink_metadata(&run_dir).unwrap().file_type().is_symlink(), "so does the swapped one");
    assert_eq!(
        std::fs::read_to_string(&outside_store).unwrap(),
        outside_text,
        "the outside store is untouched"
    );
    assert_eq!(mode(&outside_store), 0o600);
    assert!(outside.join("secrets.json.tmp-1").exists() && outside.join(".nf-1.secrets").exists());
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 3, "nothing was added outside");
}

#[tokio::test]
async fn cleanup_removes_leftover_temporary_stores_and_keeps_strongroom_private() {
    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "TOKEN_A", "aaaa").await;
    let (wf, store) =
        launched_store(&app, &admin, ws, json!({ "pipeline": "p", "workspaceSecrets": ["TOKEN_A"] })).await;
    let run_dir = store.parent().unwrap().to_path_buf();
    let strongroom_dir = run_dir.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(strongroom_dir.ends_with(".strongroom"), "{}", strongroom_dir.display());
    assert_eq!(mode(&strongroom_dir), 0o700, ".strongroom is private");
    assert_eq!(mode(run_dir.parent().unwrap()), 0o700, "and so is the install's directory");
    assert_eq!(mode(&run_dir), 0o700);
    // What a crash between writing and renaming leaves (names of this and of older versions).
    for leftover in ["secrets.tmp-x", "secrets.json.tmp-y"] {
        std::fs::write(run_dir.join(leftover), r#"[{"name":"TOKEN_A","value":"aaaa"}]"#).unwrap();
    }
    cancel_and_wait_cleaned(&app, &admin, ws, &wf).await;
    assert!(!run_dir.exists(), "the temporary stores went with the run directory");
}

#[tokio::test]
async fn the_reconciler_leaves_another_installs_live_store_in_a_shared_work_dir_alone() {
    let ours = spawn_app_with(quick_jobs).await;
    let shared_root = ours.work_root.path().to_path_buf();
    let theirs = spawn_app_with(|c| {
        quick_jobs(c);
        c.hpc_work_roots.push(shared_root.clone());
    })
    .await;
    let shared = shared_root.join("shared").display().to_string();
    // Both installs have an environment on the same work directory.
    let our_admin = ours.setup_admin().await;
    let (_, our_ws) = ours.org_and_workspace(&our_admin, "lab").await;
    hpc_env(&ours, &our_admin, our_ws, "shared", json!({ "workDir": shared })).await;
    let their_admin = theirs.setup_admin().await;
    let (_, their_ws) = theirs.org_and_workspace(&their_admin, "lab").await;
    create_secret(&theirs, &their_admin, Some(their_ws), "THEIRS", "their-value").await;
    let env_id = hpc_env(&theirs, &their_admin, their_ws, "shared", json!({ "workDir": shared })).await;
    let (_, their_store) = launched_store(
        &theirs,
        &their_admin,
        their_ws,
        json!({ "pipeline": "p", "computeEnvId": env_id, "workspaceSecrets": ["THEIRS"] }),
    )
    .await;

    // To our install their run is unknown, which would make it an orphan if we looked there.
    let services = ours.services().await;
    let report = server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    assert_eq!(report.deleted, 0, "{report:?}");
    let text = std::fs::read_to_string(&their_store).unwrap();
    assert!(text.contains("their-value"), "their live store is intact");
}
