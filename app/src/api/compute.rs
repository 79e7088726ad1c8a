//! Compute environments and cloud credentials for the Compute tab. `credentials_id` 0 means none
//! (forms send numbers). Secret fields arrive as form text and become `SecretString` at once.
// A server function's arguments are the fields of the form that posts to it, so some take more
// than clippy's seven. Allowed for the module: `#[server]` drops a function's own `#[allow]` from
// the browser-side function it generates.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::{ComputeCheck, ComputeConfig, ComputeEnvRow, CredentialsRow, Platform};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {super::context::*, crate::model::ComputeEnvInput, crate::ports::CredentialKeysInput};

#[server(prefix = "/sfn", endpoint = "list_compute_envs")]
pub async fn list_compute_envs(workspace_id: i64) -> Result<Vec<ComputeEnvRow>, AppError> {
    let list = ports()?.compute_envs.list_compute_envs(&actor()?, workspace_id).await;
    finish(list.map(|list| list.iter().map(ComputeEnvRow::of).collect()))
}

#[server(prefix = "/sfn", endpoint = "create_compute_env")]
pub async fn create_compute_env(
    workspace_id: i64,
    name: String,
    platform: Platform,
    credentials_id: i64,
    config: ComputeConfig,
) -> Result<i64, AppError> {
    let env = ComputeEnvInput {
        name,
        platform,
        credentials_id: (credentials_id != 0).then_some(credentials_id),
        config,
    };
    finish(ports()?.compute_envs.create_compute_env(&actor()?, workspace_id, env).await)
}

#[server(prefix = "/sfn", endpoint = "delete_compute_env")]
pub async fn delete_compute_env(workspace_id: i64, compute_env_id: i64) -> Result<(), AppError> {
    finish(ports()?.compute_envs.delete_compute_env(&actor()?, workspace_id, compute_env_id).await)
}

#[server(prefix = "/sfn", endpoint = "check_compute_env")]
pub async fn check_compute_env(workspace_id: i64, compute_env_id: i64) -> Result<ComputeCheck, AppError> {
    finish(ports()?.compute_checks.check_compute_env(&actor()?, workspace_id, compute_env_id).await)
}

#[server(prefix = "/sfn", endpoint = "cloud_identity_view")]
pub async fn cloud_identity_view(
    workspace_id: i64,
    compute_env_id: i64,
) -> Result<crate::model::CloudIdentityView, AppError> {
    finish(ports()?.cloud_identity.cloud_identity_view(&actor()?, workspace_id, compute_env_id).await)
}

#[server(prefix = "/sfn", endpoint = "list_credentials")]
pub async fn list_credentials(workspace_id: i64) -> Result<Vec<CredentialsRow>, AppError> {
    let list = ports()?.credentials.list_credentials(&actor()?, workspace_id).await;
    finish(list.map(|list| list.iter().map(CredentialsRow::of).collect()))
}

/// The keys a credentials form posts, as the port takes them: `provider` is `aws` (access key,
/// secret key, role, external id), `google` (`key_file`) or `ssh` (`key_file` holds the private
/// key, `secret_key` its passphrase, if any).
#[cfg(feature = "ssr")]
fn form_keys(
    provider: &str,
    access_key: String,
    secret_key: String,
    assume_role_arn: String,
    external_id: String,
    key_file: String,
) -> Result<CredentialKeysInput, AppError> {
    Ok(match provider {
        "aws" => CredentialKeysInput::Aws {
            access_key: Some(access_key),
            secret_key: Some(secret_key.into()),
            assume_role_arn: Some(assume_role_arn),
            external_id: Some(external_id),
        },
        "google" => CredentialKeysInput::Google { data: Some(key_file.into()) },
        "ssh" => CredentialKeysInput::Ssh {
            private_key: Some(key_file.into()),
            passphrase: Some(secret_key.into()),
        },
        _ => return Err(AppError::bad_request("The provider must be 'aws', 'google' or 'ssh'.")),
    })
}

#[server(prefix = "/sfn", endpoint = "create_credentials")]
pub async fn create_credentials(
    workspace_id: i64,
    name: String,
    provider: String,
    access_key: String,
    secret_key: String,
    assume_role_arn: String,
    external_id: String,
    key_file: String,
) -> Result<i64, AppError> {
    let keys = form_keys(&provider, access_key, secret_key, assume_role_arn, external_id, key_file);
    finish(match keys {
        Ok(keys) => ports()?.credentials.create_credentials(&actor()?, workspace_id, name, keys).await,
        Err(error) => Err(error),
    })
}

/// New keys for existing credentials (a new version; the name and the provider stay). Runs
/// already started keep the version they started with.
#[server(prefix = "/sfn", endpoint = "replace_credentials")]
pub async fn replace_credentials(
    workspace_id: i64,
    credentials_id: i64,
    provider: String,
    access_key: String,
    secret_key: String,
    assume_role_arn: String,
    external_id: String,
    key_file: String,
) -> Result<(), AppError> {
    let keys = form_keys(&provider, access_key, secret_key, assume_role_arn, external_id, key_file);
    finish(match keys {
        Ok(keys) => {
            ports()?.credentials.update_credentials(&actor()?, workspace_id, credentials_id, keys).await
        }
        Err(error) => Err(error),
    })
}

#[server(prefix = "/sfn", endpoint = "delete_credentials")]
pub async fn delete_credentials(workspace_id: i64, credentials_id: i64) -> Result<(), AppError> {
    let result = ports()?.credentials.delete_credentials(&actor()?, workspace_id, credentials_id).await;
    finish(result.map_err(AppError::from))
}
