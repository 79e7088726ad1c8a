//! A small, wire-faithful fake of the Google Secret Manager REST API v1, for driving the real
//! `google-cloud-secretmanager-v1` client in tests.
//!
//! Implemented, with Google's paths, JSON field names (camelCase), base64 payloads and error
//! format (`{"error": {"code": 409, "message": "...", "status": "ALREADY_EXISTS"}}`):
//! - `POST   /v1/projects/{p}/secrets?secretId=`            CreateSecret (`ttl` → `expireTime`)
//! - `GET    /v1/projects/{p}/secrets?filter=&pageSize=&pageToken=`  ListSecrets
//! - `GET    /v1/projects/{p}/secrets/{s}`                  GetSecret
//! - `DELETE /v1/projects/{p}/secrets/{s}?etag=`            DeleteSecret
//! - `POST   /v1/projects/{p}/secrets/{s}:addVersion`       AddSecretVersion
//! - `GET    /v1/projects/{p}/secrets/{s}/versions?...`     ListSecretVersions
//! - `GET    /v1/projects/{p}/secrets/{s}/versions/{v}`     GetSecretVersion (`v` may be `latest`)
//! - `GET    /v1/projects/{p}/secrets/{s}/versions/{v}:access`  AccessSecretVersion
//!
//! Like Google, names in answers carry the project *number* (`projects/123456789012/...`) while
//! requests may use the id or the number; enums are numbers when the client asks for
//! `$alt=json;enum-encoding=int` (Google's client libraries do) and names otherwise; ids, label
//! keys and values, the 64 KiB payload limit, the required `replication` and the `etag` of
//! DeleteSecret are checked.
//!
//! Test controls on [`FakeGsm`]: [`FakeGsm::secrets`] (state), [`FakeGsm::set_faults`] (a seeded
//! fraction of calls answered 429 RESOURCE_EXHAUSTED and another answered 503 UNAVAILABLE, before
//! any effect), [`FakeGsm::deny`] (403 PERMISSION_DENIED for calls needing a permission),
//! [`FakeGsm::set_default_page_size`], [`FakeGsm::calls`] (what was called, for counting).
//!
//! Not implemented (the client as Strongroom uses it never sends these): regional secrets
//! (`/locations/`), UpdateSecret, version disable/enable/destroy, IAM policy methods, rotation,
//! topics, CMEK, version aliases, `versionDestroyTtl`, tags; filters other than conjunctions
//! (`AND` or space) of `labels.KEY=VALUE`, `labels.KEY:VALUE`, `labels.KEY:*`, `name:TEXT`;
//! `dataCrc32c` checksums; authentication (no token is checked, only counted); quotas (only the
//! injected faults); the eventual `ttl` expiry (only `expireTime` is set); faults that strike
//! after the effect (a lost answer).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const PROJECT_NUMBER: &str = "123456789012";

/// One secret as the fake holds it.
#[derive(Debug, Clone)]
pub struct FakeSecret {
    /// `projects/<number>/secrets/<id>`
    pub name: String,
    pub id: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub replication: Value,
    /// The `ttl` the client sent (`"604800s"`), and the `expireTime` Google derives from it.
    pub ttl: Option<String>,
    pub expire_time: Option<String>,
    pub create_time: String,
    pub etag: String,
    pub versions: Vec<FakeVersion>,
}

#[derive(Debug, Clone)]
pub struct FakeVersion {
    pub number: u64,
    pub data: Vec<u8>,
    /// `ENABLED`, `DISABLED` or `DESTROYED`.
    pub state: &'static str,
    pub create_time: String,
}

#[derive(Debug, Clone, Default)]
struct Faults {
    throttle: f64,
    unavailable: f64,
}

struct Inner {
    /// Keyed by secret id (one project number for every project id).
    secrets: BTreeMap<String, FakeSecret>,
    faults: Faults,
    rng: StdRng,
    denied: Vec<String>,
    default_page_size: usize,
    calls: Vec<String>,
    authorized_calls: usize,
    etag_counter: u64,
}

#[derive(Clone)]
pub struct FakeGsm {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGsm {
    pub async fn start() -> FakeGsm {
        let inner = Arc::new(Mutex::new(Inner {
            secrets: BTreeMap::new(),
            faults: Faults::default(),
            rng: StdRng::seed_from_u64(0),
            denied: Vec::new(),
            default_page_size: 25,
            calls: Vec::new(),
            authorized_calls: 0,
            etag_counter: 0,
        }));
        let app = Router::new()
            .route("/v1/projects/{project}/secrets", get(list_secrets).post(create_secret))
            .route(
                "/v1/projects/{project}/secrets/{secret}",
                get(get_secret).delete(delete_secret).post(secret_action),
            )
            .route("/v1/projects/{project}/secrets/{secret}/versions", get(list_versions))
            .route("/v1/projects/{project}/secrets/{secret}/versions/{version}", get(get_version))
            .fallback(|method: Method, uri: axum::http::Uri| async move {
                error(StatusCode::NOT_FOUND, "NOT_FOUND", &format!("The fake has no {method} {}", uri.path()))
            })
            .with_state(inner.clone());
        let listener =
            tokio::net::TcpListener::bind((crate::helpers::EMULATOR_HOST, 0)).await.expect("bind the fake");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the fake serves") });
        FakeGsm { addr, inner }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every secret held, by id.
    pub fn secrets(&self) -> BTreeMap<String, FakeSecret> {
        self.lock().secrets.clone()
    }

    /// Puts a secret in place as someone else would have made it.
    pub fn insert(&self, id: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) {
        let mut inner = self.lock();
        let secret = FakeSecret {
            name: format!("projects/{PROJECT_NUMBER}/secrets/{id}"),
            id: id.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            annotations: annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            replication: json!({"automatic": {}}),
            ttl: None,
            expire_time: None,
            create_time: now(),
            etag: "\"fake-etag-0\"".into(),
            versions: Vec::new(),
        };
        inner.secrets.insert(id.into(), secret);
    }

    /// From now on, a fraction of calls is answered 429 RESOURCE_EXHAUSTED and another fraction
    /// 503 UNAVAILABLE, drawn from an RNG seeded with `seed`; the call then has no effect.
    pub fn set_faults(&self, throttle: f64, unavailable: f64, seed: u64) {
        let mut inner = self.lock();
        inner.faults = Faults { throttle, unavailable };
        inner.rng = StdRng::seed_from_u64(seed);
    }

    /// Calls needing `permission` (`secretmanager.secrets.create`, ...) get 403 PERMISSION_DENIED.
    pub fn deny(&self, permission: &str) {
        self.lock().denied.push(permission.into());
    }

    pub fn set_default_page_size(&self, size: usize) {
        self.lock().default_page_size = size;
    }

    /// `"<METHOD> <path>"` of every call received, in order (faulted ones included).
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// How many calls carried an `Authorization` header.
    pub fn authorized_calls(&self) -> usize {
        self.lock().authorized_calls
    }
}

type Shared = Arc<Mutex<Inner>>;

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("a timestamp")
}

fn error(status: StatusCode, name: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": name}});
    (status, Json(body)).into_response()
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", what)
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// Whether the client asked for enums as numbers (`$alt=json;enum-encoding=int`).
fn int_enums(query: &HashMap<String, String>) -> bool {
    query.get("$alt").is_some_and(|alt| alt.contains("enum-encoding=int"))
}

/// Common entry of every handler: records the call, checks the project, injects faults and
/// denials. Returns the guard to go on with, or the answer to send.
fn enter<'a>(
    state: &'a Shared,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    project: &str,
    permission: &str,
) -> Result<std::sync::MutexGuard<'a, Inner>, Response> {
    let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
    inner.calls.push(format!("{method} {path}"));
    if headers.contains_key(axum::http::header::AUTHORIZATION) {
        inner.authorized_calls += 1;
    }
    let Faults { throttle, unavailable } = inner.faults.clone();
    if throttle + unavailable > 0.0 {
        let draw: f64 = inner.rng.gen();
        if draw < throttle {
            return Err(error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute' \
                 of service 'secretmanager.googleapis.com'.",
            ));
        }
        if draw < throttle + unavailable {
            return Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "The service is currently unavailable.",
            ));
        }
    }
    if inner.denied.iter().any(|p| p == permission) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            &format!(
                "Permission '{permission}' denied for resource 'projects/{project}' (or it may not exist)."
            ),
        ));
    }
    if project.is_empty() {
        return Err(invalid("The project is missing."));
    }
    Ok(inner)
}

fn secret_json(secret: &FakeSecret) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(secret.name));
    out.insert("replication".into(), secret.replication.clone());
    out.insert("createTime".into(), json!(secret.create_time));
    if !secret.labels.is_empty() {
        out.insert("labels".into(), json!(secret.labels));
    }
    if !secret.annotations.is_empty() {
        out.insert("annotations".into(), json!(secret.annotations));
    }
    if let Some(expire) = &secret.expire_time {
        out.insert("expireTime".into(), json!(expire));
    }
    out.insert("etag".into(), json!(secret.etag));
    Value::Object(out)
}

fn version_json(secret: &FakeSecret, version: &FakeVersion, int_enums: bool) -> Value {
    let state = if int_enums {
        json!(match version.state {
            "ENABLED" => 1,
            "DISABLED" => 2,
            _ => 3,
        })
    } else {
        json!(version.state)
    };
    json!({
        "name": format!("{}/versions/{}", secret.name, version.number),
        "createTime": version.create_time,
        "state": state,
        "replicationStatus": {"automatic": {}},
        "etag": format!("\"v{}\"", version.number),
        "clientSpecifiedPayloadChecksum": false,
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_label_key(key: &str) -> bool {
    key.len() <= 63
        && key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn valid_label_value(value: &str) -> bool {
    value.len() <= 63
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Parses a protobuf JSON duration (`"604800s"`, `"1.5s"`).
fn parse_duration(text: &str) -> Option<time::Duration> {
    let seconds: f64 = text.strip_suffix('s')?.parse().ok()?;
    (seconds >= 0.0).then(|| time::Duration::seconds_f64(seconds))
}

fn string_map(value: Option<&Value>, what: &str) -> Result<BTreeMap<String, String>, Response> {
    let Some(value) = value else { return Ok(BTreeMap::new()) };
    let object = value.as_object().ok_or_else(|| invalid(&format!("{what} must be a map")))?;
    object
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().ok_or_else(|| invalid(&format!("{what} values must be strings")))?;
            Ok((k.clone(), v.to_string()))
        })
        .collect()
}

async fn create_secret(
    State(state): State<Shared>,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1/projects/{project}/secrets");
    let mut inner = match enter(&state, "POST", &path, &headers, &project, "secretmanager.secrets.create") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let id = query.get("secretId").cloned().unwrap_or_default();
    if !valid_id(&id) {
        return invalid("Invalid secret ID. Secret IDs must match [a-zA-Z0-9_-]{1,255}.");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received.");
    };
    let replication = match body.get("replication") {
        Some(r) if r.get("automatic").is_some() || r.get("userManaged").is_some() => r.clone(),
        _ => return invalid("Secret.replication is required."),
    };
    let labels = match string_map(body.get("labels"), "labels") {
        Ok(labels) => labels,
        Err(answer) => return answer,
    };
    if labels.len() > 64 || !labels.iter().all(|(k, v)| valid_label_key(k) && valid_label_value(v)) {
        return invalid(
            "Secret.labels is invalid: keys must match [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}.",
        );
    }
    let annotations = match string_map(body.get("annotations"), "annotations") {
        Ok(annotations) => annotations,
        Err(answer) => return answer,
    };
    let annotation_bytes: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if annotation_bytes > 16 * 1024 || annotations.keys().any(|k| k.is_empty() || k.len() > 63) {
        return invalid("Secret.annotations is invalid.");
    }
    let ttl = body.get("ttl").and_then(Value::as_str).map(str::to_string);
    let expire_time = match (&ttl, body.get("expireTime").and_then(Value::as_str)) {
        (Some(_), Some(_)) => return invalid("Only one of ttl and expireTime may be set."),
        (Some(ttl), None) => match parse_duration(ttl) {
            Some(d) => Some((OffsetDateTime::now_utc() + d).format(&Rfc3339).expect("a timestamp")),
            None => return invalid("Secret.ttl is not a valid duration."),
        },
        (None, Some(expire)) => Some(expire.to_string()),
        (None, None) => None,
    };
    let name = format!("projects/{PROJECT_NUMBER}/secrets/{id}");
    if inner.secrets.contains_key(&id) {
        return error(StatusCode::CONFLICT, "ALREADY_EXISTS", &format!("Secret [{name}] already exists."));
    }
    inner.etag_counter += 1;
    let secret = FakeSecret {
        name,
        id: id.clone(),
        labels,
        annotations,
        replication,
        ttl,
        expire_time,
        create_time: now(),
        etag: format!("\"fake-etag-{}\"", inner.etag_counter),
        versions: Vec::new(),
    };
    let answer = secret_json(&secret);
    inner.secrets.insert(id, secret);
    Json(answer).into_response()
}

/// One filter term matched against a secret.
fn term_matches(term: &str, secret: &FakeSecret) -> Result<bool, ()> {
    if let Some(rest) = term.strip_prefix("labels.") {
        let (key, op, value) = match (rest.find('='), rest.find(':')) {
            (Some(i), _) => (&rest[..i], '=', &rest[i + 1..]),
            (None, Some(i)) => (&rest[..i], ':', &rest[i + 1..]),
            (None, None) => return Err(()),
        };
        let value = value.trim_matches('"');
        let label = secret.labels.get(key);
        return Ok(match (op, value) {
            (':', "*") => label.is_some(),
            (':', v) => label.is_some_and(|l| l.contains(v)),
            (_, v) => label.is_some_and(|l| l == v),
        });
    }
    if let Some(text) = term.strip_prefix("name:") {
        return Ok(secret.name.contains(text.trim_matches('"')));
    }
    Err(())
}

fn page<T: Clone>(
    items: &[T],
    query: &HashMap<String, String>,
    default: usize,
) -> Result<(Vec<T>, String), Response> {
    let size = match query.get("pageSize").map(|s| s.parse::<i64>()) {
        None => default,
        Some(Ok(0)) => default,
        Some(Ok(n)) if (1..=25000).contains(&n) => usize::try_from(n).unwrap_or(default),
        _ => return Err(invalid("pageSize must be between 1 and 25000.")),
    };
    let start = match query.get("pageToken").map(String::as_str) {
        None | Some("") => 0,
        Some(token) => token.parse::<usize>().map_err(|_| invalid("Invalid page token."))?,
    };
    let end = (start + size).min(items.len());
    let next = if end < items.len() { end.to_string() } else { String::new() };
    Ok((items.get(start..end).unwrap_or_default().to_vec(), next))
}

async fn list_secrets(
    State(state): State<Shared>,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/projects/{project}/secrets");
    let inner = match enter(&state, "GET", &path, &headers, &project, "secretmanager.secrets.list") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let filter = query.get("filter").map(String::as_str).unwrap_or_default();
    let terms: Vec<&str> = filter.split_whitespace().filter(|t| *t != "AND").collect();
    let mut matching = Vec::new();
    for secret in inner.secrets.values() {
        let mut all = true;
        for term in &terms {
            match term_matches(term, secret) {
                Ok(matched) => all &= matched,
                Err(()) => return invalid(&format!("Invalid filter: {filter}")),
            }
        }
        if all {
            matching.push(secret.clone());
        }
    }
    let (items, next) = match page(&matching, &query, inner.default_page_size) {
        Ok(page) => page,
        Err(answer) => return answer,
    };
    let mut out =
        json!({"secrets": items.iter().map(secret_json).collect::<Vec<_>>(), "totalSize": matching.len()});
    if items.is_empty() {
        out.as_object_mut().expect("an object").remove("secrets");
    }
    if !next.is_empty() {
        out["nextPageToken"] = json!(next);
    }
    Json(out).into_response()
}

async fn get_secret(
    State(state): State<Shared>,
    Path((project, secret)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/projects/{project}/secrets/{secret}");
    let inner = match enter(&state, "GET", &path, &headers, &project, "secretmanager.secrets.get") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    match inner.secrets.get(&secret) {
        Some(found) => Json(secret_json(found)).into_response(),
        None => not_found(&format!("Secret [projects/{PROJECT_NUMBER}/secrets/{secret}] not found.")),
    }
}

async fn delete_secret(
    State(state): State<Shared>,
    Path((project, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/projects/{project}/secrets/{secret}");
    let mut inner = match enter(&state, "DELETE", &path, &headers, &project, "secretmanager.secrets.delete") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let Some(found) = inner.secrets.get(&secret) else {
        return not_found(&format!("Secret [projects/{PROJECT_NUMBER}/secrets/{secret}] not found."));
    };
    if let Some(etag) = query.get("etag").filter(|e| !e.is_empty()) {
        if *etag != found.etag {
            return error(StatusCode::CONFLICT, "ABORTED", "The etag does not match the secret's.");
        }
    }
    inner.secrets.remove(&secret);
    Json(json!({})).into_response()
}

/// `POST .../secrets/{secret}:addVersion` (the custom verb is part of the last segment).
async fn secret_action(
    State(state): State<Shared>,
    Path((project, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = secret.strip_suffix(":addVersion") else {
        return not_found(&format!("The fake has no POST /v1/projects/{project}/secrets/{secret}"));
    };
    let path = format!("/v1/projects/{project}/secrets/{secret}:addVersion");
    let mut inner = match enter(&state, "POST", &path, &headers, &project, "secretmanager.versions.add") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid JSON payload received.");
    };
    let data = body.pointer("/payload/data").and_then(Value::as_str).unwrap_or_default();
    let Ok(data) = base64::engine::general_purpose::STANDARD.decode(data) else {
        return invalid("Invalid value at 'payload.data' (TYPE_BYTES): not base64.");
    };
    if data.len() > 64 * 1024 {
        return invalid("Secret payload data must be no larger than 64KiB.");
    }
    let Some(found) = inner.secrets.get_mut(secret) else {
        return not_found(&format!("Secret [projects/{PROJECT_NUMBER}/secrets/{secret}] not found."));
    };
    let version =
        FakeVersion { number: found.versions.len() as u64 + 1, data, state: "ENABLED", create_time: now() };
    found.versions.push(version);
    let found = found.clone();
    Json(version_json(&found, found.versions.last().expect("just added"), int_enums(&query))).into_response()
}

async fn list_versions(
    State(state): State<Shared>,
    Path((project, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/projects/{project}/secrets/{secret}/versions");
    let inner = match enter(&state, "GET", &path, &headers, &project, "secretmanager.versions.list") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let Some(found) = inner.secrets.get(&secret) else {
        return not_found(&format!("Secret [projects/{PROJECT_NUMBER}/secrets/{secret}] not found."));
    };
    if query.get("filter").is_some_and(|f| !f.is_empty()) {
        return invalid("The fake does not filter versions.");
    }
    // Google lists the newest first.
    let newest_first: Vec<FakeVersion> = found.versions.iter().rev().cloned().collect();
    let (items, next) = match page(&newest_first, &query, inner.default_page_size) {
        Ok(page) => page,
        Err(answer) => return answer,
    };
    let enums = int_enums(&query);
    let mut out = json!({"totalSize": newest_first.len()});
    if !items.is_empty() {
        out["versions"] = json!(items.iter().map(|v| version_json(found, v, enums)).collect::<Vec<_>>());
    }
    if !next.is_empty() {
        out["nextPageToken"] = json!(next);
    }
    Json(out).into_response()
}

/// `GET .../versions/{version}` and `GET .../versions/{version}:access`.
async fn get_version(
    State(state): State<Shared>,
    Path((project, secret, version)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (version, access) = match version.strip_suffix(":access") {
        Some(v) => (v.to_string(), true),
        None => (version, false),
    };
    let permission = if access { "secretmanager.versions.access" } else { "secretmanager.versions.get" };
    let path = format!(
        "/v1/projects/{project}/secrets/{secret}/versions/{version}{}",
        if access { ":access" } else { "" }
    );
    let inner = match enter(&state, "GET", &path, &headers, &project, permission) {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let missing = || {
        not_found(&format!(
            "Secret Version [projects/{PROJECT_NUMBER}/secrets/{secret}/versions/{version}] not found."
        ))
    };
    let Some(found) = inner.secrets.get(&secret) else { return missing() };
    let chosen = if version == "latest" {
        found.versions.last()
    } else {
        version.parse::<u64>().ok().and_then(|n| found.versions.iter().find(|v| v.number == n))
    };
    let Some(chosen) = chosen else { return missing() };
    if !access {
        return Json(version_json(found, chosen, int_enums(&query))).into_response();
    }
    if chosen.state != "ENABLED" {
        return error(
            StatusCode::BAD_REQUEST,
            "FAILED_PRECONDITION",
            &format!(
                "Secret Version [{}/versions/{}] is in {} state.",
                found.name, chosen.number, chosen.state
            ),
        );
    }
    Json(json!({
        "name": format!("{}/versions/{}", found.name, chosen.number),
        "payload": {"data": base64::engine::general_purpose::STANDARD.encode(&chosen.data)},
    }))
    .into_response()
}
