//! Issue 10, item 3: one dead or hostile endpoint must not stop cleanup for everyone. Small
//! in-test servers play the bad endpoints: one accepts connections and never answers, one
//! answers every listing with "there is another page". Deadlines are shortened by settings so
//! each test takes seconds.

use crate::fakes::aws_env::{aws_env, EXEC_ROLE};
use crate::fakes::bad_endpoints::{answering_server, host_port, silent_server};
use crate::fakes::moto::warm_moto;
use crate::helpers::*;
use crate::runs::{create_secret, describe, launch, quick_jobs, stage, wait_for};
use app::model::{ComputeConfig, Platform};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use server::providers::{self, ProviderError, Target};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// One answer that pages forever in Secrets Manager (`NextToken`), Batch (`nextToken`) and
/// Google Secret Manager (`nextPageToken`) alike.
const PAGE_FOREVER: &str = r#"{"SecretList":[],"NextToken":"more","jobDefinitions":[],"nextToken":"more",
    "secrets":[],"versions":[],"nextPageToken":"more"}"#;

/// Core on the test's database with short deadlines, to drive the reconciler directly.
pub async fn quick_services(app: &TestApp, extra_allow: &[String]) -> server::domain::Core {
    let mut endpoint_allow: Vec<String> = EMULATOR_ALLOW.iter().map(|e| e.to_string()).collect();
    endpoint_allow.extend(extra_allow.iter().cloned());
    let config = server::config::Config {
        data_dir: app.data_dir.path().to_path_buf(),
        database_url: Some(app.database_url.clone()),
        reconcile_grace_secs: 0,
        reconcile_target_budget_secs: 2,
        provider_call_timeout_ms: 1000,
        endpoint_allow,
        ..Default::default()
    };
    server::startup::build_core(&config).await.expect("services on the test database")
}

fn workflow_id(launched: &Value) -> String {
    launched["workflowId"].as_str().unwrap().to_string()
}

/// Launches a run with `secrets` on `env` and waits until its copies are in place.
async fn launched_run(app: &TestApp, admin: &Client, ws: i64, env: &str, secrets: &[&str]) -> String {
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": secrets });
    let (status, launched) = launch(app, admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = workflow_id(&launched);
    wait_for(app, admin, ws, &wf, |r| stage(r) == "launched").await;
    wf
}

async fn cancel(app: &TestApp, admin: &Client, ws: i64, wf: &str) {
    let path = format!("/api/workflow/{wf}/cancel?workspaceId={ws}");
    let (status, body) = app.send_json(admin, Method::POST, &path, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// Aims a workspace's runs and environments at another endpoint, as if it had changed under
/// them (a launch through a dead endpoint would fail at its preflight).
pub async fn re_aim(app: &TestApp, ws: i64, from: &str, to: &str) {
    for table in ["runs SET target = REPLACE(target", "compute_envs SET config = REPLACE(config"] {
        app.run_sql(&format!("UPDATE {table}, '{from}', '{to}') WHERE workspace_id = {ws}")).await;
    }
}

#[tokio::test]
async fn a_dead_or_endlessly_paging_endpoint_holds_up_neither_other_runs_nor_the_reconciler() {
    let moto = warm_moto().await;
    let silent = silent_server().await;
    let pager = answering_server(200, vec![], PAGE_FOREVER).await;
    let extra = vec![host_port(&silent), host_port(&pager)];
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        // As many dead copies as workers: without a deadline every worker would sit on one.
        c.workers = 2;
        c.provider_call_timeout_ms = 1000;
        c.endpoint_allow.extend(extra.clone());
    })
    .await;
    let admin = app.setup_admin().await;

    let mut bad = Vec::new();
    for (name, endpoint) in [("dead", &silent), ("pager", &pager)] {
        let (_, ws) = app.org_and_workspace(&admin, name).await;
        let env = aws_env(&app, &admin, ws, &moto.endpoint).await;
        create_secret(&app, &admin, Some(ws), "ONE", "v1").await;
        create_secret(&app, &admin, Some(ws), "TWO", "v2").await;
        let wf = launched_run(&app, &admin, ws, &env, &["ONE", "TWO"]).await;
        re_aim(&app, ws, &moto.endpoint, endpoint).await;
        cancel(&app, &admin, ws, &wf).await;
        bad.push((ws, wf));
    }

    // Another workspace on a healthy target: provisioned and cleaned in seconds.
    let (_, ws) = app.org_and_workspace(&admin, "healthy").await;
    let env = aws_env(&app, &admin, ws, &moto.endpoint).await;
    create_secret(&app, &admin, Some(ws), "GOOD", "fine").await;
    // Timed from the launch's answer (its preflight runs in the request, not in the workers).
    let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["GOOD"] });
    let (status, launched) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{launched}");
    let wf = workflow_id(&launched);
    let started = Instant::now();
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "launched").await;
    let provisioned = started.elapsed();
    cancel(&app, &admin, ws, &wf).await;
    wait_for(&app, &admin, ws, &wf, |r| stage(r) == "cleaned").await;
    let took = started.elapsed();
    eprintln!("healthy run: provisioned in {provisioned:?}, cleaned after {took:?}");
    assert!(took < Duration::from_secs(12), "the healthy run took {took:?} (provisioned in {provisioned:?})");
    for (ws, wf) in &bad {
        let run = describe(&app, &admin, *ws, wf).await;
        assert_ne!(stage(&run), "cleaned", "a bad endpoint cannot have finished: {run:#}");
    }

    // A leftover of an unknown run in the healthy account, for the reconciler to find.
    let services = quick_services(&app, &extra).await;
    let tag = |k: &str, v: &str| aws_sdk_secretsmanager::types::Tag::builder().key(k).value(v).build();
    moto.secrets_client()
        .await
        .create_secret()
        .name("tower-Orphan00000001/LEFT")
        .secret_string("left behind")
        .tags(tag("managed-by", &services.install_id))
        .tags(tag("workflow-id", "Orphan00000001"))
        .tags(tag("secret-name", "LEFT"))
        .send()
        .await
        .unwrap();

    let started = Instant::now();
    let report = server::jobs::reconciler::reconcile(&services, server::domain::now_ms()).await.unwrap();
    let took = started.elapsed();

    assert!(took < Duration::from_secs(8), "one slow target delays only itself: the pass took {took:?}");
    let listed =
        moto.secrets_client().await.list_secrets().include_planned_deletion(true).send().await.unwrap();
    let names: Vec<&str> = listed.secret_list().iter().filter_map(|s| s.name()).collect();
    assert!(!names.contains(&"tower-Orphan00000001/LEFT"), "the healthy target was reconciled: {names:?}");
    let unfinished: BTreeSet<i64> = report.unfinished.iter().map(|u| u.workspace_id).collect();
    assert_eq!(unfinished, bad.iter().map(|(ws, _)| *ws).collect(), "{report:#?}");
    for u in &report.unfinished {
        assert!(u.target.contains("aws-batch") && u.target.contains("endpoint http://127.0.0.1:"), "{u:?}");
        assert!(!u.target.contains("AKIA") && !u.reason.contains("AKIA"), "no credentials: {u:?}");
    }
    let reason = |ws: i64| report.unfinished.iter().find(|u| u.workspace_id == ws).unwrap().reason.clone();
    assert!(reason(bad[0].0).contains("did not finish within"), "{}", reason(bad[0].0));
    assert!(reason(bad[1].0).contains("100 pages"), "{}", reason(bad[1].0));
    assert!(captured_logs().contains("reconciler could not finish a target"));
}

#[tokio::test]
async fn endless_listings_fail_naming_the_target_instead_of_passing_for_complete() {
    let pager = answering_server(200, vec![], PAGE_FOREVER).await;
    let aws = ComputeConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(pager.clone()),
        execution_role_arn: Some(EXEC_ROLE.into()),
        job_queue: Some("q".into()),
        ..Default::default()
    };
    let keys = server::crypto::SecretBytes::from(crate::fakes::moto::Moto::keys_json().as_bytes().to_vec());
    let google = ComputeConfig {
        project: Some("proj-pager".into()),
        location: Some("europe-west1".into()),
        endpoint_url: Some(pager.clone()),
        ..Default::default()
    };
    for (platform, config, credentials) in
        [(Platform::AwsBatch, &aws, Some(&keys)), (Platform::GoogleBatch, &google, None)]
    {
        let target = Target {
            platform,
            config,
            credentials,
            install_id: "install-pager",
            host_identity: providers::HostIdentity::Refused,
            managed_identity: None,
        };
        let store = providers::open(target).await.unwrap();
        let started = Instant::now();
        match store.list_managed().await {
            Err(ProviderError::Unavailable(m)) => {
                assert!(m.contains("100 pages") && m.contains("incomplete"), "{platform}: {m}");
                assert!(m.contains(&pager), "{platform}: the target is named: {m}");
            }
            other => panic!("{platform}: an endless listing must fail, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }
    // The job definitions of a run (read at launch and at cleanup) are bounded too.
    let store = providers::open(Target {
        platform: Platform::AwsBatch,
        config: &aws,
        credentials: Some(&keys),
        install_id: "install-pager",
        host_identity: providers::HostIdentity::Refused,
        managed_identity: None,
    })
    .await
    .unwrap();
    let error = store.finish_cleanup("1k0K4WlGep8ZTM").await.unwrap_err();
    assert!(error.to_string().contains("job definitions of run 1k0K4WlGep8ZTM"), "{error}");
}

/// A target that lists the copies it is told to and fails deleting those named `FAILS`.
async fn lister(listing: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: String| async move {
        let target =
            headers.get("x-amz-target").and_then(|t| t.to_str().ok()).unwrap_or_default().to_string();
        let (status, answer) = if target.ends_with("ListSecrets") {
            (200, listing.to_string())
        } else if body.contains("/FAILS") {
            (500, r#"{"__type":"InternalServiceError","message":"down"}"#.to_string())
        } else {
            (400, r#"{"__type":"ResourceNotFoundException","message":"no such secret"}"#.to_string())
        };
        let status = axum::http::StatusCode::from_u16(status).unwrap();
        (status, [("content-type", "application/x-amz-json-1.1")], answer)
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_reconciler_marks_deleted_only_what_it_deleted_and_only_in_its_own_workspace() {
    let moto = warm_moto().await;
    let app = spawn_app_with(|c| {
        quick_jobs(c);
        c.workers = 0;
    })
    .await;
    let admin = app.setup_admin().await;
    let services = quick_services(&app, &[]).await;
    let (_, mine) = app.org_and_workspace(&admin, "mine").await;
    let (_, other) = app.org_and_workspace(&admin, "other").await;
    let mut runs = Vec::new();
    for (ws, secrets) in [(mine, vec!["FAILS", "GOES"]), (other, vec!["OTHER"])] {
        let env = aws_env(&app, &admin, ws, &moto.endpoint).await;
        for name in &secrets {
            create_secret(&app, &admin, Some(ws), name, "value").await;
        }
        let body = json!({ "pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": secrets });
        let (status, launched) = launch(&app, &admin, ws, body).await;
        assert_eq!(status, StatusCode::OK, "{launched}");
        runs.push((ws, workflow_id(&launched)));
    }
    // No workers in the app: this test takes every step itself.
    let now = server::domain::now_ms;
    while server::jobs::copies::step(&services, now()).await.unwrap()
        || server::jobs::run_steps::step(&services, now()).await.unwrap()
    {}
    for (ws, wf) in &runs {
        assert_eq!(stage(&describe(&app, &admin, *ws, wf).await), "launched");
        cancel(&app, &admin, *ws, wf).await;
    }
    let (mine_wf, other_wf) = (&runs[0].1, &runs[1].1);
    let copy = |wf: &str, name: &str| {
        json!({ "Name": format!("tower-{wf}/{name}"), "Tags": [
            { "Key": "managed-by", "Value": services.install_id }, { "Key": "workflow-id", "Value": wf },
            { "Key": "secret-name", "Value": name } ] })
    };
    // `mine`'s target lists its two copies and, as a hostile endpoint could, `other`'s copy.
    let list =
        json!({ "SecretList": [copy(mine_wf, "FAILS"), copy(mine_wf, "GOES"), copy(other_wf, "OTHER")] });
    let endpoint = lister(Box::leak(list.to_string().into_boxed_str())).await;
    re_aim(&app, mine, &moto.endpoint, &endpoint).await;
    // `other`'s own target is out of reach, so only `mine`'s listing could touch its row.
    re_aim(&app, other, &moto.endpoint, "http://127.0.0.2:9").await;
    let services = quick_services(&app, &[host_port(&endpoint)]).await;

    let report = server::jobs::reconciler::reconcile(&services, now()).await.unwrap();

    assert_eq!(report.deleted, 2, "GOES and OTHER were deleted from the lister, FAILS was not: {report:#?}");
    let states = |run: Value| crate::runs::copy_states(&run);
    let mine_states = states(describe(&app, &admin, mine, mine_wf).await);
    assert!(mine_states.contains(&("GOES".into(), "deleted".into())), "{mine_states:?}");
    assert!(
        mine_states.iter().any(|(name, state)| name == "FAILS" && state != "deleted"),
        "a failed delete is not marked deleted: {mine_states:?}"
    );
    let other_states = states(describe(&app, &admin, other, other_wf).await);
    assert!(
        other_states.iter().all(|(_, state)| state != "deleted"),
        "another workspace's listing cannot mark this workspace's copy deleted: {other_states:?}"
    );
}
