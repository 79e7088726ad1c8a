//! `/api/credentials` and the writes of `/api/compute-envs`: key material goes in and never comes
//! out (not in a response, an error, the audit log or the database in plaintext); owners and
//! admins manage, everyone else reads; settings are checked per platform; credentials in use
//! cannot be deleted.

use crate::helpers::*;
use crate::leak::{contains, database_bytes, encodings};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/strongroom";
const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/batch-exec";

fn secret_canary() -> String {
    format!("SeCrEt{}", uuid::Uuid::new_v4().simple())
}

fn google_key(private: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "genomics-prod",
        "client_email": "pipelines@genomics-prod.iam.gserviceaccount.com",
        "private_key": format!("-----BEGIN PRIVATE KEY-----\n{private}\n-----END PRIVATE KEY-----\n"),
    })
    .to_string()
}

struct Ws<'a> {
    app: &'a TestApp,
    id: i64,
}

impl Ws<'_> {
    fn path(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}workspaceId={}", self.id)
    }

    async fn call(&self, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let path = self.path(path);
        if body.is_null() {
            let response = who.request(method, self.app.url(&path)).send().await.unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        } else {
            self.app.send_json(who, method, &path, body).await
        }
    }

    async fn aws_credentials(&self, who: &Client, name: &str, secret: &str) -> String {
        let body = json!({"credentials": {"name": name, "provider": "aws", "keys": {
            "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret
        }}});
        let (status, body) = self.call(who, Method::POST, "/api/credentials", body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["credentialsId"].as_str().expect("ids are strings, as in Seqera's API").to_string()
    }

    async fn aws_env(&self, who: &Client, name: &str, credentials_id: Option<&str>) -> (StatusCode, Value) {
        let body = json!({"computeEnv": {
            "name": name, "platform": "aws-batch", "credentialsId": credentials_id,
            "config": {"region": "eu-west-1", "computeQueue": "nf-queue", "executionRole": EXEC_ROLE}
        }});
        self.call(who, Method::POST, "/api/compute-envs", body).await
    }
}

#[tokio::test]
async fn credentials_are_created_listed_described_replaced_and_deleted_without_their_keys() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    let ws = Ws { app: &app, id: ws_id };
    let (aws_secret, google_secret, new_secret) = (secret_canary(), secret_canary(), secret_canary());

    let body = json!({"credentials": {"name": "aws-prod", "provider": "aws", "keys": {
        "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": aws_secret,
        "assumeRoleArn": ROLE_ARN, "externalId": "strongroom-ext", "discriminator": "aws"
    }}});
    let (status, created) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let aws_id = created["credentialsId"].as_str().unwrap().to_string();
    let body = json!({"credentials": {"name": "gcp-prod", "provider": "google", "keys": {
        "data": google_key(&google_secret)
    }}});
    let (status, created) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let google_id = created["credentialsId"].as_str().unwrap().to_string();

    let (status, list) = ws.call(&admin, Method::GET, "/api/credentials", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list["credentials"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let aws = &list[0];
    assert_eq!((aws["id"].as_str(), aws["name"].as_str()), (Some(aws_id.as_str()), Some("aws-prod")));
    assert_eq!(aws["provider"], "aws");
    assert_eq!(
        aws["keys"],
        json!({"discriminator": "aws", "accessKey": "AKIAIOSFODNN7EXAMPLE", "assumeRoleArn": ROLE_ARN,
               "externalId": "strongroom-ext"})
    );
    assert!(aws["dateCreated"].is_string() && aws["lastUsed"].is_null(), "{aws}");
    let google = &list[1];
    assert_eq!(google["provider"], "google");
    assert_eq!(
        google["keys"],
        json!({"discriminator": "google",
               "serviceAccountEmail": "pipelines@genomics-prod.iam.gserviceaccount.com"})
    );

    let (status, described) =
        ws.call(&admin, Method::GET, &format!("/api/credentials/{google_id}"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{described}");
    assert_eq!(described["credentials"], *google);
    let (status, filtered) =
        ws.call(&admin, Method::GET, "/api/credentials?platformId=google-batch", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(filtered["credentials"].as_array().unwrap().len(), 1, "{filtered}");

    // PUT replaces the keys; the name and provider stay.
    let body = json!({"credentials": {"name": "aws-prod", "keys": {
        "accessKey": "AKIAI44QH8DHBEXAMPLE", "secretKey": new_secret
    }}});
    let (status, answer) = ws.call(&admin, Method::PUT, &format!("/api/credentials/{aws_id}"), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let (_, described) =
        ws.call(&admin, Method::GET, &format!("/api/credentials/{aws_id}"), Value::Null).await;
    assert_eq!(
        described["credentials"]["keys"],
        json!({"discriminator": "aws", "accessKey": "AKIAI44QH8DHBEXAMPLE"})
    );
    let body = json!({
        "credentials": {"name": "renamed", "keys": {"accessKey": "AKIAI44QH8DHBEXAMPLE", "secretKey": "x"}}
    });
    let (status, answer) = ws.call(&admin, Method::PUT, &format!("/api/credentials/{aws_id}"), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let body = json!({"credentials": {"provider": "google", "keys": {"data": google_key("abc")}}});
    let (status, answer) = ws.call(&admin, Method::PUT, &format!("/api/credentials/{aws_id}"), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the provider cannot change: {answer}");

    let (status, _) =
        ws.call(&admin, Method::DELETE, &format!("/api/credentials/{google_id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) =
        ws.call(&admin, Method::GET, &format!("/api/credentials/{google_id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another workspace's id is not found there.
    let (_, other) = app.org_and_workspace(&admin, "proteomics").await;
    let (status, _) = app.get_json(&admin, &format!("/api/credentials/{aws_id}?workspaceId={other}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every change is audited, and no entry holds a key.
    let pool = pool(&app).await;
    let entries: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, target, detail FROM audit_log WHERE action LIKE 'credentials.%' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let actions: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        ["credentials.created", "credentials.created", "credentials.updated", "credentials.deleted"]
    );
    assert!(entries[0].1.contains("aws-prod"), "{entries:?}");
    let text = format!("{entries:?}");
    for secret in [&aws_secret, &google_secret, &new_secret] {
        assert!(!text.contains(secret.as_str()), "{text}");
    }
}

async fn pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.database_url).await.unwrap()
}

#[tokio::test]
async fn invalid_credentials_are_refused_with_sentences_that_never_quote_a_key() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    // Environments without credentials act as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &admin, ws_id).await;
    let ws = Ws { app: &app, id: ws_id };
    let secret = secret_canary();
    ws.aws_credentials(&admin, "aws-prod", &secret).await;

    let cases = [
        (json!({"name": "x1", "provider": "azure", "keys": {}}), "provider"),
        (
            json!({
                "name": "bad name",
                "provider": "aws",
                "keys": {"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret}
            }),
            "name",
        ),
        (json!({"name": "half", "provider": "aws", "keys": {"secretKey": secret}}), "access key id"),
        (json!({"name": "none", "provider": "aws", "keys": {}}), "role ARN"),
        (
            json!({"name": "badrole", "provider": "aws", "keys": {"assumeRoleArn": format!("arn:{secret}")}}),
            "IAM role ARN",
        ),
        (
            json!({
                "name": "spaces",
                "provider": "aws",
                "keys": {"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": format!("{secret} x")}
            }),
            "secret access key",
        ),
        (
            json!({
                "name": "gcp",
                "provider": "google",
                "keys": {"data": format!("{{\"private_key\": \"{secret}\"")}
            }),
            "service-account JSON key",
        ),
        (
            json!({
                "name": "gcp",
                "provider": "google",
                "keys": {"data": google_key(&secret), "secretKey": secret}
            }),
            "aws credentials only",
        ),
    ];
    for (credentials, expected) in cases {
        let (status, body) =
            ws.call(&admin, Method::POST, "/api/credentials", json!({ "credentials": credentials })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{credentials}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!body.to_string().contains(&secret), "{body}");
    }
    let (status, body) = ws.aws_env(&admin, "env", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = json!({"credentials": {"name": "aws-prod", "provider": "aws", "keys": {
        "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret
    }}});
    let (status, answer) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(!answer.to_string().contains(&secret));
    // Malformed JSON is refused without echoing it.
    let response = admin
        .post(app.url(&ws.path("/api/credentials")))
        .header("content-type", "application/json")
        .body(format!("{{\"credentials\": {{\"keys\": {{\"secretKey\": [\"{secret}\"]}}}}}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!response.text().await.unwrap().contains(&secret));
    let (status, _) = app
        .send_json(
            &admin,
            Method::POST,
            "/api/credentials",
            json!({"credentials": {"name": "x1", "provider": "aws"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "credentials need a workspace");
}

#[tokio::test]
async fn only_owners_and_admins_manage_credentials_and_compute_envs_and_everyone_reads() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    // Role-only credentials and environments without credentials act as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &admin, ws_id).await;
    let ws = Ws { app: &app, id: ws_id };
    let creds_id = ws.aws_credentials(&admin, "aws-prod", &secret_canary()).await;
    let (_, env) = ws.aws_env(&admin, "aws-env", Some(&creds_id)).await;
    let env_id = env["computeEnvId"].as_str().unwrap().to_string();

    for role in ["owner", "admin", "maintain", "launch", "connect", "view"] {
        let email = format!("{role}-user@example.org");
        let user = app.user(&admin, &email).await;
        app.add_participant(&admin, org_id, ws_id, &email, role).await;
        let (status, list) = ws.call(&user, Method::GET, "/api/credentials", Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{role}");
        assert_eq!(list["credentials"].as_array().unwrap().len(), 1, "{role}");
        let (status, _) =
            ws.call(&user, Method::GET, &format!("/api/credentials/{creds_id}"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{role}");
        let (status, _) =
            ws.call(&user, Method::GET, &format!("/api/compute-envs/{env_id}"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{role}");

        let manages = role == "owner" || role == "admin";
        let expected = |ok: StatusCode| if manages { ok } else { StatusCode::FORBIDDEN };
        let name = format!("{role}-creds");
        let body =
            json!({"credentials": {"name": name, "provider": "aws", "keys": {"assumeRoleArn": ROLE_ARN}}});
        let (status, created) = ws.call(&user, Method::POST, "/api/credentials", body).await;
        assert_eq!(status, expected(StatusCode::OK), "{role}: {created}");
        let body = json!({"credentials": {"keys": {"assumeRoleArn": ROLE_ARN}}});
        let (status, _) = ws.call(&user, Method::PUT, &format!("/api/credentials/{creds_id}"), body).await;
        assert_eq!(status, expected(StatusCode::NO_CONTENT), "{role}");
        let (status, made) = ws.aws_env(&user, &format!("{role}-env"), None).await;
        assert_eq!(status, expected(StatusCode::OK), "{role}: {made}");
        let (status, _) = ws
            .call(&user, Method::PUT, &format!("/api/compute-envs/{env_id}"), json!({"name": "aws-env"}))
            .await;
        assert_eq!(status, expected(StatusCode::NO_CONTENT), "{role}");
        if manages {
            let made_env = made["computeEnvId"].as_str().unwrap();
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/compute-envs/{made_env}"), Value::Null).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{role}");
            let made_creds = created["credentialsId"].as_str().unwrap();
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/credentials/{made_creds}"), Value::Null).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{role}");
        } else {
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/compute-envs/{env_id}"), Value::Null).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
            let (status, _) =
                ws.call(&user, Method::DELETE, &format!("/api/credentials/{creds_id}"), Value::Null).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
            // The UI's server functions answer the same.
            let response = app
                .sfn(
                    &user,
                    "delete_credentials",
                    &[("workspace_id", &ws_id.to_string()), ("credentials_id", &creds_id)],
                )
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
        }
    }
    // Outsiders do not even learn the workspace exists.
    let stranger = app.user(&admin, "stranger@example.org").await;
    let (status, _) = ws.call(&stranger, Method::GET, "/api/credentials", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn credentials_used_by_a_compute_env_cannot_be_deleted() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    // Environments without credentials act as the host (issue 10).
    crate::credentials_security::allow_host_identity(&app, &admin, ws_id).await;
    let ws = Ws { app: &app, id: ws_id };
    let creds_id = ws.aws_credentials(&admin, "aws-prod", &secret_canary()).await;
    let (status, env) = ws.aws_env(&admin, "aws-env", Some(&creds_id)).await;
    assert_eq!(status, StatusCode::OK, "{env}");
    let env_id = env["computeEnvId"].as_str().unwrap().to_string();

    let (status, body) =
        ws.call(&admin, Method::DELETE, &format!("/api/credentials/{creds_id}"), Value::Null).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["credentialsId"], creds_id.as_str());
    assert_eq!(body["conflicts"], json!([{"type": "compute-env", "id": env_id, "name": "aws-env"}]));
    assert!(body["message"].as_str().unwrap().contains("'aws-env'"), "{body}");
    let (status, _) =
        ws.call(&admin, Method::GET, &format!("/api/credentials/{creds_id}"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "the refused delete kept the credentials");
    // The UI gets the same refusal as a sentence.
    let response = app
        .sfn(
            &admin,
            "delete_credentials",
            &[("workspace_id", &ws_id.to_string()), ("credentials_id", &creds_id)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // Once the environment no longer uses them, they go.
    let (status, _) = ws
        .call(&admin, Method::PUT, &format!("/api/compute-envs/{env_id}"), json!({"credentialsId": null}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, described) =
        ws.call(&admin, Method::GET, &format!("/api/compute-envs/{env_id}"), Value::Null).await;
    assert!(described["computeEnv"].get("credentialsId").is_none(), "{described}");
    let (status, _) =
        ws.call(&admin, Method::DELETE, &format!("/api/credentials/{creds_id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

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

#[tokio::test]
async fn credential_keys_never_reach_a_response_a_log_a_page_or_the_database_in_plaintext() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org_id, ws_id) = app.org_and_workspace(&admin, "genomics").await;
    app.user(&admin, "viewer@example.org").await;
    app.add_participant(&admin, org_id, ws_id, "viewer@example.org", "view").await;
    let viewer = app.login("viewer@example.org", PASSWORD).await;
    let ws = Ws { app: &app, id: ws_id };
    let mut canaries = Vec::new();
    let mut seen = String::new();

    let aws_secret = secret_canary();
    let creds_id = ws.aws_credentials(&admin, "aws-prod", &aws_secret).await;
    canaries.push(aws_secret);
    let google_secret = secret_canary();
    let body = json!({
        "credentials": {
            "name": "gcp-prod",
            "provider": "google",
            "keys": {"data": google_key(&google_secret)}
        }
    });
    let (status, _) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    assert_eq!(status, StatusCode::OK);
    canaries.push(google_secret);
    let replaced = secret_canary();
    let body = json!({"credentials": {"keys": {"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": replaced}}});
    let (status, _) = ws.call(&admin, Method::PUT, &format!("/api/credentials/{creds_id}"), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    canaries.push(replaced);
    let ui_secret = secret_canary();
    let form = [
        ("workspace_id", ws_id.to_string()),
        ("name", "aws-ui".into()),
        ("provider", "aws".into()),
        ("access_key", "AKIAIOSFODNN7EXAMPLE".into()),
        ("secret_key", ui_secret.clone()),
        ("assume_role_arn", String::new()),
        ("external_id", String::new()),
        ("key_file", String::new()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.sfn(&admin, "create_credentials", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    seen.push_str(&response.text().await.unwrap());
    canaries.push(ui_secret);

    for who in [&admin, &viewer] {
        for path in ["/api/credentials".to_string(), format!("/api/credentials/{creds_id}")] {
            let response = who.get(app.url(&ws.path(&path))).send().await.unwrap();
            seen.push_str(&response.text().await.unwrap());
        }
        let response = app.sfn(who, "list_credentials", &[("workspace_id", &ws_id.to_string())]).await;
        let text = response.text().await.unwrap();
        assert!(text.contains("aws-ui"), "{text}");
        seen.push_str(&text);
        let page = app.get(who, &format!("/orgs/{org_id}/workspaces/{ws_id}/compute")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("aws-prod") && html.contains("gcp-prod"), "the page lists the credentials");
        seen.push_str(&html);
    }
    let logs = captured_logs();
    assert!(logs.contains("credentials created"), "the log scan has the credentials service's lines");
    let database = database_bytes(&app).await;
    assert!(
        database.iter().any(|(_, bytes)| contains(bytes, "AKIAIOSFODNN7EXAMPLE")),
        "the scan finds public fields"
    );
    for canary in &canaries {
        assert!(!seen.contains(canary.as_str()), "a response or page holds a key");
        assert!(!logs.contains(canary.as_str()), "a log line holds a key");
        for (file, bytes) in &database {
            for form in encodings(canary) {
                assert!(!contains(bytes, &form), "{file} holds a key in plaintext");
            }
        }
    }
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
