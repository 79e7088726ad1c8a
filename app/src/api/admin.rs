use crate::error::AppError;
use crate::model::UserSummary;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {super::context::*, secrecy::SecretString};

#[server(prefix = "/sfn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    finish(ports()?.accounts.list_users(&actor()?).await)
}

#[server(prefix = "/sfn", endpoint = "create_user")]
pub async fn create_user(
    email: String,
    display_name: String,
    password: String,
) -> Result<UserSummary, AppError> {
    let result =
        ports()?.accounts.create_user(&actor()?, email, display_name, SecretString::from(password)).await;
    finish(result)
}

#[server(prefix = "/sfn", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    finish(ports()?.accounts.set_user_disabled(&actor()?, user_id, disabled).await)
}
