//! The REST API's request types, through the real router in process (extractors, handlers,
//! domain, SQLite): any method, path parameters, query and body that the fuzzer builds for the
//! documented operations (`/api/openapi.json`, read at start) gets an answer below 500, a JSON
//! body when it has one, and never a secret value back. Bodies are JSON built from the
//! document's own property names, or raw bytes.
//!
//! Run it only inside a network namespace with loopback alone (`scripts/fuzz` does): a fuzzed
//! compute environment may name a cloud endpoint, which must fail at once, not reach anyone.

#![no_main]

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use tower::ServiceExt;

const DOCUMENT: &str = include_str!("../../server/src/http/rest/openapi.json");
/// Put into every secret-bearing field; no answer may contain it.
const CANARY: &str = "SRCANARY";
const SECRET_FIELDS: [&str; 4] = ["secretKey", "privateKey", "passphrase", "password"];

#[derive(Arbitrary, Debug)]
enum Text {
    /// One of the harness's real ids, names and words (a known workspace, a valid name).
    Known(u8),
    Number(i64),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Key {
    /// A property or parameter name from the OpenAPI document.
    Documented(u16),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    Array(Vec<Json>),
    Object(Vec<(Key, Json)>),
}

#[derive(Arbitrary, Debug)]
enum Payload {
    Empty,
    Json(Json),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Auth {
    Token,
    Session,
    Nobody,
    Bogus(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    operation: u16,
    params: Vec<Text>,
    query: Vec<(Key, Text)>,
    body: Payload,
    auth: Auth,
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    operations: Vec<(Method, String)>,
    keys: Vec<String>,
    known: Vec<String>,
    token: String,
    cookie: String,
    _app: server::startup::Application,
    _dir: tempfile::TempDir,
}

fn collect_keys(value: &serde_json::Value, keys: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                keys.extend(props.keys().cloned());
            }
            if let (Some(serde_json::Value::String(name)), Some(_)) = (map.get("name"), map.get("in")) {
                keys.push(name.clone());
            }
            map.values().for_each(|v| collect_keys(v, keys));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = request;
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn json_request(
    method: Method,
    path: &str,
    auth: &[(header::HeaderName, String)],
    body: serde_json::Value,
) -> Request<Body> {
    let mut builder =
        Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in auth {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = server::config::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        workers: 0,
        login_attempts_per_minute: 1_000_000,
        provider_call_timeout_ms: 500,
        ..Default::default()
    };
    let (app, router, token, cookie, known) = runtime.block_on(async {
        let app = server::startup::Application::build(config).await.expect("the app starts");
        let router = server::http::router::router(app.state().clone());
        let setup = Request::builder()
            .method(Method::POST)
            .uri("/sfn/setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from("email=fuzz%40example.org&display_name=Fuzz&password=correct+horse+battery+staple"))
            .unwrap();
        let (_, headers, _) = send(&router, setup).await;
        let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
        let session = [(header::COOKIE, cookie.clone()), (header::HeaderName::from_static("sec-fetch-site"), "same-origin".into())];
        let post = |path: &str, body: serde_json::Value| json_request(Method::POST, path, &session, body);
        let (_, _, body) = send(&router, post("/api/tokens", serde_json::json!({ "name": "fuzz" }))).await;
        let token: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let token = token["accessKey"].as_str().unwrap().to_string();
        let (_, _, body) = send(&router, post("/api/orgs", serde_json::json!({ "organization": { "name": "fuzz", "fullName": "Fuzz" } }))).await;
        let org: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let org_id = org["organization"]["orgId"].as_i64().unwrap();
        let ws_body = serde_json::json!({ "workspace": { "name": "main", "fullName": "Main", "visibility": "PRIVATE" } });
        let (_, _, body) = send(&router, post(&format!("/api/orgs/{org_id}/workspaces"), ws_body)).await;
        let ws: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let ws_id = ws["workspace"]["id"].as_i64().unwrap();
        let secret = serde_json::json!({ "name": "KNOWN_SECRET", "value": format!("{CANARY}-known") });
        let (_, _, body) = send(&router, post(&format!("/api/pipeline-secrets?workspaceId={ws_id}"), secret)).await;
        let secret: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let known = vec![
            org_id.to_string(),
            ws_id.to_string(),
            secret["secretId"].to_string(),
            "1".into(),
            "KNOWN_SECRET".into(),
            "NEW_SECRET".into(),
            "aws".into(),
            "google".into(),
            "ssh".into(),
            "aws-batch".into(),
            "google-batch".into(),
            "slurm-platform".into(),
            "local-platform".into(),
            "owner".into(),
            "admin".into(),
            "launch".into(),
            "view".into(),
            "PRIVATE".into(),
            "SHARED".into(),
            "/tmp".into(),
            "fuzz@example.org".into(),
            "nf-core/demo".into(),
            String::new(),
        ];
        (app, router, token, cookie, known)
    });
    let document: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.push((
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    format!("/api{path}"),
                ));
            }
        }
    }
    let mut keys = Vec::new();
    collect_keys(&document, &mut keys);
    keys.sort();
    keys.dedup();
    Harness { runtime, router, operations, keys, known, token, cookie, _app: app, _dir: dir }
});

impl Harness {
    fn text(&self, text: &Text) -> String {
        match text {
            Text::Known(i) => self.known[usize::from(*i) % self.known.len()].clone(),
            Text::Number(n) => n.to_string(),
            // The canary marks secret fields only; elsewhere it may rightly come back (a name).
            Text::Any(s) => s.replace(CANARY, "srcanary"),
        }
    }

    fn key(&self, key: &Key) -> String {
        match key {
            Key::Documented(i) => self.keys[usize::from(*i) % self.keys.len()].clone(),
            Key::Any(s) => s.replace(CANARY, "srcanary"),
        }
    }

    /// The JSON value, with a canary in every field that holds a secret (`value` on secret
    /// paths, keys and passphrases everywhere).
    fn json(&self, json: &Json, secret_path: bool, depth: usize) -> serde_json::Value {
        use serde_json::Value;
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(n) => Value::from(*n),
            Json::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Json::Str(t) => Value::String(self.text(t)),
            Json::Array(items) if depth < 6 => {
                Value::Array(items.iter().take(16).map(|j| self.json(j, secret_path, depth + 1)).collect())
            }
            Json::Object(entries) if depth < 6 => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries.iter().take(16) {
                    let key = self.key(k);
                    let secret = SECRET_FIELDS.contains(&key.as_str()) || (secret_path && key == "value");
                    let value = if secret {
                        Value::String(format!("{CANARY}-{}", self.json(v, secret_path, depth + 1)))
                    } else {
                        self.json(v, secret_path, depth + 1)
                    };
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            _ => Value::Null,
        }
    }
}

/// Every byte but the unreserved ones percent-encoded, so any text is a valid URI piece.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let h = &*HARNESS;
    let (method, template) = &h.operations[usize::from(input.operation) % h.operations.len()];
    let mut params = input.params.iter();
    let mut path = String::new();
    for (i, piece) in template.split('{').enumerate() {
        if i == 0 {
            path.push_str(piece);
            continue;
        }
        let (_, rest) = piece.split_once('}').unwrap();
        let value = params.next().map(|t| h.text(t)).unwrap_or_else(|| "1".into());
        path.push_str(&encode(&value));
        path.push_str(rest);
    }
    let query: Vec<String> = input
        .query
        .iter()
        .take(8)
        .map(|(k, v)| format!("{}={}", encode(&h.key(k)), encode(&h.text(v))))
        .collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let secret_path = template.contains("pipeline-secrets");
    let mut builder = Request::builder().method(method.clone()).uri(&path);
    builder = match &input.auth {
        Auth::Token => builder.header(header::AUTHORIZATION, format!("Bearer {}", h.token)),
        Auth::Session => builder.header(header::COOKIE, &h.cookie).header("sec-fetch-site", "same-origin"),
        Auth::Nobody => builder,
        Auth::Bogus(token) => match header::HeaderValue::from_str(&format!("Bearer {token}")) {
            Ok(value) => builder.header(header::AUTHORIZATION, value),
            Err(_) => builder,
        },
    };
    let body = match &input.body {
        Payload::Empty => Body::empty(),
        Payload::Json(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(h.json(json, secret_path, 0).to_string())
        }
        Payload::Raw(bytes) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(bytes.clone())
        }
    };
    let request = builder.body(body).expect("an encoded path is a valid URI");
    let (status, _, answer) = h.runtime.block_on(send(&h.router, request));
    assert!(status.as_u16() < 500, "{method} {path}: {status}: {}", String::from_utf8_lossy(&answer));
    if !answer.is_empty() {
        assert!(serde_json::from_slice::<serde_json::Value>(&answer).is_ok(), "{method} {path}: not JSON");
    }
    assert!(
        !String::from_utf8_lossy(&answer).contains(CANARY),
        "{method} {path} answered with a secret value: {}",
        String::from_utf8_lossy(&answer)
    );
});
