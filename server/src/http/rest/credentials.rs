//! `/credentials`: a workspace's cloud credentials in Seqera's shape (`ListCredentialsResponse`,
//! `DescribeCredentialsResponse`, `CreateCredentialsRequest`…). Key material is write-only: the
//! request types have no `Debug`, secret fields become `SecretString` at once, and responses
//! carry only the non-secret fields of `keys`.

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::{format_timestamp_rfc3339, CloudProvider, CredentialsSummary};
use app::ports::{CredentialKeysInput, DeleteCredentialsError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsQuery {
    workspace_id: Option<i64>,
    /// Seqera's filter by compute platform (`aws-batch`, `google-batch`…).
    platform_id: Option<String>,
}

/// `SecurityKeys`: AWS (`accessKey`, `secretKey`, `assumeRoleArn`, `externalId`), Google
/// (`data`, the key file) or SSH (`privateKey`, `passphrase`). `discriminator` and `mode` are
/// accepted and not needed.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeysBody {
    access_key: Option<String>,
    secret_key: Option<String>,
    assume_role_arn: Option<String>,
    external_id: Option<String>,
    data: Option<String>,
    private_key: Option<String>,
    passphrase: Option<String>,
}

#[derive(Deserialize)]
pub struct CredentialsBody {
    name: Option<String>,
    provider: Option<String>,
    #[serde(default)]
    keys: KeysBody,
}

#[derive(Deserialize)]
pub struct CredentialsRequest {
    credentials: Option<CredentialsBody>,
}

fn keys_input(provider: CloudProvider, keys: KeysBody) -> Result<CredentialKeysInput, ApiError> {
    let secret = |v: Option<String>| v.map(SecretString::from);
    if provider != CloudProvider::Ssh && (keys.private_key.is_some() || keys.passphrase.is_some()) {
        return Err(AppError::bad_request("privateKey and passphrase apply to ssh credentials only.").into());
    }
    match provider {
        CloudProvider::Ssh => {
            let other = keys.access_key.is_some()
                || keys.secret_key.is_some()
                || keys.assume_role_arn.is_some()
                || keys.external_id.is_some()
                || keys.data.is_some();
            if other {
                return Err(
                    AppError::bad_request("ssh credentials take privateKey and passphrase only.").into()
                );
            }
            Ok(CredentialKeysInput::Ssh {
                private_key: secret(keys.private_key),
                passphrase: secret(keys.passphrase),
            })
        }
        CloudProvider::Aws => {
            if keys.data.is_some() {
                return Err(AppError::bad_request("keys.data applies to google credentials only.").into());
            }
            Ok(CredentialKeysInput::Aws {
                access_key: keys.access_key,
                secret_key: secret(keys.secret_key),
                assume_role_arn: keys.assume_role_arn,
                external_id: keys.external_id,
            })
        }
        CloudProvider::Google => {
            let aws_field = keys.access_key.is_some()
                || keys.secret_key.is_some()
                || keys.assume_role_arn.is_some()
                || keys.external_id.is_some();
            if aws_field {
                return Err(AppError::bad_request(
                    "accessKey, secretKey, assumeRoleArn and externalId apply to aws credentials only.",
                )
                .into());
            }
            Ok(CredentialKeysInput::Google { data: secret(keys.data) })
        }
    }
}

fn parse_provider(provider: Option<&str>) -> Result<CloudProvider, ApiError> {
    provider
        .ok_or_else(|| AppError::bad_request("Give the provider: aws, google or ssh."))?
        .parse::<CloudProvider>()
        .map_err(|message| AppError::BadRequest(message).into())
}

fn workspace(query: &CredentialsQuery) -> Result<i64, ApiError> {
    // Seqera also has personal credentials; Strongroom keeps credentials in workspaces only.
    query.workspace_id.ok_or_else(|| {
        AppError::bad_request("Give the workspaceId: credentials belong to a workspace.").into()
    })
}

fn not_found() -> ApiError {
    AppError::not_found("Credentials").into()
}

/// Ids are strings in Seqera's API; ours are numbers written as strings.
fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| not_found())
}

/// `Credentials` with only the non-secret fields of its keys.
fn credentials_dto(c: &CredentialsSummary) -> Value {
    let mut keys = match serde_json::to_value(&c.public) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    keys.insert("discriminator".into(), c.provider.as_str().into());
    json!({
        "id": c.id.to_string(),
        "name": c.name,
        "provider": c.provider.as_str(),
        "keys": keys,
        "dateCreated": format_timestamp_rfc3339(c.created_at),
        "lastUpdated": format_timestamp_rfc3339(c.updated_at),
        "lastUsed": c.last_used_at.map(format_timestamp_rfc3339),
        "deleted": false,
    })
}

fn provider_of_platform(platform: &str) -> Option<CloudProvider> {
    match platform {
        "aws-batch" | "aws" => Some(CloudProvider::Aws),
        "google-batch" | "google" => Some(CloudProvider::Google),
        "slurm-platform" | "lsf-platform" | "altair-platform" | "moab-platform" | "uge-platform" | "ssh" => {
            Some(CloudProvider::Ssh)
        }
        _ => None,
    }
}

pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<CredentialsQuery>,
) -> Result<Json<Value>, ApiError> {
    let Some(workspace_id) = query.workspace_id else {
        return Ok(Json(json!({ "credentials": [] })));
    };
    let list = state.ports.credentials.list_credentials(&actor, workspace_id).await?;
    let wanted = query.platform_id.as_deref().map(provider_of_platform);
    let dtos: Vec<Value> =
        list.iter().filter(|c| wanted.is_none_or(|p| p == Some(c.provider))).map(credentials_dto).collect();
    Ok(Json(json!({ "credentials": dtos })))
}

pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<CredentialsQuery>,
    ApiJson(body): ApiJson<CredentialsRequest>,
) -> Result<Json<Value>, ApiError> {
    let workspace_id = workspace(&query)?;
    let body = body.credentials.ok_or_else(|| AppError::bad_request("Give the credentials object."))?;
    let provider = parse_provider(body.provider.as_deref())?;
    let keys = keys_input(provider, body.keys)?;
    let name = body.name.unwrap_or_default();
    let id = state.ports.credentials.create_credentials(&actor, workspace_id, name, keys).await?;
    Ok(Json(json!({ "credentialsId": id.to_string() })))
}

pub async fn describe(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(credentials_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CredentialsQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&credentials_id)?;
    let workspace_id = query.workspace_id.ok_or_else(not_found)?;
    let credentials = state.ports.credentials.describe_credentials(&actor, workspace_id, id).await?;
    Ok(Json(json!({ "credentials": credentials_dto(&credentials) })))
}

/// Replaces the keys. The name and the provider cannot change; giving them is allowed (Seqera's
/// clients send the whole object) as long as they match.
pub async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(credentials_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CredentialsQuery>,
    ApiJson(body): ApiJson<CredentialsRequest>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&credentials_id)?;
    let workspace_id = query.workspace_id.ok_or_else(not_found)?;
    let body = body.credentials.ok_or_else(|| AppError::bad_request("Give the credentials object."))?;
    let current = state.ports.credentials.describe_credentials(&actor, workspace_id, id).await?;
    if body.name.as_deref().is_some_and(|name| name != current.name) {
        return Err(AppError::bad_request("The name of credentials cannot change.").into());
    }
    let provider = match body.provider.as_deref() {
        Some(_) => parse_provider(body.provider.as_deref())?,
        None => current.provider,
    };
    let keys = keys_input(provider, body.keys)?;
    state.ports.credentials.update_credentials(&actor, workspace_id, id, keys).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 204, or 409 with Seqera's `DeleteCredentialsConflictResponse` (plus our `message`) when
/// compute environments, or runs that are not cleaned yet, use the credentials.
pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(credentials_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CredentialsQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id(&credentials_id)?;
    let workspace_id = query.workspace_id.ok_or_else(not_found)?;
    match state.ports.credentials.delete_credentials(&actor, workspace_id, id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(DeleteCredentialsError::Refused(error)) => Err(error.into()),
        Err(DeleteCredentialsError::InUse(in_use)) => {
            let envs = in_use
                .compute_envs
                .iter()
                .map(|(id, name)| json!({ "type": "compute-env", "id": id.to_string(), "name": name }));
            // Runs not cleaned yet delete their copies with these keys.
            let runs =
                in_use.runs.iter().map(|(id, name)| json!({ "type": "workflow", "id": id, "name": name }));
            let conflicts: Vec<Value> = envs.chain(runs).collect();
            let body = json!({
                "message": in_use.message(),
                "credentialsId": in_use.credentials_id.to_string(),
                "conflicts": conflicts,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
    }
}
