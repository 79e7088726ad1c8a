//! The writes of `/api/compute-envs`: settings are checked per platform and read back as written;
//! environments are renamed, reconfigured, deleted and audited; and the Compute tab's server
//! functions reach the same rules as the REST API.

use super::{google_key, pool, secret_canary, Ws, EXEC_ROLE};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn compute_envs_are_checked_per_platform_and_read_back_as_written() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    // The `aws-ambient` environment acts as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &admin, ws_id).await;
    let ws = Ws { app: &app, id: ws_id };
    let aws_id = ws.aws_credentials(&admin, "aws-prod", &secret_canary()).await;
    let body =
        json!({"credentials": {"name": "gcp-prod", "provider": "google", "keys": {"data": google_key("k")}}});
    let (_, gcp) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    let gcp_id = gcp["credentialsId"].as_str().unwrap().to_string();
    let local_root = app.data_dir.path().join("work").join(ws_id.to_string());
    let local_dir = local_root.join("extra").display().to_string();
    // HPC work directories lie under the allowed work roots (the test app allows its work root).
    let scratch = |name: &str| app.work_root.path().join(name).display().to_string();

    let aws_config = json!({"discriminator": "aws-batch", "region": "eu-west-1", "computeQueue": "nf-queue",
        "executionRole": EXEC_ROLE, "kmsKeyId": "alias/strongroom", "customJobDefinition": false,
        "endpointUrl": "http://127.0.0.1:4566"});
    let google_config = json!({"discriminator": "google-batch", "projectId": "genomics-prod",
        "location": "europe-west2", "endpointUrl": "https://secretmanager.example.org"});
    let valid = [
        ("aws-keys", "aws-batch", Some(aws_id.as_str()), aws_config.clone()),
        (
            "aws-ambient",
            "aws-batch",
            None,
            json!({"region": "us-gov-west-1", "computeQueue": "q", "executionRole": EXEC_ROLE}),
        ),
        ("gcp", "google-batch", Some(gcp_id.as_str()), google_config),
        (
            "slurm",
            "slurm-platform",
            None,
            json!({"workDir": scratch("nf"), "launchCommand": "sbatch --wrap"}),
        ),
        ("lsf", "lsf-platform", None, json!({"workDir": scratch("lsf")})),
        ("pbs", "altair-platform", None, json!({"workDir": scratch("pbs")})),
        ("local2", "local-platform", None, json!({"workDir": local_dir})),
    ];
    for (name, platform, creds, config) in valid {
        let body = json!({
            "computeEnv": {"name": name, "platform": platform, "credentialsId": creds, "config": config}
        });
        let (status, created) = ws.call(&admin, Method::POST, "/api/compute-envs", body).await;
        assert_eq!(status, StatusCode::OK, "{name}: {created}");
        let id = created["computeEnvId"].as_str().unwrap();
        let (_, described) =
            ws.call(&admin, Method::GET, &format!("/api/compute-envs/{id}"), Value::Null).await;
        let env = &described["computeEnv"];
        assert_eq!(env["platform"], platform, "{name}");
        assert_eq!(env["credentialsId"].as_str(), creds, "{name}");
        let mut expected = config.as_object().unwrap().clone();
        expected.insert("discriminator".into(), platform.into());
        assert_eq!(env["config"], Value::Object(expected), "{name}: what is read back is what was written");
    }

    let outside = app.data_dir.path().join("elsewhere").display().to_string();
    let refused = [
        ("aws-batch", None, json!({"computeQueue": "q", "executionRole": EXEC_ROLE}), "region"),
        ("aws-batch", None, json!({"region": "eu-west-1", "executionRole": EXEC_ROLE}), "computeQueue"),
        ("aws-batch", None, json!({"region": "eu-west-1", "computeQueue": "q"}), "executionRole"),
        (
            "aws-batch",
            None,
            json!({"region": "eu-west-1", "computeQueue": "q", "executionRole": "batch"}),
            "executionRole",
        ),
        (
            "aws-batch",
            None,
            json!({
                "region": "eu-west-1",
                "computeQueue": "q",
                "executionRole": EXEC_ROLE,
                "endpointUrl": "file:///etc"
            }),
            "endpointUrl",
        ),
        ("aws-batch", Some(gcp_id.as_str()), aws_config.clone(), "cannot use google credentials"),
        ("aws-batch", Some("999999"), aws_config.clone(), "do not exist"),
        (
            "aws-batch",
            None,
            json!({"region": "eu-west-1", "computeQueue": "q", "executionRole": EXEC_ROLE, "forge": {}}),
            "config.forge",
        ),
        (
            "aws-batch",
            None,
            json!({"region": "eu-west-1", "computeQueue": "q", "executionRole": EXEC_ROLE, "workDir": "/w"}),
            "workDir",
        ),
        (
            "google-batch",
            None,
            json!({"projectId": "genomics-prod", "location": "europe-west2"}),
            "need google credentials",
        ),
        ("google-batch", Some(gcp_id.as_str()), json!({"location": "europe-west2"}), "projectId"),
        ("google-batch", Some(gcp_id.as_str()), json!({"projectId": "genomics-prod"}), "location"),
        (
            "google-batch",
            Some(aws_id.as_str()),
            json!({"projectId": "genomics-prod", "location": "europe-west2"}),
            "aws credentials",
        ),
        ("slurm-platform", None, json!({}), "workDir"),
        ("slurm-platform", None, json!({"workDir": "scratch"}), "absolute"),
        ("slurm-platform", Some(aws_id.as_str()), json!({"workDir": scratch("s")}), "no cloud credentials"),
        ("local-platform", None, json!({"workDir": outside}), "must be under"),
        ("kubernetes", None, json!({}), "Unknown compute platform"),
    ];
    for (platform, creds, config, expected) in refused {
        let body = json!({
            "computeEnv": {"name": "refused", "platform": platform, "credentialsId": creds, "config": config}
        });
        let (status, answer) = ws.call(&admin, Method::POST, "/api/compute-envs", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{platform} {config}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {message}");
    }
    let (status, answer) = ws.aws_env(&admin, "aws-keys", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "names are unique per workspace: {answer}");
    let (status, _) = ws.aws_env(&admin, "bad name!", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/compute-envs",
            json!({"computeEnv": {"name": "x1", "platform": "slurm-platform"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "compute environments need a workspace");
}

#[tokio::test]
async fn compute_envs_are_renamed_reconfigured_and_deleted_and_audited() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    // Environments without credentials act as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &admin, ws_id).await;
    let ws = Ws { app: &app, id: ws_id };
    let (_, env) = ws.aws_env(&admin, "aws-env", None).await;
    let id = env["computeEnvId"].as_str().unwrap().to_string();
    let path = format!("/api/compute-envs/{id}");

    let (status, _) = ws.call(&admin, Method::PUT, &path, json!({"name": "aws-renamed"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let config = json!({"region": "us-east-1", "computeQueue": "other", "executionRole": EXEC_ROLE});
    let (status, _) = ws.call(&admin, Method::PUT, &path, json!({"config": config})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, described) = ws.call(&admin, Method::GET, &path, Value::Null).await;
    let env = &described["computeEnv"];
    assert_eq!(env["name"], "aws-renamed");
    assert_eq!(env["config"]["region"], "us-east-1");
    assert_eq!(env["config"]["computeQueue"], "other");

    let (status, answer) =
        ws.call(&admin, Method::PUT, &path, json!({"config": {"discriminator": "google-batch"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the platform cannot change: {answer}");
    let (status, _) = ws.call(&admin, Method::PUT, &path, json!({"config": {"region": "us-east-1"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a new config is checked as a whole");
    let (status, _) = ws.call(&admin, Method::PUT, &path, json!({"name": "local"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "the workspace's `local` has that name");
    let (status, _) = ws.call(&admin, Method::PUT, "/api/compute-envs/424242", json!({"name": "x1"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = ws.call(&admin, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = ws.call(&admin, Method::GET, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ws.call(&admin, Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let pool = pool(&app).await;
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'compute_env.%' ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(
        actions,
        ["compute_env.created", "compute_env.updated", "compute_env.updated", "compute_env.deleted"]
    );
}

/// The Compute tab's server functions, called as the browser encodes them (nested `config[…]`
/// fields named as `ComputeConfig` serializes them), reach the same rules as the REST API.
#[tokio::test]
async fn the_compute_tab_server_functions_create_list_and_delete() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Ws { app: &app, id: ws_id };
    let creds_id = ws.aws_credentials(&admin, "aws-prod", &secret_canary()).await;
    let ws_field = ws_id.to_string();
    let form = [
        ("workspace_id", ws_field.as_str()),
        ("name", "aws-ui"),
        ("platform", "aws-batch"),
        ("credentials_id", creds_id.as_str()),
        ("config[region]", "eu-west-1"),
        ("config[jobQueue]", "nf-queue"),
        ("config[executionRoleArn]", EXEC_ROLE),
        ("config[customJobDefinition]", "true"),
    ];
    let response = app.sfn(&admin, "create_compute_env", &form).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let env_id = response.json::<i64>().await.unwrap().to_string();
    let (_, described) =
        ws.call(&admin, Method::GET, &format!("/api/compute-envs/{env_id}"), Value::Null).await;
    let env = &described["computeEnv"];
    assert_eq!(env["credentialsId"], creds_id.as_str());
    assert_eq!(env["config"]["computeQueue"], "nf-queue");
    assert_eq!(env["config"]["customJobDefinition"], true);

    // Refusals arrive as the same sentences, with the same status.
    let form = [
        ("workspace_id", ws_field.as_str()),
        ("name", "slurm-ui"),
        ("platform", "slurm-platform"),
        ("credentials_id", "0"),
        ("config[workDir]", "relative/dir"),
    ];
    let response = app.sfn(&admin, "create_compute_env", &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("absolute path"));

    let response = app.sfn(&admin, "list_compute_envs", &[("workspace_id", &ws_field)]).await;
    let list: Value = response.json().await.unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["aws-ui", "local"]);
    let response = app
        .sfn(&admin, "delete_compute_env", &[("workspace_id", &ws_field), ("compute_env_id", &env_id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .sfn(&admin, "delete_credentials", &[("workspace_id", &ws_field), ("credentials_id", &creds_id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.sfn(&admin, "list_credentials", &[("workspace_id", &ws_field)]).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
}
