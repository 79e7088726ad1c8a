//! Personal access tokens for the UI: list, create (the token is returned once), delete.

use crate::error::AppError;
use crate::model::TokenSummary;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {super::context::*, secrecy::ExposeSecret};

/// A token just created. `token` is the only copy that will ever leave the server, exactly as
/// the REST API's `accessKey`: the page holds it in a signal until the user leaves.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub summary: TokenSummary,
    pub token: String,
}

// No `Debug`: a stray `{:?}` in a log line must not print the token.
impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("summary", &self.summary).finish_non_exhaustive()
    }
}

#[server(prefix = "/sfn", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    finish(ports()?.tokens.list_tokens(&actor()?).await)
}

#[server(prefix = "/sfn", endpoint = "create_token")]
pub async fn create_token(name: String, expires_in_days: Option<i64>) -> Result<NewToken, AppError> {
    let result = async {
        let (summary, token) = ports()?.tokens.create_token(&actor()?, name, expires_in_days).await?;
        Ok(NewToken { summary, token: token.expose_secret().to_string() })
    }
    .await;
    // The response carries the token: no cache may keep a copy.
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    }
    finish(result)
}

#[server(prefix = "/sfn", endpoint = "delete_token")]
pub async fn delete_token(token_id: i64) -> Result<(), AppError> {
    finish(ports()?.tokens.delete_token(&actor()?, token_id).await)
}
