//! `/identities…`: managed identities and each member's managed credentials in Seqera's shape
//! (`CreateManagedIdentityRequest`, `ListManagedIdentitiesResponse`,
//! `CreateManagedCredentialsRequest`, `ListManagedCredentialsResponse`,
//! `DeleteManagedCredentialsConflictResponse`…), every path with Seqera's `orgId` query.
//!
//! What is accepted for credentials, exactly: `provider` `"ssh"` (or absent), `credentials.keys`
//! Seqera's `SSHSecurityKeys` (`privateKey`, optional `passphrase`; `discriminator` ignored),
//! `credentials.provider` `"ssh"` (or absent) and the cluster account in `metadata.userName`
//! (Seqera's SSH metadata). The key is write-only: the request types have no `Debug`, the key
//! becomes a `SecretString` at once, and no response carries it (lists show the account and the
//! public key's fingerprint, `metadata.publicKeyFingerprint`, a Strongroom extension).
//!
//! `checked` on the deletes is accepted as Seqera documents it, but Strongroom always checks:
//! a run that is not cleaned yet deletes its copies on the cluster with these keys, so deleting
//! them first would strand secrets there (409 whatever `checked` says).

use super::extract::{ApiError, ApiJson, ApiPath, ApiQuery, Caller};
use crate::http::AppState;
use app::error::AppError;
use app::model::*;
use app::ports::{
    InUseSubject, ManagedCredentialsError, ManagedCredentialsInput, ManagedCredentialsQuery, SshKeysInput,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};

const DEFAULT_PAGE: i64 = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgQuery {
    org_id: Option<i64>,
    search: Option<String>,
    max: Option<i64>,
    offset: Option<i64>,
    user_id: Option<i64>,
    /// Seqera's flag on deletes; Strongroom always checks (see the module doc).
    #[allow(dead_code)]
    checked: Option<bool>,
}

impl OrgQuery {
    fn org(&self) -> Result<i64, ApiError> {
        self.org_id.ok_or_else(|| {
            AppError::bad_request("Give the orgId: managed identities belong to an organization.").into()
        })
    }

    fn page(&self) -> (i64, i64) {
        (self.max.unwrap_or(DEFAULT_PAGE), self.offset.unwrap_or(0))
    }
}

/// Absent stays absent; `null` becomes `Some(None)` (for "remove the pinned key").
fn present_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `AbstractGridConfig`, of which an identity keeps the cluster's address.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GridConfigBody {
    host_name: Option<String>,
    port: Option<u16>,
    #[serde(default, deserialize_with = "present_or_null")]
    host_key_fingerprint: Option<Option<String>>,
    #[allow(dead_code)]
    discriminator: Option<String>,
    /// Anything else (workDir, userName, queues…) belongs to a compute environment.
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl GridConfigBody {
    fn refuse_other_fields(&self) -> Result<(), ApiError> {
        let Some(field) = self.other.keys().next() else { return Ok(()) };
        Err(AppError::bad_request(format!(
            "A managed identity's config takes hostName, port and hostKeyFingerprint only; {field} belongs \
             to the compute environment (and each member registers their own userName)."
        ))
        .into())
    }
}

#[derive(Deserialize)]
pub struct IdentityBody {
    name: Option<String>,
    platform: Option<String>,
    #[serde(default)]
    config: GridConfigBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIdentityRequest {
    managed_identity: Option<IdentityBody>,
}

/// `SSHSecurityKeys`. No `Debug`: it holds the key.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshKeysBody {
    private_key: Option<String>,
    passphrase: Option<String>,
}

#[derive(Deserialize)]
pub struct CredentialsBody {
    provider: Option<String>,
    keys: Option<SshKeysBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataBody {
    user_name: Option<String>,
}

/// `CreateManagedCredentialsRequest` and `UpdateManagedCredentialsRequest`.
#[derive(Deserialize)]
pub struct ManagedCredentialsRequest {
    provider: Option<String>,
    credentials: Option<CredentialsBody>,
    metadata: Option<MetadataBody>,
}

fn parse_platform(platform: Option<&str>) -> Result<Platform, ApiError> {
    let platform = platform
        .ok_or_else(|| AppError::bad_request(format!("Give the platform: one of {}.", platform_names())))?;
    platform.parse::<Platform>().map_err(|_| {
        AppError::bad_request(format!("Unknown platform '{platform}': use one of {}.", platform_names()))
            .into()
    })
}

fn platform_names() -> String {
    MANAGED_IDENTITY_PLATFORMS.map(Platform::as_str).join(", ")
}

fn credentials_input(body: ManagedCredentialsRequest) -> Result<ManagedCredentialsInput, ApiError> {
    let credentials_provider = body.credentials.as_ref().and_then(|c| c.provider.as_deref());
    for provider in [body.provider.as_deref(), credentials_provider].into_iter().flatten() {
        if provider != "ssh" {
            return Err(
                AppError::bad_request("Managed credentials are SSH keys: the provider must be ssh.").into()
            );
        }
    }
    let keys = body.credentials.and_then(|c| c.keys).map(|keys| {
        keys.private_key.map(|private_key| SshKeysInput {
            private_key: SecretString::from(private_key),
            passphrase: keys.passphrase.map(SecretString::from),
        })
    });
    let keys = match keys {
        Some(None) => {
            return Err(AppError::bad_request("Give the SSH key as credentials.keys.privateKey.").into())
        }
        Some(keys) => keys,
        None => None,
    };
    Ok(ManagedCredentialsInput { user_name: body.metadata.and_then(|m| m.user_name), keys })
}

/// `ManagedIdentityDbDto_AbstractGridConfig_` (and `CreateManagedIdentityResponse`).
fn identity_dto(identity: &ManagedIdentity) -> Value {
    json!({
        "id": identity.id,
        "name": identity.name,
        "platform": identity.platform.as_str(),
        "config": {
            "discriminator": identity.platform.as_str().trim_end_matches("-platform"),
            "hostName": identity.config.host_name,
            "port": identity.config.port,
            "hostKeyFingerprint": identity.config.host_key_fingerprint,
        },
        "dateCreated": format_timestamp_rfc3339(identity.created_at),
        "lastUpdated": format_timestamp_rfc3339(identity.updated_at),
    })
}

/// `ListManagedCredentialsRespDto`: `userName` is the member (their email, as everywhere in this
/// API), `metadata.userName` their cluster account. A member who has not registered has no
/// `managedCredentialsId` and no metadata (Seqera's "missing").
fn credentials_dto(c: &ManagedCredentialsSummary) -> Value {
    let metadata = c.credentials_id.map(|_| {
        json!({
            "discriminator": "ssh",
            "userName": c.user_name,
            "publicKeyFingerprint": c.public_key_fingerprint,
        })
    });
    json!({
        "managedCredentialsId": c.credentials_id,
        "userId": c.user_id,
        "userName": c.email,
        "firstName": c.display_name,
        "provider": "ssh",
        "metadata": metadata,
        "dateCreated": c.created_at.map(format_timestamp_rfc3339),
        "lastUpdated": c.updated_at.map(format_timestamp_rfc3339),
        "lastUsed": c.last_used_at.map(format_timestamp_rfc3339),
    })
}

/// 204, or 409 with Seqera's `DeleteManagedCredentialsConflictResponse` (plus our `message`).
fn deleted(result: Result<(), ManagedCredentialsError>) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(ManagedCredentialsError::Refused(error)) => Err(error.into()),
        Err(ManagedCredentialsError::InUse(in_use)) => {
            let conflicts: Vec<Value> = in_use
                .runs
                .iter()
                .map(|(id, name)| json!({ "type": "workflow", "id": id, "name": name }))
                .collect();
            let credentials_id = match in_use.what {
                InUseSubject::Credentials(id) => Some(id.to_string()),
                InUseSubject::Identity(_) => None,
            };
            let body = json!({
                "message": in_use.message(),
                "managedCredentialsId": credentials_id,
                "conflicts": conflicts,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<OrgQuery>,
) -> Result<Json<Value>, ApiError> {
    let (max, offset) = query.page();
    let search = query.search.clone().filter(|s| !s.trim().is_empty());
    let page = state.ports.identities.list_identities(&actor, query.org()?, search, max, offset).await?;
    let dtos: Vec<Value> = page.items.iter().map(identity_dto).collect();
    Ok(Json(json!({ "managedIdentities": dtos, "totalSize": page.total })))
}

pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<OrgQuery>,
    ApiJson(body): ApiJson<IdentityBody>,
) -> Result<Json<Value>, ApiError> {
    body.config.refuse_other_fields()?;
    let input = ManagedIdentityInput {
        name: body.name.unwrap_or_default(),
        platform: parse_platform(body.platform.as_deref())?,
        host_name: body.config.host_name.unwrap_or_default(),
        port: body.config.port,
        host_key_fingerprint: body.config.host_key_fingerprint.flatten(),
    };
    let identity = state.ports.identities.create_identity(&actor, query.org()?, input).await?;
    Ok(Json(identity_dto(&identity)))
}

pub async fn describe(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(identity_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<OrgQuery>,
) -> Result<Json<Value>, ApiError> {
    let identity = state.ports.identities.describe_identity(&actor, query.org()?, identity_id).await?;
    Ok(Json(identity_dto(&identity)))
}

/// Renames or changes the address; `hostKeyFingerprint` `null` (or "") unpins the host key,
/// absent keeps it. The platform may be given (Seqera's clients send the whole object) but not
/// changed.
pub async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(identity_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<OrgQuery>,
    ApiJson(body): ApiJson<UpdateIdentityRequest>,
) -> Result<StatusCode, ApiError> {
    let org_id = query.org()?;
    let body =
        body.managed_identity.ok_or_else(|| AppError::bad_request("Give the managedIdentity object."))?;
    body.config.refuse_other_fields()?;
    if let Some(platform) = body.platform.as_deref() {
        let current = state.ports.identities.describe_identity(&actor, org_id, identity_id).await?;
        if parse_platform(Some(platform))? != current.platform {
            return Err(AppError::bad_request(
                "The platform of a managed identity cannot change: create another identity for the other \
                 scheduler.",
            )
            .into());
        }
    }
    let host_key_fingerprint = match body.config.host_key_fingerprint {
        None => PinnedKeyChange::Keep,
        Some(None) => PinnedKeyChange::Remove,
        Some(Some(fingerprint)) => PinnedKeyChange::Set(fingerprint),
    };
    let change = ManagedIdentityChange {
        name: body.name,
        host_name: body.config.host_name,
        port: body.config.port,
        host_key_fingerprint,
    };
    state.ports.identities.update_identity(&actor, org_id, identity_id, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(identity_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<OrgQuery>,
) -> Result<Response, ApiError> {
    deleted(state.ports.identities.delete_identity(&actor, query.org()?, identity_id).await)
}

pub async fn list_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(identity_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<OrgQuery>,
) -> Result<Json<Value>, ApiError> {
    let (max, offset) = query.page();
    let search = query.search.clone().filter(|s| !s.trim().is_empty());
    let filter = ManagedCredentialsQuery { user_id: query.user_id, search, max, offset };
    let page =
        state.ports.identities.list_managed_credentials(&actor, query.org()?, identity_id, filter).await?;
    let dtos: Vec<Value> = page.items.iter().map(credentials_dto).collect();
    Ok(Json(json!({ "managedCredentials": dtos, "totalSize": page.total })))
}

/// The caller's own credentials; `userId`, if given, must be the caller (nobody registers a key
/// for someone else).
pub async fn create_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(identity_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<OrgQuery>,
    ApiJson(body): ApiJson<ManagedCredentialsRequest>,
) -> Result<Json<Value>, ApiError> {
    if query.user_id.is_some_and(|id| id != actor.id) {
        return Err(AppError::Forbidden(
            "Each member adds their own cluster credentials: userId may only name yourself.".into(),
        )
        .into());
    }
    let input = credentials_input(body)?;
    let id =
        state.ports.identities.create_managed_credentials(&actor, query.org()?, identity_id, input).await?;
    Ok(Json(json!({ "managedCredentials": { "id": id } })))
}

/// A new cluster account (`metadata.userName`) and/or a new key; absent parts stay.
pub async fn update_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((identity_id, credentials_id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<OrgQuery>,
    ApiJson(body): ApiJson<ManagedCredentialsRequest>,
) -> Result<Response, ApiError> {
    let input = credentials_input(body)?;
    let org_id = query.org()?;
    let result = state
        .ports
        .identities
        .update_managed_credentials(&actor, org_id, identity_id, credentials_id, input)
        .await;
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        other => deleted(other),
    }
}

pub async fn delete_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((identity_id, credentials_id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<OrgQuery>,
) -> Result<Response, ApiError> {
    let org_id = query.org()?;
    deleted(
        state.ports.identities.delete_managed_credentials(&actor, org_id, identity_id, credentials_id).await,
    )
}
