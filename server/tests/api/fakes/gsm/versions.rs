//! The fake's version calls: AddSecretVersion (base64 payload, 64 KiB limit), ListSecretVersions
//! (newest first, paged), GetSecretVersion and AccessSecretVersion (`latest` included).

use super::answers::{error, int_enums, invalid, not_found, now, page, version_json};
use super::gate::enter;
use super::{FakeVersion, Shared, PROJECT_NUMBER};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `POST .../secrets/{secret}:addVersion` (the custom verb is part of the last segment).
pub(super) async fn secret_action(
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
    inner.effects.push(format!("version {secret}"));
    Json(version_json(&found, found.versions.last().expect("just added"), int_enums(&query))).into_response()
}

pub(super) async fn list_versions(
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
pub(super) async fn get_version(
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
