//! Google Batch target: one Google Secret Manager secret per copy, through Google's own Rust
//! client (`google-cloud-secretmanager-v1`, HTTP+JSON to `secretmanager.googleapis.com`).
//!
//! Each copy is the secret `tower-<workflowId>-<NAME>` (ids cannot hold `/`) with automatic
//! replication, one version holding the value, and a `ttl` so Google deletes it on its own if
//! Strongroom never gets to (the cleanup job deletes it when the run ends). Tasks read it as
//! `projects/<project>/secrets/tower-<wf>-<NAME>/versions/latest`.
//!
//! Guarantees:
//! - the value goes only into the `AddSecretVersion` request body; it is never logged, never put
//!   in an error (errors carry Google's status message or the transport error, neither of which
//!   echoes a request body);
//! - `create_copy` is idempotent: an existing secret is adopted only when its `managed-by` label
//!   *and* the exact install id, workflow id and name in its annotations are ours (a foreign
//!   secret of the same id is refused with `Rejected`), and a version is added only when the
//!   secret has no enabled version, so a retry after a lost answer never makes a second version;
//! - `list_managed` returns only secrets whose label and exact install-id annotation are ours;
//! - the client never retries on its own (the worker retries from durable rows) and every
//!   attempt has a short timeout; writes are paced per project below Google's 600 writes/min.

use super::paging::PageBound;
use super::{CopySpec, CreatedCopy, ManagedCopy, PreflightFailure, ProviderError, SecretStore};
use crate::crypto::SecretBytes;
use async_trait::async_trait;
use google_cloud_gax::error::rpc::Code;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{
    replication::Automatic, secret_version::State, Replication, Secret, SecretPayload,
};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Label keys (values must be lowercase, so the exact ids also go into annotations).
pub const LABEL_MANAGED_BY: &str = "managed-by";
pub const LABEL_WORKFLOW_ID: &str = "workflow-id";
/// Annotation keys: the exact, case-preserved ids.
pub const ANNOTATION_INSTALL_ID: &str = "strongroom-install-id";
pub const ANNOTATION_WORKFLOW_ID: &str = "strongroom-workflow-id";
pub const ANNOTATION_NAME: &str = "strongroom-secret-name";
/// Marks the preflight probe, which `list_managed` leaves out (its own short ttl removes it).
pub const ANNOTATION_PROBE: &str = "strongroom-preflight-probe";

/// The safety net: Google deletes a copy this long after it was made, even if cleanup never ran.
pub const COPY_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const PROBE_TTL: Duration = Duration::from_secs(3600);
/// One attempt of one call; the worker decides about retrying.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Google allows 600 writes per minute per project; 9/s with a burst of 9 stays under 550.
const WRITES_PER_SECOND: u32 = 9;

/// The environment variable listing `NAME=<resource>` for every copy of a run.
pub const ENV_SECRETS: &str = "STRONGROOM_GOOGLE_SECRETS";

pub struct GoogleStore {
    client: SecretManagerService,
    project: String,
    /// `managed-by` label value: the install id, sanitised to label rules.
    managed_by: String,
    /// The exact install id, kept in an annotation.
    install_id: String,
    /// The platform service account (from the key), for the commands preflight prints.
    client_email: Option<String>,
    writes: Arc<DefaultDirectRateLimiter>,
    /// Whether errors come from Google itself (no endpoint, or an `https://*.googleapis.com`
    /// one), whose messages may be shown; a custom endpoint's are not (`opaque`).
    trusted_errors: bool,
    /// The custom endpoint's origin, to name the target in errors.
    endpoint: Option<String>,
}

/// One limiter per project, shared by every store of this process that writes to it.
fn write_limiter(project: &str) -> Arc<DefaultDirectRateLimiter> {
    static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>> = OnceLock::new();
    let mut limiters = LIMITERS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    limiters
        .entry(project.to_string())
        .or_insert_with(|| {
            let rate = NonZeroU32::new(WRITES_PER_SECOND).expect("non-zero");
            Arc::new(RateLimiter::direct(Quota::per_second(rate)))
        })
        .clone()
}

/// Turns any id into a Google label value: lowercase letters, digits, `_` and `-`, at most 63
/// characters (other characters become `-`).
pub fn label_value(raw: &str) -> String {
    raw.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' { c } else { '-' })
        .take(63)
        .collect()
}

/// Secret ids: letters, digits, `_` and `-`, at most 255 characters.
fn valid_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses the credential keys: Seqera's `GoogleSecurityKeys` `{"data": "<key JSON>"}` (the key
/// may also be given as an object).
fn service_account_key(keys: &SecretBytes) -> Result<serde_json::Value, ProviderError> {
    let bad = || {
        ProviderError::Rejected(
            "The Google credentials must be {\"data\": \"<service account key JSON>\"}.".into(),
        )
    };
    let keys: serde_json::Value = serde_json::from_slice(keys.expose_secret()).map_err(|_| bad())?;
    let key = match keys.get("data") {
        Some(serde_json::Value::String(text)) => serde_json::from_str(text).map_err(|_| bad())?,
        Some(object @ serde_json::Value::Object(_)) => object.clone(),
        _ => return Err(bad()),
    };
    if key.get("type").and_then(|t| t.as_str()) != Some("service_account") {
        return Err(ProviderError::Rejected(
            "The Google credentials must hold a service account key (\"type\": \"service_account\").".into(),
        ));
    }
    Ok(key)
}

impl GoogleStore {
    pub async fn open(target: &super::Target<'_>) -> Result<GoogleStore, ProviderError> {
        let project = target.config.project.as_deref().unwrap_or_default().trim().to_string();
        if project.is_empty() || !project.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b)) {
            return Err(ProviderError::Rejected(
                "The compute environment needs the Google Cloud project id (config.project).".into(),
            ));
        }
        let install_id = target.install_id.to_string();
        let managed_by = label_value(&install_id);
        if managed_by.is_empty() {
            return Err(ProviderError::Rejected("The install id is empty.".into()));
        }
        // The client is built without a default rustls provider; ring is the one this build
        // already carries. An error only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let mut builder = SecretManagerService::builder()
            .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry)
            .with_attempt_timeout(ATTEMPT_TIMEOUT);
        let endpoint = target.config.endpoint_url.as_deref().map(str::trim).filter(|e| !e.is_empty());
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let mut client_email = None;
        match (target.credentials, endpoint) {
            (Some(keys), _) => {
                let key = service_account_key(keys)?;
                client_email = key.get("client_email").and_then(|e| e.as_str()).map(str::to_string);
                let credentials = google_cloud_auth::credentials::service_account::Builder::new(key)
                    .build()
                    .map_err(|_| {
                        ProviderError::Rejected("The Google service account key could not be used.".into())
                    })?;
                builder = builder.with_credentials(credentials);
            }
            // An emulator or a test double: no credentials at all.
            (None, Some(_)) => {
                builder = builder
                    .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build());
            }
            // Neither: the host's Application Default Credentials (the builder's default).
            (None, None) => {}
        }
        let client = builder.build().await.map_err(|e| {
            ProviderError::Rejected(format!("could not set up the Secret Manager client: {e}"))
        })?;
        let endpoint_url = endpoint.and_then(|e| url::Url::parse(e).ok());
        Ok(GoogleStore {
            trusted_errors: endpoint.is_none()
                || endpoint_url.as_ref().is_some_and(super::endpoints::is_google_api),
            endpoint: endpoint_url.map(|u| u.origin().ascii_serialization()),
            writes: write_limiter(&project),
            client,
            project,
            managed_by,
            install_id,
            client_email,
        })
    }

    /// Maps a client error, repeating what the endpoint said only when it is Google itself.
    fn error(&self, error: &google_cloud_gax::error::Error, permission: &str) -> ProviderError {
        let mapped = map_error(error, permission);
        if self.trusted_errors {
            return mapped;
        }
        let status = error.http_status_code();
        let not_found = status == Some(404) || code(error) == Some(Code::NotFound);
        // The status name is one of a fixed set the client parsed the answer into: safe to keep.
        let code = error.status().map(|s| s.code.name().to_string());
        let answer = super::opaque::Answer { status, not_found, timed_out: error.is_timeout(), code };
        super::opaque::opaque(mapped, permission, answer)
    }

    /// Names this target in errors, without credentials.
    fn describe(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("project {} at {e}", self.project),
            None => format!("project {}", self.project),
        }
    }

    fn secret_name(&self, id: &str) -> String {
        format!("projects/{}/secrets/{id}", self.project)
    }

    fn copy_id(copy: &CopySpec<'_>) -> Result<String, ProviderError> {
        let id = super::google_copy_name(copy.workflow_id, copy.name);
        if copy.workflow_id.is_empty() || copy.name.is_empty() || !valid_secret_id(&id) {
            return Err(ProviderError::Rejected(format!("'{id}' cannot be a Google secret id")));
        }
        Ok(id)
    }

    /// The reference tasks use.
    pub fn reference(&self, workflow_id: &str, name: &str) -> String {
        format!("{}/versions/latest", self.secret_name(&super::google_copy_name(workflow_id, name)))
    }

    fn is_ours(&self, secret: &Secret) -> bool {
        secret.labels.get(LABEL_MANAGED_BY) == Some(&self.managed_by)
            && secret.annotations.get(ANNOTATION_INSTALL_ID) == Some(&self.install_id)
    }

    fn new_secret(
        &self,
        ttl: Duration,
        labels: Vec<(&str, String)>,
        annotations: Vec<(&str, String)>,
    ) -> Secret {
        let ttl = google_cloud_wkt::Duration::clamp(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX), 0);
        Secret::new()
            .set_replication(Replication::new().set_automatic(Automatic::new()))
            .set_labels(labels)
            .set_annotations(annotations)
            .set_ttl(ttl)
    }

    async fn create_secret(&self, id: &str, secret: Secret) -> Result<bool, google_cloud_gax::error::Error> {
        self.writes.until_ready().await;
        let created = self
            .client
            .create_secret()
            .set_parent(format!("projects/{}", self.project))
            .set_secret_id(id)
            .set_secret(secret)
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(Code::AlreadyExists) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn has_enabled_version(&self, secret: &str) -> Result<bool, ProviderError> {
        let mut page_token = String::new();
        let mut bound = PageBound::new(format!("the versions of {secret} in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .client
                .list_secret_versions()
                .set_parent(secret)
                .set_page_token(page_token)
                .send()
                .await
                .map_err(|e| self.error(&e, "secretmanager.versions.list"))?;
            if page.versions.iter().any(|v| v.state == State::Enabled) {
                return Ok(true);
            }
            if page.next_page_token.is_empty() {
                return Ok(false);
            }
            page_token = page.next_page_token;
        }
    }

    async fn add_version(&self, secret: &str, value: &[u8]) -> Result<(), google_cloud_gax::error::Error> {
        self.writes.until_ready().await;
        // The client holds the bytes only for the request (`bytes::Bytes`, not zeroised).
        let payload = SecretPayload::new().set_data(value.to_vec());
        self.client.add_secret_version().set_parent(secret).set_payload(payload).send().await.map(|_| ())
    }

    async fn delete_secret(&self, secret: &str) -> Result<(), google_cloud_gax::error::Error> {
        self.writes.until_ready().await;
        match self.client.delete_secret().set_name(secret).send().await {
            Ok(()) => Ok(()),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The IAM commands that make launches work, ready to copy.
    fn iam_fix(&self) -> String {
        let platform = self
            .client_email
            .as_deref()
            .map(|email| format!("serviceAccount:{email}"))
            .unwrap_or_else(|| "serviceAccount:PLATFORM_SERVICE_ACCOUNT_EMAIL".into());
        let p = &self.project;
        format!(
            "Grant the platform's service account Secret Manager Admin on the project, and the \
             service account the Batch jobs run as (by default PROJECT_NUMBER-compute@developer.gserviceaccount.com) \
             Secret Manager Secret Accessor:\n\
             gcloud projects add-iam-policy-binding {p} --member={platform} --role=roles/secretmanager.admin\n\
             gcloud projects add-iam-policy-binding {p} --member=serviceAccount:BATCH_SERVICE_ACCOUNT_EMAIL --role=roles/secretmanager.secretAccessor\n\
             If the message says the Secret Manager API is disabled or has not been used in the project:\n\
             gcloud services enable secretmanager.googleapis.com --project={p}"
        )
    }

    fn preflight_failure(&self, step: &str, error: ProviderError) -> PreflightFailure {
        let fix = match &error {
            ProviderError::Denied { .. } => self.iam_fix(),
            ProviderError::Throttled(_) | ProviderError::Unavailable(_) => format!(
                "Check that this server can reach Secret Manager (secretmanager.googleapis.com, or the \
                 endpoint set on the compute environment) and try again.\n{}",
                self.iam_fix()
            ),
            ProviderError::Rejected(_) => format!(
                "Check the compute environment's project ({}) and credentials.\n{}",
                self.project,
                self.iam_fix()
            ),
        };
        PreflightFailure { step: step.into(), message: error.to_string(), fix }
    }
}

fn code(error: &google_cloud_gax::error::Error) -> Option<Code> {
    error.status().map(|s| s.code)
}

/// Sorts a client error by what the worker should do. `permission` is the IAM permission the
/// call needs, named in `Denied`. Messages are Google's status message or the transport error:
/// neither carries a request body, so never a value.
pub fn map_error(error: &google_cloud_gax::error::Error, permission: &str) -> ProviderError {
    let http = error.http_status_code();
    if let Some(status) = error.status() {
        let message = if status.message.is_empty() {
            status.code.name().to_string()
        } else {
            format!("{}: {}", status.code.name(), status.message)
        };
        match status.code {
            Code::ResourceExhausted => return ProviderError::Throttled(message),
            Code::PermissionDenied => {
                return ProviderError::Denied { permission: permission.into(), message };
            }
            Code::Unavailable | Code::Internal | Code::DeadlineExceeded | Code::Aborted => {
                return ProviderError::Unavailable(message);
            }
            Code::Unauthenticated => {
                return ProviderError::Rejected(format!("the credentials were refused: {message}"));
            }
            // Not a gRPC status Google would send: fall back to the HTTP status below.
            Code::Unknown if http.is_some() => {}
            Code::Unknown => return ProviderError::Unavailable(message),
            _ => return ProviderError::Rejected(message),
        }
    }
    if let Some(http) = http {
        let message = format!("HTTP {http}");
        return match http {
            429 => ProviderError::Throttled(message),
            403 => ProviderError::Denied { permission: permission.into(), message },
            401 => ProviderError::Rejected(format!("the credentials were refused: {message}")),
            408 | 500..=599 => ProviderError::Unavailable(message),
            _ => ProviderError::Rejected(message),
        };
    }
    if error.is_authentication() {
        // Getting a token failed: transient failures (the token endpoint) may pass.
        return ProviderError::Unavailable(format!("could not get a Google access token: {error}"));
    }
    if error.is_timeout() || error.is_io() || error.is_connect() || error.is_transport() {
        return ProviderError::Unavailable(error.to_string());
    }
    ProviderError::Rejected(error.to_string())
}

#[async_trait]
impl SecretStore for GoogleStore {
    #[tracing::instrument(skip_all, fields(workflow_id = copy.workflow_id, name = copy.name))]
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        let id = Self::copy_id(&copy)?;
        let secret_name = self.secret_name(&id);
        let secret = self.new_secret(
            COPY_TTL,
            vec![
                (LABEL_MANAGED_BY, self.managed_by.clone()),
                (LABEL_WORKFLOW_ID, label_value(copy.workflow_id)),
            ],
            vec![
                (ANNOTATION_INSTALL_ID, self.install_id.clone()),
                (ANNOTATION_WORKFLOW_ID, copy.workflow_id.to_string()),
                (ANNOTATION_NAME, copy.name.to_string()),
            ],
        );
        let created = self
            .create_secret(&id, secret)
            .await
            .map_err(|e| self.error(&e, "secretmanager.secrets.create"))?;
        if !created {
            // An earlier attempt, or someone else: adopt it only if it is ours, for this copy.
            let existing = self
                .client
                .get_secret()
                .set_name(&secret_name)
                .send()
                .await
                .map_err(|e| self.error(&e, "secretmanager.secrets.get"))?;
            let same_copy = existing.annotations.get(ANNOTATION_WORKFLOW_ID).map(String::as_str)
                == Some(copy.workflow_id)
                && existing.annotations.get(ANNOTATION_NAME).map(String::as_str) == Some(copy.name);
            if !self.is_ours(&existing) || !same_copy {
                return Err(ProviderError::Rejected(format!(
                    "the secret {id} already exists in project {} and was not made by this Strongroom \
                     install for this run; it was left alone",
                    self.project
                )));
            }
            if self.has_enabled_version(&secret_name).await? {
                return Ok(self.reference(copy.workflow_id, copy.name));
            }
        }
        self.add_version(&secret_name, value.expose_secret())
            .await
            .map_err(|e| self.error(&e, "secretmanager.versions.add"))?;
        Ok(self.reference(copy.workflow_id, copy.name))
    }

    #[tracing::instrument(skip_all, fields(workflow_id = copy.workflow_id, name = copy.name))]
    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        let id = Self::copy_id(&copy)?;
        self.delete_secret(&self.secret_name(&id))
            .await
            .map_err(|e| self.error(&e, "secretmanager.secrets.delete"))
    }

    async fn prepare_launch(
        &self,
        _workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        // Nothing to create: tasks read the secrets by resource name with the Batch service
        // account. The launch only needs to know which name maps to which resource.
        let list = copies.iter().map(|c| format!("{}={}", c.name, c.reference)).collect::<Vec<_>>().join(",");
        Ok(vec![(ENV_SECRETS.to_string(), list), ("GOOGLE_CLOUD_PROJECT".to_string(), self.project.clone())])
    }

    async fn finish_cleanup(&self, _workflow_id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let mut found = Vec::new();
        let mut page_token = String::new();
        let mut bound = PageBound::new(format!("this install's copies in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .client
                .list_secrets()
                .set_parent(format!("projects/{}", self.project))
                .set_filter(format!("labels.{LABEL_MANAGED_BY}={}", self.managed_by))
                .set_page_token(page_token)
                .send()
                .await
                .map_err(|e| self.error(&e, "secretmanager.secrets.list"))?;
            for secret in &page.secrets {
                // The filter is Google's; the exact install id is ours to check.
                if !self.is_ours(secret) || secret.annotations.contains_key(ANNOTATION_PROBE) {
                    continue;
                }
                if let Some(copy) = managed_copy(secret) {
                    found.push(copy);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(found);
            }
            page_token = page.next_page_token;
        }
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        self.client
            .list_secrets()
            .set_parent(format!("projects/{}", self.project))
            .set_page_size(1)
            .send()
            .await
            .map_err(|e| {
                self.preflight_failure("list secrets", self.error(&e, "secretmanager.secrets.list"))
            })?;

        let id = format!("tower-preflight-{}", uuid::Uuid::new_v4().simple());
        let name = self.secret_name(&id);
        let probe = self.new_secret(
            PROBE_TTL,
            vec![(LABEL_MANAGED_BY, self.managed_by.clone())],
            vec![(ANNOTATION_INSTALL_ID, self.install_id.clone()), (ANNOTATION_PROBE, "true".into())],
        );
        self.create_secret(&id, probe).await.map_err(|e| {
            self.preflight_failure("create a probe secret", self.error(&e, "secretmanager.secrets.create"))
        })?;
        let added = self.add_version(&name, b"strongroom preflight probe").await.map_err(|e| {
            self.preflight_failure(
                "add a version to the probe secret",
                self.error(&e, "secretmanager.versions.add"),
            )
        });
        let deleted = self.delete_secret(&name).await.map_err(|e| {
            self.preflight_failure("delete the probe secret", self.error(&e, "secretmanager.secrets.delete"))
        });
        added.and(deleted)
    }
}

/// Reads which copy a listed secret is: from the annotations, else from its id.
fn managed_copy(secret: &Secret) -> Option<ManagedCopy> {
    let from_annotations = secret
        .annotations
        .get(ANNOTATION_WORKFLOW_ID)
        .zip(secret.annotations.get(ANNOTATION_NAME))
        .map(|(w, n)| ManagedCopy { workflow_id: w.clone(), name: n.clone() });
    from_annotations.or_else(|| {
        let id = secret.name.rsplit('/').next()?;
        let (workflow_id, name) = id.strip_prefix("tower-")?.split_once('-')?;
        (!workflow_id.is_empty() && !name.is_empty())
            .then(|| ManagedCopy { workflow_id: workflow_id.into(), name: name.into() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::Status;
    use google_cloud_gax::error::Error;

    fn service(code: Code, message: &str) -> Error {
        Error::service(Status::default().set_code(code).set_message(message))
    }

    #[test]
    fn google_statuses_sort_into_retryable_and_final_errors() {
        let perm = "secretmanager.secrets.create";
        assert!(matches!(
            map_error(&service(Code::ResourceExhausted, "quota"), perm),
            ProviderError::Throttled(_)
        ));
        assert!(matches!(
            map_error(&service(Code::Unavailable, "down"), perm),
            ProviderError::Unavailable(_)
        ));
        assert!(matches!(map_error(&service(Code::Internal, "oops"), perm), ProviderError::Unavailable(_)));
        assert!(matches!(
            map_error(&service(Code::InvalidArgument, "bad"), perm),
            ProviderError::Rejected(_)
        ));
        assert!(matches!(
            map_error(&service(Code::Unauthenticated, "who"), perm),
            ProviderError::Rejected(_)
        ));
        assert_eq!(
            map_error(&service(Code::PermissionDenied, "Permission denied on resource"), perm),
            ProviderError::Denied {
                permission: perm.into(),
                message: "PERMISSION_DENIED: Permission denied on resource".into()
            }
        );
        assert!(map_error(&Error::timeout("slow"), perm).is_retryable());
        assert!(map_error(&Error::io("reset"), perm).is_retryable());
    }

    #[test]
    fn bare_http_statuses_sort_the_same_way() {
        let http = |code: u16| Error::http(code, http::HeaderMap::new(), Default::default());
        let perm = "secretmanager.secrets.delete";
        assert!(matches!(map_error(&http(429), perm), ProviderError::Throttled(_)));
        assert!(matches!(map_error(&http(403), perm), ProviderError::Denied { .. }));
        assert!(matches!(map_error(&http(502), perm), ProviderError::Unavailable(_)));
        assert!(matches!(map_error(&http(400), perm), ProviderError::Rejected(_)));
    }

    #[test]
    fn install_ids_become_valid_label_values() {
        assert_eq!(label_value("Prod-Install_01"), "prod-install_01");
        assert_eq!(label_value("a.b/c d@É"), "a-b-c-d--");
        assert_eq!(label_value(&"X".repeat(100)), "x".repeat(63));
        assert_eq!(
            label_value("550e8400-e29b-41d4-a716-446655440000"),
            "550e8400-e29b-41d4-a716-446655440000"
        );
    }

    #[test]
    fn listed_secrets_name_their_copy_from_annotations_or_id() {
        let by_id = Secret::new().set_name("projects/123/secrets/tower-1k0K4WlGep8ZTM-MY_TOKEN");
        assert_eq!(
            managed_copy(&by_id),
            Some(ManagedCopy { workflow_id: "1k0K4WlGep8ZTM".into(), name: "MY_TOKEN".into() })
        );
        let annotated = by_id.set_annotations([(ANNOTATION_WORKFLOW_ID, "wf"), (ANNOTATION_NAME, "N_1")]);
        assert_eq!(
            managed_copy(&annotated),
            Some(ManagedCopy { workflow_id: "wf".into(), name: "N_1".into() })
        );
        assert_eq!(managed_copy(&Secret::new().set_name("projects/p/secrets/other")), None);
    }

    #[test]
    fn service_account_keys_must_be_wrapped_in_data() {
        let wrapped = |json: &str| SecretBytes::from(json.as_bytes().to_vec());
        assert!(service_account_key(&wrapped(r#"{"data":"{\"type\":\"service_account\"}"}"#)).is_ok());
        assert!(service_account_key(&wrapped(r#"{"data":{"type":"service_account"}}"#)).is_ok());
        assert!(service_account_key(&wrapped(r#"{"type":"service_account"}"#)).is_err());
        assert!(service_account_key(&wrapped(r#"{"data":"{\"type\":\"authorized_user\"}"}"#)).is_err());
        let refused = service_account_key(&wrapped(r#"{"data":"not json -----BEGIN PRIVATE KEY-----"}"#));
        assert!(!refused.unwrap_err().to_string().contains("PRIVATE"));
    }
}
