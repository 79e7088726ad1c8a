//! The fake's Google Batch API v1 calls, on the same server as Secret Manager (a custom
//! endpoint serves both): `jobs.create` (`POST /v1/projects/{p}/locations/{l}/jobs?jobId=`, with
//! Google's job id rule, ALREADY_EXISTS, and the checks of the fields Strongroom sends),
//! `jobs.get` (the job as created, with the state and status events a test scripts) and
//! `jobs.delete` (a long-running `Operation`; the job is gone at once). Enums are names (the
//! Batch calls ask for no `enum-encoding`); int64 fields are strings, as in Google's JSON.

use super::answers::{error, invalid, not_found, now};
use super::gate::enter;
use super::{FakeJob, Shared, PROJECT_NUMBER};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Google's job id rule: `^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`.
fn valid_job_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What Google refuses in the fields Strongroom sends.
fn check_job(job: &Value) -> Result<(), Response> {
    let groups = job["taskGroups"].as_array().ok_or_else(|| invalid("taskGroups is required"))?;
    let spec = &groups.first().ok_or_else(|| invalid("taskGroups is required"))?["taskSpec"];
    let runnables = spec["runnables"].as_array().filter(|r| !r.is_empty());
    let container = &runnables.ok_or_else(|| invalid("runnables is required"))?[0]["container"];
    if container["imageUri"].as_str().is_none_or(str::is_empty) {
        return Err(invalid("container.imageUri is required"));
    }
    let resources = &spec["computeResource"];
    for field in ["cpuMilli", "memoryMib"] {
        // int64 in Google's JSON: a string of digits.
        if !resources[field].as_str().is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(&format!(
                "Invalid value at 'job.task_groups[0].task_spec.compute_resource.{field}'"
            )));
        }
    }
    if let Some(variables) = spec["environment"]["variables"].as_object() {
        if variables.values().any(|v| !v.is_string()) {
            return Err(invalid("environment variables must be strings"));
        }
    }
    Ok(())
}

fn job_json(job: &FakeJob) -> Value {
    let mut out = job.body.clone();
    out["name"] = json!(job.name);
    out["uid"] = json!(format!("{}-uid", job.id));
    out["createTime"] = json!(job.create_time);
    let events: Vec<Value> =
        job.events.iter().map(|d| json!({ "description": d, "eventTime": job.create_time })).collect();
    out["status"] = json!({ "state": job.state, "statusEvents": events });
    out
}

pub(super) async fn create_job(
    State(state): State<Shared>,
    Path((project, location)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1/projects/{project}/locations/{location}/jobs");
    let mut inner = match enter(&state, "POST", &path, &headers, &project, "batch.jobs.create") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    let id = query.get("jobId").cloned().unwrap_or_default();
    if !valid_job_id(&id) {
        return invalid("Job id must match ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$");
    }
    let Ok(job) = serde_json::from_slice::<Value>(&body) else { return invalid("The body is not a Job.") };
    if let Err(answer) = check_job(&job) {
        return answer;
    }
    if inner.jobs.contains_key(&id) {
        return error(StatusCode::CONFLICT, "ALREADY_EXISTS", &format!("Job {id} already exists."));
    }
    let fake = FakeJob {
        name: format!("projects/{PROJECT_NUMBER}/locations/{location}/jobs/{id}"),
        id: id.clone(),
        body: job,
        state: "QUEUED".into(),
        events: Vec::new(),
        create_time: now(),
    };
    let answer = job_json(&fake);
    inner.jobs.insert(id, fake);
    Json(answer).into_response()
}

pub(super) async fn get_job(
    State(state): State<Shared>,
    Path((project, location, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/projects/{project}/locations/{location}/jobs/{id}");
    let inner = match enter(&state, "GET", &path, &headers, &project, "batch.jobs.get") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    match inner.jobs.get(&id) {
        Some(job) => Json(job_json(job)).into_response(),
        None => not_found(&format!("Job {id} not found.")),
    }
}

pub(super) async fn delete_job(
    State(state): State<Shared>,
    Path((project, location, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/projects/{project}/locations/{location}/jobs/{id}");
    let mut inner = match enter(&state, "DELETE", &path, &headers, &project, "batch.jobs.delete") {
        Ok(inner) => inner,
        Err(answer) => return answer,
    };
    match inner.jobs.remove(&id) {
        Some(job) => {
            inner.deleted_jobs.push(job);
            let operation = format!("projects/{PROJECT_NUMBER}/locations/{location}/operations/delete-{id}");
            Json(json!({ "name": operation, "done": false })).into_response()
        }
        None => not_found(&format!("Job {id} not found.")),
    }
}
