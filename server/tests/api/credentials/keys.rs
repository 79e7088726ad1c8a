//! Key material goes in and never comes out: invalid credentials are refused with sentences that
//! never quote a key, and keys never reach a response, a log line, a page or the database in
//! plaintext (searched with the `leak` module's scans).

use super::{google_key, secret_canary, Ws};
use crate::helpers::*;
use crate::leak::{contains, database_bytes, encodings};
use reqwest::{Method, StatusCode};
use serde_json::json;

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

    // The Compute tab's "Replace keys": a new version through the server function, and the
    // provider cannot change on the way.
    let ui_replaced = secret_canary();
    let mut replace: Vec<(&str, String)> = vec![
        ("workspace_id", ws_id.to_string()),
        ("credentials_id", creds_id.to_string()),
        ("provider", "aws".into()),
        ("access_key", "AKIAIOSFODNN7EXAMPLE".into()),
        ("secret_key", ui_replaced.clone()),
        ("assume_role_arn", String::new()),
        ("external_id", String::new()),
        ("key_file", String::new()),
    ];
    let form: Vec<(&str, &str)> = replace.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.sfn(&admin, "replace_credentials", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    seen.push_str(&response.text().await.unwrap());
    canaries.push(ui_replaced);
    // A refused replacement echoes nothing of what it was given.
    let refused_secret = secret_canary();
    replace[2].1 = "google".into();
    replace[7].1 = google_key(&refused_secret);
    canaries.push(refused_secret);
    let form: Vec<(&str, &str)> = replace.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.sfn(&admin, "replace_credentials", &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let refusal = response.text().await.unwrap();
    assert!(refusal.contains("can only be replaced with aws keys"), "{refusal}");
    seen.push_str(&refusal);

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
