//! The first rule, checked end to end: a secret value never appears in a response, a log line, the
//! SSR HTML or the database in plaintext. This module holds the tools: random canaries, a recorder
//! of everything the server said, and the scans of the raw database bytes (which the credentials
//! tests use too).

mod cloud_launches;
mod forms;
mod secret_values;
mod widened;

use crate::helpers::*;
use base64::Engine;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// Random, so no other test (or fixed string in the code) can produce it by accident.
fn canary() -> String {
    format!("cnry{}", uuid::Uuid::new_v4().simple())
}

/// The forms a leaked value would take in raw bytes: as is, hex (PostgreSQL prints bytea as
/// `\x…`) and base64.
pub(crate) fn encodings(value: &str) -> Vec<String> {
    vec![
        value.to_string(),
        hex::encode(value),
        hex::encode_upper(value),
        base64::engine::general_purpose::STANDARD.encode(value),
    ]
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Everything the server said, to search afterwards.
struct Recorder<'a> {
    app: &'a TestApp,
    canaries: Vec<String>,
    bodies: Vec<(String, String)>,
}

impl<'a> Recorder<'a> {
    fn canary(&mut self) -> String {
        let c = canary();
        self.canaries.push(c.clone());
        c
    }

    async fn keep(&mut self, what: String, response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let headers = format!("{:?}", response.headers());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.bodies.push((format!("{what} -> {status}"), format!("{headers}\n{text}")));
        (status, body)
    }

    async fn json(&mut self, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let request = who.request(method.clone(), self.app.url(path));
        let request = if body.is_null() { request } else { request.json(&body) };
        self.keep(format!("{method} {path}"), send(request).await).await
    }

    async fn raw(&mut self, who: &Client, method: Method, path: &str, body: String) -> (StatusCode, Value) {
        let request = who
            .request(method.clone(), self.app.url(path))
            .header("content-type", "application/json")
            .body(body);
        self.keep(format!("{method} {path} (raw)"), send(request).await).await
    }

    async fn sfn(&mut self, who: &Client, name: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self.app.sfn(who, name, form).await;
        self.keep(format!("sfn {name}"), response).await
    }

    async fn page(&mut self, who: &Client, whose: &str, path: &str) -> String {
        let response = self.app.get(who, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{whose} GET {path}");
        self.keep(format!("{whose} page {path}"), response).await;
        self.bodies.last().unwrap().1.clone()
    }
}

pub(crate) async fn database_bytes(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    if is_postgres() {
        let output = tokio::process::Command::new("pg_dump")
            .args(["--data-only", "--no-owner", &app.database_url])
            .output()
            .await
            .expect("pg_dump is on PATH");
        assert!(output.status.success(), "pg_dump: {}", String::from_utf8_lossy(&output.stderr));
        return vec![("pg_dump".into(), output.stdout)];
    }
    let mut files = Vec::new();
    for file in ["test.db", "test.db-wal", "test.db-shm"] {
        if let Ok(bytes) = std::fs::read(app.data_dir.path().join(file)) {
            files.push((file.to_string(), bytes));
        }
    }
    assert!(files.iter().any(|(name, _)| name == "test.db"), "the SQLite file is where the test expects it");
    files
}
