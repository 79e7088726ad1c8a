//! The fake's secret calls: CreateSecret (with Google's checks of ids, labels, annotations and
//! `ttl`), ListSecrets (with its filter subset and paging), GetSecret and DeleteSecret (`etag`).

use super::answers::{error, invalid, not_found, now, page, secret_json};
use super::gate::enter;
use super::{FakeSecret, Shared, PROJECT_NUMBER};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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

pub(super) async fn create_secret(
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
    let mut secret = match secret_from_body(&id, &body) {
        Ok(secret) => secret,
        Err(answer) => return answer,
    };
    if inner.secrets.contains_key(&id) {
        let message = format!("Secret [{}] already exists.", secret.name);
        return error(StatusCode::CONFLICT, "ALREADY_EXISTS", &message);
    }
    inner.etag_counter += 1;
    secret.etag = format!("\"fake-etag-{}\"", inner.etag_counter);
    let answer = secret_json(&secret);
    inner.effects.push(format!("created {id}"));
    inner.secrets.insert(id, secret);
    Json(answer).into_response()
}

/// The secret a CreateSecret body describes, checked as Google checks it: replication, labels,
/// annotations, and `ttl` or `expireTime`. Its `etag` is left for the caller to set.
fn secret_from_body(id: &str, body: &[u8]) -> Result<FakeSecret, Response> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("Invalid JSON payload received."));
    };
    let replication = match body.get("replication") {
        Some(r) if r.get("automatic").is_some() || r.get("userManaged").is_some() => r.clone(),
        _ => return Err(invalid("Secret.replication is required.")),
    };
    let labels = string_map(body.get("labels"), "labels")?;
    if labels.len() > 64 || !labels.iter().all(|(k, v)| valid_label_key(k) && valid_label_value(v)) {
        return Err(invalid(
            "Secret.labels is invalid: keys must match [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}.",
        ));
    }
    let annotations = string_map(body.get("annotations"), "annotations")?;
    let annotation_bytes: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if annotation_bytes > 16 * 1024 || annotations.keys().any(|k| k.is_empty() || k.len() > 63) {
        return Err(invalid("Secret.annotations is invalid."));
    }
    let ttl = body.get("ttl").and_then(Value::as_str).map(str::to_string);
    let expire_time = match (&ttl, body.get("expireTime").and_then(Value::as_str)) {
        (Some(_), Some(_)) => return Err(invalid("Only one of ttl and expireTime may be set.")),
        (Some(ttl), None) => match parse_duration(ttl) {
            Some(d) => Some((OffsetDateTime::now_utc() + d).format(&Rfc3339).expect("a timestamp")),
            None => return Err(invalid("Secret.ttl is not a valid duration.")),
        },
        (None, Some(expire)) => Some(expire.to_string()),
        (None, None) => None,
    };
    Ok(FakeSecret {
        name: format!("projects/{PROJECT_NUMBER}/secrets/{id}"),
        id: id.to_string(),
        labels,
        annotations,
        replication,
        ttl,
        expire_time,
        create_time: now(),
        etag: String::new(),
        versions: Vec::new(),
    })
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

pub(super) async fn list_secrets(
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

pub(super) async fn get_secret(
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

pub(super) async fn delete_secret(
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
    inner.effects.push(format!("deleted {secret}"));
    Json(json!({})).into_response()
}
