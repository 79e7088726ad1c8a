//! The fake's answers in Google's wire format: the error body, secrets and versions as JSON
//! (enums as numbers when asked), and paging.

use super::{FakeSecret, FakeVersion};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(super) fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("a timestamp")
}

pub(super) fn error(status: StatusCode, name: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": name}});
    (status, Json(body)).into_response()
}

pub(super) fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", what)
}

pub(super) fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
}

/// Whether the client asked for enums as numbers (`$alt=json;enum-encoding=int`).
pub(super) fn int_enums(query: &HashMap<String, String>) -> bool {
    query.get("$alt").is_some_and(|alt| alt.contains("enum-encoding=int"))
}

pub(super) fn secret_json(secret: &FakeSecret) -> Value {
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

pub(super) fn version_json(secret: &FakeSecret, version: &FakeVersion, int_enums: bool) -> Value {
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

pub(super) fn page<T: Clone>(
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
