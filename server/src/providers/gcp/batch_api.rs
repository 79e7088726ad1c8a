//! The three calls of Google's Batch API v1 the head job needs (`jobs.create`, `jobs.get`,
//! `jobs.delete`), over its REST surface (`https://batch.googleapis.com/v1/…`, JSON with
//! Google's field names), with the environment's credentials. Google ships no Batch client for
//! Rust in the registry this project builds from (`google-cloud-batch-v1` does not exist there),
//! so this is the thinnest client that does: no retries of its own (the worker retries from
//! durable rows) and a short timeout per call.
//!
//! Guarantees: the request body (which holds the run token in the job's environment) is never
//! formatted into a log or an error; errors carry Google's status name and message, and only
//! the status name and HTTP status when the endpoint is not Google's own (`opaque`).

use crate::providers::opaque::{opaque, Answer};
use crate::providers::ProviderError;
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use serde_json::Value;
use std::time::Duration;

/// Google's own Batch endpoint.
pub const BATCH_ENDPOINT: &str = "https://batch.googleapis.com";
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest message kept from an answer.
const MAX_MESSAGE: usize = 300;

/// A Batch API client for one environment.
pub struct BatchApi {
    http: reqwest::Client,
    /// `https://batch.googleapis.com`, or the environment's custom endpoint.
    base: String,
    /// `None`: the host's Application Default Credentials, made on the first call.
    credentials: Option<Credentials>,
    trusted_errors: bool,
}

/// A failed call: what the worker should do, and whether Google said the job does not exist or
/// already exists (so the caller can tell a gone job and a repeated create from a failure).
#[derive(Debug)]
pub struct BatchError {
    pub error: ProviderError,
    pub status: Option<u16>,
}

impl BatchError {
    pub fn not_found(&self) -> bool {
        self.status == Some(404)
    }

    pub fn already_exists(&self) -> bool {
        self.status == Some(409)
    }
}

impl BatchApi {
    pub fn new(endpoint: Option<&str>, credentials: Option<Credentials>, trusted_errors: bool) -> BatchApi {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            // A redirect would carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let base = endpoint.unwrap_or(BATCH_ENDPOINT).trim_end_matches('/').to_string();
        BatchApi { http, base, credentials, trusted_errors }
    }

    async fn auth_headers(&self) -> Result<http::HeaderMap, BatchError> {
        let unavailable = |what: String| BatchError { error: ProviderError::Unavailable(what), status: None };
        let credentials = match &self.credentials {
            Some(credentials) => credentials.clone(),
            None => google_cloud_auth::credentials::Builder::default().build().map_err(|_| BatchError {
                error: ProviderError::Rejected(
                    "no Google credentials: the environment has none and the host has no Application \
                     Default Credentials"
                        .into(),
                ),
                status: None,
            })?,
        };
        match credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => Ok(http::HeaderMap::new()),
            Err(_) => Err(unavailable("could not get an access token for the Batch API".into())),
        }
    }

    /// Sends one call; the JSON answer, or the error sorted by Google's status.
    async fn call(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
        permission: &str,
    ) -> Result<Value, BatchError> {
        let headers = self.auth_headers().await?;
        let mut request =
            self.http.request(method, format!("{}/v1/{path_and_query}", self.base)).headers(headers);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = match request.send().await {
            Ok(answer) => answer,
            Err(e) => {
                let timed_out = e.is_timeout();
                let error = ProviderError::Unavailable(format!(
                    "the Batch API could not be reached ({})",
                    if timed_out { "timed out" } else { "connection failed" }
                ));
                return Err(BatchError { error, status: None });
            }
        };
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(|_| BatchError {
                error: ProviderError::Unavailable("the Batch API's answer was not JSON".into()),
                status: Some(status),
            });
        }
        Err(BatchError { error: self.sort(status, &text, permission), status: Some(status) })
    }

    /// Sorts an error answer (`{"error": {"code", "message", "status"}}`) by what to do next.
    fn sort(&self, status: u16, text: &str, permission: &str) -> ProviderError {
        let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let name = body["error"]["status"].as_str().filter(|s| is_status_name(s)).map(str::to_string);
        let said: String =
            body["error"]["message"].as_str().unwrap_or_default().chars().take(MAX_MESSAGE).collect();
        let message = match &name {
            Some(name) if !said.is_empty() => format!("{name}: {said}"),
            Some(name) => name.clone(),
            None => format!("HTTP {status}"),
        };
        let mapped = match status {
            429 => ProviderError::Throttled(message),
            403 => ProviderError::Denied { permission: permission.into(), message },
            401 => ProviderError::Rejected(format!("the credentials were refused: {message}")),
            500..=599 => ProviderError::Unavailable(message),
            _ => ProviderError::Rejected(message),
        };
        if self.trusted_errors {
            return mapped;
        }
        let answer = Answer { status: Some(status), not_found: status == 404, timed_out: false, code: name };
        opaque(mapped, permission, answer)
    }

    /// `jobs.create`: `parent` is `projects/<p>/locations/<l>`.
    pub async fn create_job(&self, parent: &str, job_id: &str, job: &Value) -> Result<Value, BatchError> {
        let path = format!("{parent}/jobs?jobId={job_id}");
        self.call(reqwest::Method::POST, &path, Some(job), "batch.jobs.create").await
    }

    /// `jobs.get`: `name` is `projects/<p>/locations/<l>/jobs/<id>`.
    pub async fn get_job(&self, name: &str) -> Result<Value, BatchError> {
        self.call(reqwest::Method::GET, name, None, "batch.jobs.get").await
    }

    /// `jobs.delete`: starts deleting the job (and so stops it); the operation is not awaited.
    pub async fn delete_job(&self, name: &str) -> Result<Value, BatchError> {
        self.call(reqwest::Method::DELETE, name, None, "batch.jobs.delete").await
    }
}

/// Google's status names are upper-case words (`NOT_FOUND`): anything else is not repeated.
fn is_status_name(name: &str) -> bool {
    (1..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}
