//! `strongroom admin token` next to the app's database: it prints only a token, which the API
//! accepts, and refuses unknown users and duplicate names.

use super::{db_env, strongroom};
use crate::helpers::*;
use reqwest::{Client, StatusCode};

fn bearer(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

#[tokio::test]
async fn admin_token_prints_only_a_token_the_api_accepts() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user(&admin, "bot@example.org").await;
    let out = strongroom(
        &["admin", "token", "--email", "Bot@Example.org", "--name", "automation", "--expires-in-days", "7"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let token = out.stdout.trim();
    assert_eq!(out.stdout.lines().count(), 1, "only the token on stdout: {}", out.stdout);
    assert!(token.starts_with("sr_"), "{token}");
    assert!(out.stderr.contains("shown once") && !out.stderr.contains(token), "{}", out.stderr);
    let (status, info) = app.get_json(&bearer(token), "/api/user-info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["user"]["email"], "bot@example.org");

    let (_, tokens) = app.get_json(&app.login("bot@example.org", PASSWORD).await, "/api/tokens").await;
    assert_eq!(tokens["tokens"][0]["name"], "automation");
    assert!(tokens["tokens"][0]["expiresAt"].is_string(), "{tokens}");

    let out =
        strongroom(&["admin", "token", "--email", "nobody@example.org", "--name", "x"], &db_env(&app), None)
            .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("no user with the email nobody@example.org"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let out = strongroom(
        &["admin", "token", "--email", "bot@example.org", "--name", "automation"],
        &db_env(&app),
        None,
    )
    .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("already have a token named"), "{}", out.stderr);
}
