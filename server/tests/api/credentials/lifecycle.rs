//! Credentials from creation to deletion: listed and described without their keys, their keys
//! replaced (never their name or provider), deleted and audited; and credentials a compute
//! environment uses cannot be deleted until it no longer does.

use super::{google_key, pool, secret_canary, Ws, ROLE_ARN};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

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
