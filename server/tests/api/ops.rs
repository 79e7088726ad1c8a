use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn health_checks_the_database() {
    let app = spawn_app().await;
    let (status, body) = app.get_json(&client(), "/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.get(&admin, "/api/orgs/12345/workspaces").await;
    let text = app.get(&client(), "/metrics").await.text().await.unwrap();
    assert!(text.contains("strongroom_http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/api/orgs/{org_id}/workspaces""#), "{text}");
    assert!(!text.contains("12345"), "raw ids must not become labels");
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let response = app.get(&client(), "/health").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
}

#[tokio::test]
async fn api_errors_are_json_messages() {
    let app = spawn_app().await;
    let (status, body) = app.get_json(&client(), "/api/orgs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Please sign in to continue.");
    let admin = app.setup_admin().await;
    let (status, body) = app.get_json(&admin, "/api/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());
    let (status, body) = app.get_json(&admin, "/api/orgs/not-a-number/workspaces").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("whole numbers"));
}

#[tokio::test]
async fn unknown_pages_answer_404() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let response = app.get(&admin, "/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn request_logs_carry_the_request_id_and_never_credentials() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let cookie = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    let session = cookie.split_once('=').unwrap().1.to_string();
    let with_cookie = client_with_cookie(&cookie);
    let (_, created) = app
        .send_json(&with_cookie, reqwest::Method::POST, "/api/tokens", serde_json::json!({"name": "logs"}))
        .await;
    let token = created["accessKey"].as_str().unwrap().to_string();
    app.get_with_cookie(&cookie, "/api/orgs").await;
    let logs = captured_logs();
    assert!(logs.contains("request_id="), "request spans carry the id: {}", &logs[..logs.len().min(2000)]);
    assert!(logs.contains("/api/orgs"), "requests are logged");
    for leaked in [PASSWORD, session.as_str(), token.as_str()] {
        assert!(!logs.contains(leaked), "a credential reached the logs");
    }
}
