//! Secrets for the UI. `workspace_id` 0 means the caller's own secrets ("Your secrets"), as the
//! REST API's missing `workspaceId` does.

use crate::error::AppError;
use crate::model::SecretMeta;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {super::context::*, crate::model::SecretScope, secrecy::SecretString};

/// The UI lists at most this many secrets at once and pages through them in the browser.
#[cfg(feature = "ssr")]
const UI_SECRET_LIMIT: i64 = 10_000;

#[cfg(feature = "ssr")]
fn scope(workspace_id: i64) -> SecretScope {
    if workspace_id == 0 {
        SecretScope::Mine
    } else {
        SecretScope::Workspace(workspace_id)
    }
}

#[server(prefix = "/sfn", endpoint = "list_secrets")]
pub async fn list_secrets(workspace_id: i64, search: String) -> Result<Vec<SecretMeta>, AppError> {
    let page =
        ports()?.secrets.list_secrets(&actor()?, scope(workspace_id), search, UI_SECRET_LIMIT, 0).await;
    finish(page.map(|page| page.items))
}

/// Whether `name` can be created: `Ok` when valid and free, a `Conflict` naming it when taken (the
/// form says so while the user types, before anything is sent), a `BadRequest` for the name rule.
#[server(prefix = "/sfn", endpoint = "validate_secret_name")]
pub async fn validate_secret_name(workspace_id: i64, name: String) -> Result<(), AppError> {
    finish(ports()?.secrets.validate_secret_name(&actor()?, scope(workspace_id), name).await)
}

#[server(prefix = "/sfn", endpoint = "create_secret")]
pub async fn create_secret(workspace_id: i64, name: String, value: String) -> Result<i64, AppError> {
    let value = SecretString::from(value);
    finish(ports()?.secrets.create_secret(&actor()?, scope(workspace_id), name, value).await)
}

#[server(prefix = "/sfn", endpoint = "update_secret")]
pub async fn update_secret(workspace_id: i64, secret_id: i64, value: String) -> Result<(), AppError> {
    let value = SecretString::from(value);
    finish(ports()?.secrets.update_secret(&actor()?, scope(workspace_id), secret_id, value).await)
}

#[server(prefix = "/sfn", endpoint = "delete_secret")]
pub async fn delete_secret(workspace_id: i64, secret_id: i64) -> Result<(), AppError> {
    finish(ports()?.secrets.delete_secret(&actor()?, scope(workspace_id), secret_id).await)
}
