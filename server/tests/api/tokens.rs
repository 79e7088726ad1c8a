use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

fn bearer(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

#[tokio::test]
async fn access_tokens_are_shown_once_and_work_as_bearer() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (status, created) = app.send_json(&admin, Method::POST, "/api/tokens", json!({"name": "ci"})).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let token = created["accessKey"].as_str().unwrap().to_string();
    assert!(token.starts_with("sr_"));
    let id = created["token"]["id"].as_i64().unwrap();

    let (status, info) = app.get_json(&bearer(&token), "/api/user-info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["user"]["email"], ADMIN_EMAIL);
    let (_, list) = app.get_json(&admin, "/api/tokens").await;
    assert_eq!(list["tokens"][0]["name"], "ci");
    assert!(!list.to_string().contains(&token), "the token is never listed");
    assert!(list["tokens"][0]["lastUsed"].is_string());

    let (status, _) = app.send_json(&admin, Method::POST, "/api/tokens", json!({"name": "ci"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app.send_json(&admin, Method::DELETE, &format!("/api/tokens/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&bearer(&token), "/api/user-info").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_expired_or_foreign_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    assert_eq!(
        app.get(&bearer("sr_not-a-real-token"), "/api/user-info").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get(&bearer("garbage"), "/api/user-info").await.status(), StatusCode::UNAUTHORIZED);
    let (_, created) = app
        .send_json(&admin, Method::POST, "/api/tokens", json!({"name": "short", "expiresInDays": 1}))
        .await;
    let token = created["accessKey"].as_str().unwrap().to_string();
    assert_eq!(app.get(&bearer(&token), "/api/user-info").await.status(), StatusCode::OK);
    // Expired behind the server's back, as another replica or the command line would change it:
    // a token this server resolved within the last second may be taken on trust that long
    // (`recent_tokens`), never longer.
    app.run_sql("UPDATE access_tokens SET expires_at = 1").await;
    refused_within_a_second(&app, &token).await;
    // Bob cannot delete the admin's token.
    let id = created["token"]["id"].as_i64().unwrap();
    let (status, _) = app.send_json(&bob, Method::DELETE, &format!("/api/tokens/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (body, why) in [
        (json!({"name": ""}), "empty"),
        (json!({"name": "x".repeat(51)}), "long"),
        (json!({"name": "a", "expiresInDays": 0}), "lifetime"),
    ] {
        let (status, _) = app.send_json(&admin, Method::POST, "/api/tokens", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
    }
}

/// Polls until `token` is refused; fails if it is still accepted 1.5 s after the call.
async fn refused_within_a_second(app: &TestApp, token: &str) {
    let changed = Instant::now();
    while app.get(&bearer(token), "/api/user-info").await.status() != StatusCode::UNAUTHORIZED {
        assert!(changed.elapsed() < Duration::from_millis(1500), "still accepted 1.5 s after the change");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A token in constant use is resolved from the server's memory (`recent_tokens`), yet
/// disabling its user or deleting it on this server refuses the very next request.
#[tokio::test]
async fn a_token_in_use_stops_at_once_when_its_user_is_disabled_or_it_is_deleted() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let (_, created) = app.send_json(&bob, Method::POST, "/api/tokens", json!({"name": "ci"})).await;
    let token = created["accessKey"].as_str().unwrap().to_string();
    let token_id = created["token"]["id"].as_i64().unwrap();
    let (_, info) = app.get_json(&bearer(&token), "/api/user-info").await;
    let bob_id = info["user"]["id"].as_i64().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(app.get(&bearer(&token), "/api/user-info").await.status(), StatusCode::OK);
    }

    let r = app.sfn(&admin, "set_user_disabled", &[("user_id", &bob_id), ("disabled", "true")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.get(&bearer(&token), "/api/user-info").await.status(), StatusCode::UNAUTHORIZED);
    let r = app.sfn(&admin, "set_user_disabled", &[("user_id", &bob_id), ("disabled", "false")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.get(&bearer(&token), "/api/user-info").await.status(), StatusCode::OK);

    let bob = app.login("bob@example.org", PASSWORD).await;
    let (status, _) =
        app.send_json(&bob, Method::DELETE, &format!("/api/tokens/{token_id}"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&bearer(&token), "/api/user-info").await.status(), StatusCode::UNAUTHORIZED);
}
