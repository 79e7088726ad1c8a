//! The gate every call of the fake passes first: it is recorded, then answered with an injected
//! fault or denial instead of taking effect, when the test asked for one.

use super::answers::{error, invalid};
use super::{Faults, Inner, Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rand::Rng;

/// Common entry of every handler: records the call, checks the project, injects faults and
/// denials. Returns the guard to go on with, or the answer to send.
pub(super) fn enter<'a>(
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
