//! Builds a [`GoogleStore`] from a compute environment's settings and credentials: the project,
//! the Secret Manager client (no retries of its own, a short timeout per attempt, the custom
//! endpoint when there is one), whose identity it calls with, and the pace of its writes. Makes
//! no call: a token is fetched on the first request.
//!
//! Guarantees: a malformed key document is refused without quoting it (only the expected shape is
//! named); only a service account key is accepted; credentials are never sent anywhere but the
//! client (whether a custom endpoint may receive a token is `providers::open_checked`'s check).

use super::batch_api::BatchApi;
use super::copies::label_value;
use super::federation::{Endpoints, FederatedCredentials};
use super::GoogleStore;
use crate::crypto::SecretBytes;
use crate::providers::{ManagedIdentity, ProviderError, Target};
use google_cloud_auth::credentials::Credentials;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// One attempt of one call; the worker decides about retrying.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Google allows 600 writes per minute per project; 9/s with a burst of 9 stays under 550.
const WRITES_PER_SECOND: u32 = 9;

impl GoogleStore {
    pub async fn open(target: &Target<'_>) -> Result<GoogleStore, ProviderError> {
        let project = project_of(target)?;
        let install_id = target.install_id.to_string();
        let managed_by = label_value(&install_id);
        if managed_by.is_empty() {
            return Err(ProviderError::Rejected("The install id is empty.".into()));
        }
        // The client is built without a default rustls provider; ring is the one this build
        // already carries. An error only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let endpoint = target.config.endpoint_url.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let endpoint_url = endpoint.and_then(|e| url::Url::parse(e).ok());
        let trusted_errors = endpoint.is_none()
            || endpoint_url.as_ref().is_some_and(crate::providers::endpoints::is_google_api);
        let (credentials, client_email) =
            match &target.managed_identity {
                Some(ManagedIdentity::Google(federation)) => {
                    let origin = endpoint_url.as_ref().map(|u| u.origin().ascii_serialization());
                    let federated = FederatedCredentials::new(
                        federation.clone(),
                        Endpoints::new(origin.as_deref()),
                        trusted_errors,
                    );
                    // Exchanged now, so a refusal is reported when the store opens, in plain words.
                    federated.access_token().await?;
                    (Some(Credentials::from(federated)), federation.service_account.clone())
                }
                Some(ManagedIdentity::Aws(_)) => return Err(ProviderError::Rejected(
                    "A Google environment's managed identity maps subjects to a workload identity provider."
                        .into(),
                )),
                None => identity(target.credentials, endpoint)?,
            };
        let client = client(endpoint, credentials.clone()).await?;
        // The custom endpoint (an emulator or private endpoint) serves Batch too.
        let batch = BatchApi::new(endpoint, credentials, trusted_errors);
        Ok(GoogleStore {
            trusted_errors,
            batch,
            location: target.config.location.as_deref().unwrap_or_default().trim().to_string(),
            settings: target.config.clone(),
            endpoint: endpoint_url.map(|u| u.origin().ascii_serialization()),
            writes: write_limiter(&project),
            client,
            project,
            managed_by,
            install_id,
            client_email,
        })
    }
}

/// The environment's Google Cloud project id, which must look like one.
fn project_of(target: &Target<'_>) -> Result<String, ProviderError> {
    let project = target.config.project.as_deref().unwrap_or_default().trim().to_string();
    if project.is_empty() || !project.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b)) {
        return Err(ProviderError::Rejected(
            "The compute environment needs the Google Cloud project id (config.project).".into(),
        ));
    }
    Ok(project)
}

/// The Secret Manager client: no retries, a short attempt timeout, the custom endpoint when there
/// is one, and `credentials` (`None`: the host's Application Default Credentials).
async fn client(
    endpoint: Option<&str>,
    credentials: Option<Credentials>,
) -> Result<SecretManagerService, ProviderError> {
    let mut builder = SecretManagerService::builder()
        .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry)
        .with_attempt_timeout(ATTEMPT_TIMEOUT);
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(credentials) = credentials {
        builder = builder.with_credentials(credentials);
    }
    builder
        .build()
        .await
        .map_err(|e| ProviderError::Rejected(format!("could not set up the Secret Manager client: {e}")))
}

/// Whose identity the client calls with (`None`: the host's Application Default Credentials),
/// and the service account's email when the environment has a key (for the commands preflight
/// prints).
fn identity(
    credentials: Option<&SecretBytes>,
    endpoint: Option<&str>,
) -> Result<(Option<Credentials>, Option<String>), ProviderError> {
    match (credentials, endpoint) {
        (Some(keys), _) => {
            let key = service_account_key(keys)?;
            let client_email = key.get("client_email").and_then(|e| e.as_str()).map(str::to_string);
            let credentials =
                google_cloud_auth::credentials::service_account::Builder::new(key).build().map_err(|_| {
                    ProviderError::Rejected("The Google service account key could not be used.".into())
                })?;
            Ok((Some(credentials), client_email))
        }
        // An emulator or a test double: no credentials at all.
        (None, Some(_)) => {
            Ok((Some(google_cloud_auth::credentials::anonymous::Builder::new().build()), None))
        }
        // Neither: the host's Application Default Credentials (the builder's default).
        (None, None) => Ok((None, None)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
