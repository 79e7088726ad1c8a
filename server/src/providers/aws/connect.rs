//! Builds an [`AwsStore`] from a compute environment's settings and credentials: the region and
//! endpoint, the SDK's retry and timeout settings, whose identity the calls are made with (the
//! environment's keys, or the Strongroom host's where an instance administrator allowed it) and
//! the role assumed on top. Makes no call: credentials (and an assumed role) are resolved on the
//! first request.
//!
//! Guarantees:
//! - a parse error of the keys document never quotes it (only the expected shape is named);
//! - without keys of its own a target acts as the host only when `HostIdentity::Allowed`, and an
//!   AssumeRole then carries the workspace's generated external id, never the one in the keys
//!   document (see `domain::compute::host_identity`);
//! - the SDK never retries on its own and every call times out within seconds (the worker retries
//!   from durable rows, with backoff).

use super::pacing::pacing_for;
use super::web_identity::{self, WebIdentity};
use super::AwsStore;
use crate::crypto::SecretBytes;
use crate::providers::{HostIdentity, ManagedIdentity, ProviderError, Target};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_secretsmanager::config::{Credentials, Region, SharedCredentialsProvider, SharedHttpClient};
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Duration;
use zeroize::Zeroizing;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a store without keys of its own does not open (the launch and the Check show it).
pub const HOST_IDENTITY_REFUSED: &str = "These AWS settings have no access keys, so they would act as the \
     Strongroom host's own AWS identity; an instance administrator has not allowed that for this workspace.";

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

impl AwsStore {
    /// Builds the clients from a compute environment's settings and credentials. Makes no call
    /// (credentials and an assumed role are resolved on the first request), except in managed
    /// mode, which exchanges the run's token for the mapped role at once.
    pub async fn from_target(target: &Target<'_>) -> Result<AwsStore, ProviderError> {
        let region = region_of(target)?;
        let endpoint = endpoint_of(target)?;
        if target.install_id.is_empty() {
            return Err(ProviderError::Rejected("This install has no id to tag its copies with.".into()));
        }
        let keys = parse_keys(target.credentials)?;
        let loader = sdk_defaults(&region, endpoint.as_deref());
        match &target.managed_identity {
            Some(ManagedIdentity::Aws(identity)) => {
                let sdk_config = as_web_identity(loader, identity, endpoint.as_deref()).await?;
                return Ok(AwsStore::with_clients(&sdk_config, target, region, endpoint));
            }
            Some(ManagedIdentity::Google(_)) => {
                return Err(ProviderError::Rejected(
                    "An AWS environment's managed identity maps subjects to IAM roles.".into(),
                ))
            }
            None => {}
        }
        let static_keys = static_credentials(&keys)?;
        let (loader, external_id) = with_identity(loader, static_keys, &keys, target.host_identity)?;
        let mut sdk_config = loader.load().await;
        if let Some(role) = role_to_assume(&keys)? {
            sdk_config = assume_role(sdk_config, role, target.install_id, external_id.as_deref()).await;
        }
        Ok(AwsStore::with_clients(&sdk_config, target, region, endpoint))
    }

    /// The store over clients built from `sdk_config`, with the environment's other settings.
    fn with_clients(
        sdk_config: &SdkConfig,
        target: &Target<'_>,
        region: String,
        endpoint: Option<String>,
    ) -> AwsStore {
        let config = target.config;
        AwsStore {
            secrets: aws_sdk_secretsmanager::Client::new(sdk_config),
            batch: aws_sdk_batch::Client::new(sdk_config),
            install_id: target.install_id.to_string(),
            pacing: pacing_for(&region, endpoint.as_deref()),
            trusted_errors: endpoint.as_deref().is_none_or(|e| {
                url::Url::parse(e).is_ok_and(|u| crate::providers::endpoints::is_aws_api(&u))
            }),
            region,
            endpoint,
            kms_key_id: config.kms_key_id.clone().filter(|k| !k.trim().is_empty()),
            execution_role_arn: config.execution_role_arn.clone().filter(|r| !r.trim().is_empty()),
            job_queue: config.job_queue.clone().filter(|q| !q.trim().is_empty()),
            custom_job_definition: config.custom_job_definition == Some(true),
            settings: config.clone(),
        }
    }
}

/// The environment's region, which must look like one (it goes into ARNs and host names).
fn region_of(target: &Target<'_>) -> Result<String, ProviderError> {
    let region = target
        .config
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ProviderError::Rejected("The AWS Batch compute environment has no region.".into()))?
        .to_string();
    if !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(ProviderError::Rejected(format!("'{region}' is not an AWS region.")));
    }
    Ok(region)
}

/// The environment's custom endpoint, if any: an `http://` or `https://` address. Whether it may
/// be reached at all is `endpoints`' question, asked before a store is opened.
fn endpoint_of(target: &Target<'_>) -> Result<Option<String>, ProviderError> {
    let endpoint =
        target.config.endpoint_url.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
    if let Some(endpoint) = &endpoint {
        let ok =
            url::Url::parse(endpoint).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !ok {
            return Err(ProviderError::Rejected(format!(
                "The endpoint URL '{endpoint}' is not an http:// or https:// address."
            )));
        }
    }
    Ok(endpoint)
}

/// The keys document, or no keys at all when the environment has none.
fn parse_keys(credentials: Option<&SecretBytes>) -> Result<AwsKeys, ProviderError> {
    match credentials {
        None => Ok(AwsKeys::default()),
        // The parser's own message could quote the input: say only what shape was expected.
        Some(bytes) => serde_json::from_slice(bytes.expose_secret()).map_err(|_| {
            ProviderError::Rejected(
                "The AWS credentials are not a JSON object with accessKey and secretKey \
                 (and optionally assumeRoleArn and externalId)."
                    .into(),
            )
        }),
    }
}

/// The SDK settings every store shares: region, HTTP client, no retries, short timeouts, and the
/// custom endpoint when there is one.
pub(super) fn sdk_defaults(region: &str, endpoint: Option<&str>) -> ConfigLoader {
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .http_client(http_client())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    match endpoint {
        // One override for Secrets Manager, Batch and STS alike: an emulator serves them all.
        Some(endpoint) => loader.endpoint_url(endpoint),
        None => loader,
    }
}

/// The environment's own access keys: both, or neither.
fn static_credentials(keys: &AwsKeys) -> Result<Option<Credentials>, ProviderError> {
    match (keys.access_key.as_deref(), keys.secret_key.as_deref()) {
        (Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => {
            Ok(Some(Credentials::new(a.as_str(), s.as_str(), None, None, "strongroom-compute-env")))
        }
        (None, None) => Ok(None),
        _ => Err(ProviderError::Rejected(
            "The AWS credentials need both accessKey and secretKey, or neither.".into(),
        )),
    }
}

/// Sets whose identity the calls are made with, and returns the external id an AssumeRole must
/// carry. Without keys of its own the target acts as the Strongroom host: only where an instance
/// administrator allowed it, and with the workspace's generated external id, never the one in the
/// keys document (see `domain::compute::host_identity`).
fn with_identity(
    loader: ConfigLoader,
    static_keys: Option<Credentials>,
    keys: &AwsKeys,
    host_identity: HostIdentity<'_>,
) -> Result<(ConfigLoader, Option<String>), ProviderError> {
    match (static_keys, host_identity) {
        (Some(credentials), _) => {
            let external_id = keys.external_id.as_deref().filter(|e| !e.is_empty()).map(str::to_string);
            Ok((loader.credentials_provider(credentials), external_id))
        }
        (None, HostIdentity::Refused) => Err(ProviderError::Rejected(HOST_IDENTITY_REFUSED.into())),
        (None, HostIdentity::Allowed { external_id, credentials_file }) => {
            let loader = match credentials_file {
                Some(file) => loader.credentials_provider(host_credentials_from_file(file)),
                None => loader,
            };
            Ok((loader, Some(external_id.to_string())))
        }
    }
}

/// Managed mode: the calls are made as the mapped role, assumed now with a fresh token (so a
/// refusal is reported when the store opens, in plain words) and again whenever the SDK's
/// credentials are about to expire. Neither stored keys nor the host's identity take part.
async fn as_web_identity(
    loader: ConfigLoader,
    identity: &WebIdentity,
    endpoint: Option<&str>,
) -> Result<SdkConfig, ProviderError> {
    let base = loader.load().await;
    let trusted = endpoint
        .is_none_or(|e| url::Url::parse(e).is_ok_and(|u| crate::providers::endpoints::is_aws_api(&u)));
    let sts = web_identity::sts_client(&base);
    let first = web_identity::exchange(&sts, identity, trusted).await?;
    let provider = web_identity::WebIdentityCredentials::new(sts, identity.clone(), trusted, first);
    Ok(base.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build())
}

/// The role the keys document asks to assume, if any, once it looks like an IAM role ARN.
fn role_to_assume(keys: &AwsKeys) -> Result<Option<&str>, ProviderError> {
    let Some(role) = keys.assume_role_arn.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if !role.starts_with("arn:") || !role.contains(":role/") {
        return Err(ProviderError::Rejected(format!("'{role}' is not an IAM role ARN.")));
    }
    Ok(Some(role))
}

/// `sdk_config` with its credentials replaced by `role`, assumed with them.
async fn assume_role(
    sdk_config: SdkConfig,
    role: &str,
    install_id: &str,
    external_id: Option<&str>,
) -> SdkConfig {
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name(format!("strongroom-{}", session_safe(install_id)))
        .configure(&sdk_config);
    if let Some(external_id) = external_id {
        builder = builder.external_id(external_id);
    }
    // `build` takes the base credentials from the configuration: the static keys when given, the
    // host's otherwise.
    let provider = builder.build().await;
    sdk_config.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
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

/// The host identity from a shared-credentials file (profile `default`) instead of the default
/// chain: an instance administrator's choice of which identity the host lends. (aws-config's
/// profile provider still takes the `ProfileFiles` alias it deprecated.)
#[allow(deprecated)]
fn host_credentials_from_file(file: &std::path::Path) -> SharedCredentialsProvider {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    let files = ProfileFiles::builder().with_file(ProfileFileKind::Credentials, file).build();
    SharedCredentialsProvider::new(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_keep_only_allowed_characters() {
        assert_eq!(session_safe("inst id/1"), "instid1");
    }
}
