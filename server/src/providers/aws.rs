//! AWS Batch targets: per-run copies in AWS Secrets Manager, handed to tasks through an AWS Batch
//! job definition (`containerProperties.secrets = [{name, valueFrom: <ARN>}]`).
//!
//! Guarantees, beyond those of [`SecretStore`]:
//! - a copy is named `tower-<workflowId>/<NAME>` and tagged `managed-by=<install id>`,
//!   `workflow-id`, `secret-name`; `list_managed` returns only secrets carrying this install's
//!   tag, and `create_copy` never adopts, nor `delete_copy` deletes, a secret of that name that
//!   is not tagged as this install's copy for that run;
//! - a retried `create_copy` sends the same `ClientRequestToken` (derived from install id,
//!   workflow id and name), so AWS itself treats it as the same request;
//! - copies are deleted with `ForceDeleteWithoutRecovery` (no 7–30 day recovery window holding the
//!   name and the value);
//! - no request is ever formatted into a log or an error: the SDK's `Debug` of a `CreateSecret`
//!   input would print the value. Errors carry the AWS error code and message only
//!   (`aws_errors`). The value does pass through the SDK as a `String` it does not zeroize;
//! - creates and deletes are paced below AWS's 50 requests/s quota per (region, endpoint), shared
//!   by every store of this process; the SDK does not retry (the worker retries with backoff) and
//!   times out quickly, so a call answers within seconds.

use super::aws_errors::{code_of, map_sdk_error, map_untrusted_sdk_error, message_of, scrub};
use super::aws_policy::{self, PolicyScope};
use super::paging::PageBound;
use super::{
    CopySpec, CreatedCopy, HostIdentity, ManagedCopy, PreflightFailure, ProviderError, SecretStore, Target,
};
use crate::crypto::SecretBytes;
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_batch::types::{ContainerProperties, JobDefinitionType, ResourceRequirement, ResourceType};
use aws_sdk_secretsmanager::config::{Credentials, Region, SharedHttpClient};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use zeroize::Zeroizing;

/// Tag keys on every copy (and on job definitions, except `secret-name`).
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const TAG_WORKFLOW_ID: &str = "workflow-id";
pub const TAG_SECRET_NAME: &str = "secret-name";
/// Tag on preflight probes, so `list_managed` never mistakes one for a copy.
pub const TAG_PURPOSE: &str = "purpose";
pub const PREFLIGHT_PREFIX: &str = "tower-preflight-";

/// The image of the head job's job definition when none is configured.
pub const DEFAULT_IMAGE: &str = "public.ecr.aws/seqera-labs/nextflow:latest";
const HEAD_JOB_VCPUS: &str = "1";
const HEAD_JOB_MEMORY_MIB: &str = "2048";

/// Below the 50 requests/s quotas of CreateSecret and DeleteSecret, leaving room for other
/// clients of the account.
pub const CALLS_PER_SECOND: u32 = 40;
const BURST: u32 = 10;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// Seqera's `AwsSecurityKeys`, as stored (encrypted) with the credentials.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AwsKeys {
    #[serde(default)]
    access_key: Option<Zeroizing<String>>,
    #[serde(default)]
    secret_key: Option<Zeroizing<String>>,
    #[serde(default)]
    assume_role_arn: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
}

/// The pace of the calls AWS meters per account and region.
struct Pacing {
    create: DefaultDirectRateLimiter,
    delete: DefaultDirectRateLimiter,
}

/// (region, endpoint) → its pacing.
type PacingMap = HashMap<(String, String), Arc<Pacing>>;

/// At most this many pacings: regions are few, but endpoints are typed by people. Past it, new
/// (region, endpoint) pairs share one pacing, which only makes them slower, never faster.
const MAX_PACINGS: usize = 256;

fn new_pacing() -> Arc<Pacing> {
    let quota = Quota::per_second(NonZeroU32::new(CALLS_PER_SECOND).expect("non-zero"))
        .allow_burst(NonZeroU32::new(BURST).expect("non-zero"));
    Arc::new(Pacing { create: RateLimiter::direct(quota), delete: RateLimiter::direct(quota) })
}

fn pacing_for(region: &str, endpoint: Option<&str>) -> Arc<Pacing> {
    static ALL: OnceLock<Mutex<PacingMap>> = OnceLock::new();
    static OVERFLOW: OnceLock<Arc<Pacing>> = OnceLock::new();
    let key = (region.to_string(), endpoint.unwrap_or_default().to_string());
    let mut all = ALL.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pacing) = all.get(&key) {
        return pacing.clone();
    }
    if all.len() >= MAX_PACINGS {
        return OVERFLOW.get_or_init(new_pacing).clone();
    }
    all.entry(key).or_insert_with(new_pacing).clone()
}

/// One HTTPS client (and connection pool) for the process: rustls with ring, the TLS stack the
/// rest of the server already uses. Plain `http://` works too, for emulators.
fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

/// The `ClientRequestToken` of a copy: a UUID-shaped digest of install id, workflow id and name
/// (36 characters; AWS wants 32–64), the same on every retry of the same copy.
pub fn request_token(install_id: &str, workflow_id: &str, name: &str) -> String {
    let mut hash = Sha256::new();
    for part in ["strongroom-copy", install_id, workflow_id, name] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// The job definition of a run's head job.
pub fn job_definition_name(workflow_id: &str) -> String {
    format!("tower-{workflow_id}")
}

fn check_workflow_id(workflow_id: &str) -> Result<(), ProviderError> {
    if workflow_id.is_empty()
        || workflow_id.len() > 64
        || !workflow_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(ProviderError::Rejected(format!("'{workflow_id}' is not a workflow id")));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ProviderError> {
    if name.is_empty() || name.len() > 100 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ProviderError::Rejected(format!("'{name}' is not a secret name")));
    }
    Ok(())
}

pub struct AwsStore {
    secrets: aws_sdk_secretsmanager::Client,
    batch: aws_sdk_batch::Client,
    install_id: String,
    region: String,
    endpoint: Option<String>,
    kms_key_id: Option<String>,
    execution_role_arn: Option<String>,
    job_queue: Option<String>,
    custom_job_definition: bool,
    pacing: Arc<Pacing>,
    /// Whether errors come from AWS itself (no endpoint, or an `*.amazonaws.com` one), whose
    /// codes and messages may be shown; a custom endpoint's are not (`opaque`).
    trusted_errors: bool,
}

impl AwsStore {
    /// Builds the clients from a compute environment's settings and credentials. Makes no call:
    /// credentials (and an assumed role) are resolved on the first request.
    pub async fn from_target(target: &Target<'_>) -> Result<AwsStore, ProviderError> {
        let config = target.config;
        let region = config
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                ProviderError::Rejected("The AWS Batch compute environment has no region.".into())
            })?
            .to_string();
        if !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(ProviderError::Rejected(format!("'{region}' is not an AWS region.")));
        }
        let endpoint =
            config.endpoint_url.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
        if let Some(endpoint) = &endpoint {
            let ok = url::Url::parse(endpoint)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(ProviderError::Rejected(format!(
                    "The endpoint URL '{endpoint}' is not an http:// or https:// address."
                )));
            }
        }
        if target.install_id.is_empty() {
            return Err(ProviderError::Rejected("This install has no id to tag its copies with.".into()));
        }
        let keys: AwsKeys = match target.credentials {
            None => AwsKeys::default(),
            // The parser's own message could quote the input: say only what shape was expected.
            Some(bytes) => serde_json::from_slice(bytes.expose_secret()).map_err(|_| {
                ProviderError::Rejected(
                    "The AWS credentials are not a JSON object with accessKey and secretKey \
                     (and optionally assumeRoleArn and externalId)."
                        .into(),
                )
            })?,
        };

        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .http_client(http_client())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            );
        if let Some(endpoint) = &endpoint {
            // One override for Secrets Manager, Batch and STS alike: an emulator serves them all.
            loader = loader.endpoint_url(endpoint.clone());
        }
        let static_keys = match (keys.access_key.as_deref(), keys.secret_key.as_deref()) {
            (Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => {
                Some(Credentials::new(a.as_str(), s.as_str(), None, None, "strongroom-compute-env"))
            }
            (None, None) => None,
            _ => {
                return Err(ProviderError::Rejected(
                    "The AWS credentials need both accessKey and secretKey, or neither.".into(),
                ))
            }
        };
        // Without keys of its own the target acts as the Strongroom host: only where an instance
        // administrator allowed it, and an AssumeRole then carries the workspace's generated
        // external id, never the one in the keys document (see `services::host_identity`).
        let external_id = match (&static_keys, target.host_identity) {
            (Some(credentials), _) => {
                loader = loader.credentials_provider(credentials.clone());
                keys.external_id.as_deref().filter(|e| !e.is_empty()).map(str::to_string)
            }
            (None, HostIdentity::Refused) => {
                return Err(ProviderError::Rejected(HOST_IDENTITY_REFUSED.into()))
            }
            (None, HostIdentity::Allowed { external_id, credentials_file }) => {
                if let Some(file) = credentials_file {
                    loader = loader.credentials_provider(host_credentials_from_file(file));
                }
                Some(external_id.to_string())
            }
        };
        let mut sdk_config = loader.load().await;

        if let Some(role) = keys.assume_role_arn.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            if !role.starts_with("arn:") || !role.contains(":role/") {
                return Err(ProviderError::Rejected(format!("'{role}' is not an IAM role ARN.")));
            }
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name(format!("strongroom-{}", session_safe(target.install_id)))
                .configure(&sdk_config);
            if let Some(external_id) = &external_id {
                builder = builder.external_id(external_id);
            }
            // `build` takes the base credentials from the configuration: the static keys when
            // given, the host's otherwise.
            let provider = builder.build().await;
            sdk_config = sdk_config
                .into_builder()
                .credentials_provider(aws_sdk_secretsmanager::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
        }

        Ok(AwsStore {
            secrets: aws_sdk_secretsmanager::Client::new(&sdk_config),
            batch: aws_sdk_batch::Client::new(&sdk_config),
            install_id: target.install_id.to_string(),
            pacing: pacing_for(&region, endpoint.as_deref()),
            trusted_errors: endpoint
                .as_deref()
                .is_none_or(|e| url::Url::parse(e).is_ok_and(|u| super::endpoints::is_aws_api(&u))),
            region,
            endpoint,
            kms_key_id: config.kms_key_id.clone().filter(|k| !k.trim().is_empty()),
            execution_role_arn: config.execution_role_arn.clone().filter(|r| !r.trim().is_empty()),
            job_queue: config.job_queue.clone().filter(|q| !q.trim().is_empty()),
            custom_job_definition: config.custom_job_definition == Some(true),
        })
    }

    /// Maps an SDK error, repeating what the endpoint said only when it is AWS itself.
    fn sdk_error<E>(
        &self,
        action: &str,
        err: &aws_sdk_secretsmanager::error::SdkError<E, aws_sdk_secretsmanager::config::http::HttpResponse>,
    ) -> ProviderError
    where
        E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        if self.trusted_errors {
            map_sdk_error(action, err)
        } else {
            map_untrusted_sdk_error(action, err)
        }
    }

    /// Names this target in errors, without credentials.
    fn describe(&self) -> String {
        match &self.endpoint {
            Some(e) => format!(
                "AWS region {} at {}",
                self.region,
                url::Url::parse(e).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
            ),
            None => format!("AWS region {}", self.region),
        }
    }

    fn policy_scope(&self) -> PolicyScope<'_> {
        PolicyScope {
            region: &self.region,
            account: None,
            execution_role_arn: self.execution_role_arn.as_deref(),
            kms_key_id: self.kms_key_id.as_deref(),
        }
    }

    fn tag(key: &str, value: &str) -> Tag {
        Tag::builder().key(key).value(value).build()
    }

    /// Whether tags say this is this install's copy of `copy`.
    fn is_our_copy(&self, tags: &[Tag], copy: CopySpec<'_>) -> bool {
        let get = |k: &str| tags.iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        get(TAG_MANAGED_BY) == Some(self.install_id.as_str())
            && get(TAG_WORKFLOW_ID) == Some(copy.workflow_id)
    }

    /// The ARN of an existing secret of the copy's name, if it is ours; `None` if there is none.
    async fn existing_copy(
        &self,
        copy: CopySpec<'_>,
        secret_name: &str,
    ) -> Result<Option<String>, ProviderError> {
        let described = match self.secrets.describe_secret().secret_id(secret_name).send().await {
            Ok(described) => described,
            Err(e) if code_of(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(self.sdk_error("secretsmanager:DescribeSecret", &e)),
        };
        if !self.is_our_copy(described.tags(), copy) {
            return Err(ProviderError::Rejected(format!(
                "A secret named {secret_name} already exists in AWS Secrets Manager and is not a copy \
                 this Strongroom made for run {}; it was left alone.",
                copy.workflow_id
            )));
        }
        described
            .arn()
            .map(|arn| Some(arn.to_string()))
            .ok_or_else(|| ProviderError::Unavailable(format!("AWS described {secret_name} without its ARN")))
    }

    /// Every ACTIVE revision of the run's job definition that this install registered.
    async fn our_job_definitions(
        &self,
        workflow_id: &str,
    ) -> Result<Vec<aws_sdk_batch::types::JobDefinition>, ProviderError> {
        let name = job_definition_name(workflow_id);
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        let mut bound =
            PageBound::new(format!("the job definitions of run {workflow_id} in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .batch
                .describe_job_definitions()
                .job_definition_name(&name)
                .status("ACTIVE")
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.sdk_error("batch:DescribeJobDefinitions", &e))?;
            for definition in page.job_definitions() {
                let ours = definition.tags().and_then(|t| t.get(TAG_MANAGED_BY)).map(String::as_str)
                    == Some(self.install_id.as_str());
                if ours && definition.job_definition_name() == Some(name.as_str()) {
                    found.push(definition.clone());
                }
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(found)
    }

    fn preflight_failure(&self, step: &str, error: ProviderError, what_for: &str) -> PreflightFailure {
        let fix = aws_policy::fix_text(&self.policy_scope());
        match error {
            ProviderError::Denied { permission, message } => PreflightFailure {
                step: step.into(),
                message: format!("The credentials lack {permission}: {what_for} ({message})"),
                fix,
            },
            other => {
                let where_ = self.endpoint.as_deref().map_or_else(
                    || format!("AWS in region {}", self.region),
                    |e| format!("the endpoint {e} (region {})", self.region),
                );
                PreflightFailure {
                    step: step.into(),
                    message: format!("Could not {step} at {where_}: {}", message_of(&other)),
                    fix: format!(
                        "Check the region, the endpoint URL and the network path to AWS, and that the \
                         credentials are valid. Once AWS answers, these are the IAM policies needed:\n\n{fix}"
                    ),
                }
            }
        }
    }
}

/// Why a store without keys of its own does not open (the launch and the Check show it).
pub const HOST_IDENTITY_REFUSED: &str = "These AWS settings have no access keys, so they would act as the \
     Strongroom host's own AWS identity; an instance administrator has not allowed that for this workspace.";

/// The host identity from a shared-credentials file (profile `default`) instead of the default
/// chain: an instance administrator's choice of which identity the host lends. (aws-config's
/// profile provider still takes the `ProfileFiles` alias it deprecated.)
#[allow(deprecated)]
fn host_credentials_from_file(
    file: &std::path::Path,
) -> aws_sdk_secretsmanager::config::SharedCredentialsProvider {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    let files = ProfileFiles::builder().with_file(ProfileFileKind::Credentials, file).build();
    aws_sdk_secretsmanager::config::SharedCredentialsProvider::new(
        aws_config::profile::ProfileFileCredentialsProvider::builder()
            // Its own provider config needs our HTTP client too (there is no default one).
            .configure(
                &aws_config::provider_config::ProviderConfig::without_region()
                    .with_http_client(http_client()),
            )
            .profile_files(files)
            .profile_name("default")
            .build(),
    )
}

/// RoleSessionName allows `[\w+=,.@-]{2,64}`.
fn session_safe(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c)).take(40).collect()
}

#[async_trait]
impl SecretStore for AwsStore {
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        check_workflow_id(copy.workflow_id)?;
        check_name(copy.name)?;
        let secret_name = super::aws_copy_name(copy.workflow_id, copy.name);
        let value = std::str::from_utf8(value.expose_secret()).map_err(|_| {
            ProviderError::Rejected(format!(
                "The value of {} is not UTF-8 text, and AWS Secrets Manager copies are passed to tasks as text.",
                copy.name
            ))
        })?;
        self.pacing.create.until_ready().await;
        let mut request = self
            .secrets
            .create_secret()
            .name(&secret_name)
            .client_request_token(request_token(&self.install_id, copy.workflow_id, copy.name))
            .description(format!("Strongroom copy of {} for run {}", copy.name, copy.workflow_id))
            .tags(Self::tag(TAG_MANAGED_BY, &self.install_id))
            .tags(Self::tag(TAG_WORKFLOW_ID, copy.workflow_id))
            .tags(Self::tag(TAG_SECRET_NAME, copy.name))
            .secret_string(value);
        if let Some(key) = &self.kms_key_id {
            request = request.kms_key_id(key);
        }
        match request.send().await {
            Ok(created) => {
                tracing::debug!(copy = %secret_name, "created the copy");
                match created.arn() {
                    Some(arn) => Ok(arn.to_string()),
                    None => self.existing_copy(copy, &secret_name).await?.ok_or_else(|| {
                        ProviderError::Unavailable(format!(
                            "AWS created {secret_name} but did not say its ARN"
                        ))
                    }),
                }
            }
            Err(e) if code_of(&e) == Some("ResourceExistsException") => {
                // An earlier attempt made it (or someone else did: existing_copy checks the tags).
                self.existing_copy(copy, &secret_name).await?.ok_or_else(|| {
                    ProviderError::Unavailable(format!("{secret_name} was said to exist but cannot be found"))
                })
            }
            Err(e) => Err(scrub(self.sdk_error("secretsmanager:CreateSecret", &e), value)),
        }
    }

    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        check_workflow_id(copy.workflow_id)?;
        check_name(copy.name)?;
        let secret_name = super::aws_copy_name(copy.workflow_id, copy.name);
        // A secret of that name that is not our copy (create_copy refused it) is not ours to
        // delete; our copy is then not there, which is what delete promises.
        match self.existing_copy(copy, &secret_name).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(ProviderError::Rejected(why)) => {
                tracing::warn!(copy = %secret_name, "not deleting a secret this install did not make: {why}");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        self.pacing.delete.until_ready().await;
        match self
            .secrets
            .delete_secret()
            .secret_id(&secret_name)
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => {
                tracing::debug!(copy = %secret_name, "deleted the copy");
                Ok(())
            }
            Err(e) if code_of(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(self.sdk_error("secretsmanager:DeleteSecret", &e)),
        }
    }

    async fn prepare_launch(
        &self,
        workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        check_workflow_id(workflow_id)?;
        let mut env = vec![("AWS_REGION".to_string(), self.region.clone())];
        if let Some(queue) = &self.job_queue {
            env.push(("AWS_BATCH_JOB_QUEUE".into(), queue.clone()));
        }
        if copies.is_empty() {
            // Nothing for the ECS agent to resolve: no job definition is needed.
            return Ok(env);
        }
        if self.custom_job_definition {
            return Err(ProviderError::Rejected(
                "This compute environment uses a custom job definition, and processes run with a custom \
                 job definition get no secrets. Launch without secrets, or turn the custom job \
                 definition off."
                    .into(),
            ));
        }
        let Some(execution_role) = self.execution_role_arn.clone() else {
            return Err(ProviderError::Rejected(
                "The compute environment has no Batch execution role, and AWS Batch needs one to hand \
                 secrets to a job. Set the execution role ARN."
                    .into(),
            ));
        };
        let wanted: BTreeSet<(String, String)> =
            copies.iter().map(|c| (c.name.clone(), c.reference.clone())).collect();

        for definition in self.our_job_definitions(workflow_id).await? {
            let has: BTreeSet<(String, String)> = definition
                .container_properties()
                .map(|p| p.secrets())
                .unwrap_or_default()
                .iter()
                .map(|s| {
                    (s.name().unwrap_or_default().to_string(), s.value_from().unwrap_or_default().to_string())
                })
                .collect();
            if has == wanted {
                if let Some(arn) = definition.job_definition_arn() {
                    env.push(("AWS_BATCH_JOB_DEFINITION".into(), arn.to_string()));
                    return Ok(env);
                }
            }
        }

        let mut container = ContainerProperties::builder()
            .image(DEFAULT_IMAGE)
            .execution_role_arn(execution_role)
            .resource_requirements(
                ResourceRequirement::builder().r#type(ResourceType::Vcpu).value(HEAD_JOB_VCPUS).build(),
            )
            .resource_requirements(
                ResourceRequirement::builder()
                    .r#type(ResourceType::Memory)
                    .value(HEAD_JOB_MEMORY_MIB)
                    .build(),
            );
        for (name, arn) in &wanted {
            container =
                container.secrets(aws_sdk_batch::types::Secret::builder().name(name).value_from(arn).build());
        }
        let registered = self
            .batch
            .register_job_definition()
            .job_definition_name(job_definition_name(workflow_id))
            .r#type(JobDefinitionType::Container)
            .container_properties(container.build())
            .tags(TAG_MANAGED_BY, &self.install_id)
            .tags(TAG_WORKFLOW_ID, workflow_id)
            .send()
            .await
            .map_err(|e| self.sdk_error("batch:RegisterJobDefinition", &e))?;
        let arn = registered.job_definition_arn().ok_or_else(|| {
            ProviderError::Unavailable(
                "AWS Batch registered the job definition without saying its ARN".into(),
            )
        })?;
        env.push(("AWS_BATCH_JOB_DEFINITION".into(), arn.to_string()));
        Ok(env)
    }

    async fn finish_cleanup(&self, workflow_id: &str) -> Result<(), ProviderError> {
        check_workflow_id(workflow_id)?;
        for definition in self.our_job_definitions(workflow_id).await? {
            let Some(arn) = definition.job_definition_arn() else { continue };
            match self.batch.deregister_job_definition().job_definition(arn).send().await {
                Ok(_) => {}
                // Already gone (deregistered by an earlier attempt): done.
                Err(e) if matches!(code_of(&e), Some("ClientException" | "ResourceNotFoundException")) => {}
                Err(e) => return Err(self.sdk_error("batch:DeregisterJobDefinition", &e)),
            }
        }
        Ok(())
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let filter =
            |key: FilterNameStringType, value: &str| Filter::builder().key(key).values(value).build();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        let mut bound = PageBound::new(format!("this install's copies in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .secrets
                .list_secrets()
                .filters(filter(FilterNameStringType::TagKey, TAG_MANAGED_BY))
                .filters(filter(FilterNameStringType::TagValue, &self.install_id))
                .filters(filter(FilterNameStringType::Name, "tower-"))
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.sdk_error("secretsmanager:ListSecrets", &e))?;
            for entry in page.secret_list() {
                if let Some(copy) = self.managed_copy(entry.name().unwrap_or_default(), entry.tags()) {
                    found.push(copy);
                }
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(found)
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        // 1. Listing, unscoped: the reconciler's only way to find copies left behind.
        if let Err(e) = self.secrets.list_secrets().max_results(1).send().await {
            return Err(self.preflight_failure(
                "list secrets",
                self.sdk_error("secretsmanager:ListSecrets", &e),
                "without secretsmanager:ListSecrets on \"*\" Strongroom cannot find copies to delete",
            ));
        }
        // 2. A tagged probe, created and force-deleted as a real copy would be.
        let probe = format!("{PREFLIGHT_PREFIX}{}", uuid::Uuid::new_v4().simple());
        self.pacing.create.until_ready().await;
        let mut create = self
            .secrets
            .create_secret()
            .name(&probe)
            .description("Strongroom preflight probe; deleted at once")
            .tags(Self::tag(TAG_MANAGED_BY, &self.install_id))
            .tags(Self::tag(TAG_PURPOSE, "preflight"))
            .secret_string("strongroom-preflight-probe");
        if let Some(key) = &self.kms_key_id {
            create = create.kms_key_id(key);
        }
        if let Err(e) = create.send().await {
            return Err(self.preflight_failure(
                "create a probe secret",
                self.sdk_error("secretsmanager:CreateSecret", &e),
                "Strongroom cannot create the per-run copies (tagging needs secretsmanager:TagResource, \
                 a customer-managed KMS key needs kms:GenerateDataKey)",
            ));
        }
        self.pacing.delete.until_ready().await;
        if let Err(e) =
            self.secrets.delete_secret().secret_id(&probe).force_delete_without_recovery(true).send().await
        {
            return Err(self.preflight_failure(
                "delete the probe secret",
                self.sdk_error("secretsmanager:DeleteSecret", &e),
                &format!("Strongroom cannot delete copies when runs end (the probe {probe} was left behind)"),
            ));
        }
        // 3. Batch, read-only: registering is proven by the first launch (it needs iam:PassRole).
        if let Err(e) = self
            .batch
            .describe_job_definitions()
            .job_definition_name(format!("{PREFLIGHT_PREFIX}x"))
            .send()
            .await
        {
            return Err(self.preflight_failure(
                "describe job definitions",
                self.sdk_error("batch:DescribeJobDefinitions", &e),
                "Strongroom cannot find the job definitions it registers for runs with secrets",
            ));
        }
        Ok(())
    }
}

impl AwsStore {
    /// A listed secret as a copy, or `None` when it is not one of this install's copies (another
    /// install's, a probe, or a name that is not `tower-<wf>/<NAME>`).
    fn managed_copy(&self, secret_name: &str, tags: &[Tag]) -> Option<ManagedCopy> {
        let get = |k: &str| tags.iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        // ListSecrets matches tag keys and tag values separately: check the pair here.
        if get(TAG_MANAGED_BY) != Some(self.install_id.as_str()) || get(TAG_PURPOSE).is_some() {
            return None;
        }
        let (name_wf, name_name) = secret_name.strip_prefix("tower-")?.split_once('/')?;
        let workflow_id = get(TAG_WORKFLOW_ID).unwrap_or(name_wf);
        let name = get(TAG_SECRET_NAME).unwrap_or(name_name);
        // The tags must agree with the name, or delete_copy would aim at another secret.
        (workflow_id == name_wf && name == name_name)
            .then(|| ManagedCopy { workflow_id: workflow_id.to_string(), name: name.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacings_are_bounded_however_many_endpoints_people_type() {
        let endpoint = |i: usize| format!("http://pacing-{i}.example.org:4566");
        for i in 0..MAX_PACINGS + 10 {
            pacing_for("eu-west-1", Some(&endpoint(i)));
        }
        let (a, b) = (endpoint(MAX_PACINGS + 20), endpoint(MAX_PACINGS + 21));
        assert!(Arc::ptr_eq(&pacing_for("eu-west-1", Some(&a)), &pacing_for("eu-west-1", Some(&b))));
        // A pair seen before the bound keeps its own pacing.
        let first = pacing_for("eu-west-1", Some(&endpoint(0)));
        assert!(Arc::ptr_eq(&first, &pacing_for("eu-west-1", Some(&endpoint(0)))));
        assert!(!Arc::ptr_eq(&first, &pacing_for("eu-west-1", Some(&a))));
    }

    #[test]
    fn request_token_is_deterministic_uuid_shaped_and_distinct_per_copy() {
        let a = request_token("install-1", "1k0K4WlGep8ZTM", "DB_PASSWORD");
        assert_eq!(a, request_token("install-1", "1k0K4WlGep8ZTM", "DB_PASSWORD"));
        assert!((32..=64).contains(&a.len()), "{a}");
        assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
        assert_ne!(a, request_token("install-2", "1k0K4WlGep8ZTM", "DB_PASSWORD"));
        assert_ne!(a, request_token("install-1", "1k0K4WlGep8ZTN", "DB_PASSWORD"));
        assert_ne!(a, request_token("install-1", "1k0K4WlGep8ZTM", "DB_PASSWORE"));
        // Length-prefixed parts: moving a character from one part to the next changes the token.
        assert_ne!(request_token("ab", "c", "D"), request_token("a", "bc", "D"));
    }

    #[test]
    fn names_and_workflow_ids_are_checked() {
        assert!(check_workflow_id("1k0K4WlGep8ZTM").is_ok());
        assert!(check_workflow_id("../x").is_err());
        assert!(check_workflow_id("").is_err());
        assert!(check_name("DB_PASSWORD").is_ok());
        assert!(check_name("a/b").is_err());
    }

    #[test]
    fn session_names_keep_only_allowed_characters() {
        assert_eq!(session_safe("inst id/1"), "instid1");
    }
}
