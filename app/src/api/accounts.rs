use crate::error::AppError;
use crate::model::SessionUser;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {super::context::*, secrecy::SecretString};

/// The signed-in user, or `None`. Never an error for a signed-out visitor.
#[server(prefix = "/sfn", endpoint = "session_user")]
pub async fn get_session_user() -> Result<Option<SessionUser>, AppError> {
    Ok(signed_in().map(|auth| auth.user))
}

#[server(prefix = "/sfn", endpoint = "needs_setup")]
pub async fn needs_setup() -> Result<bool, AppError> {
    finish(ports()?.accounts.needs_setup().await)
}

#[server(prefix = "/sfn", endpoint = "setup")]
pub async fn setup(email: String, display_name: String, password: String) -> Result<(), AppError> {
    let result = ports()?
        .accounts
        .setup_first_admin(&client_info(), email, display_name, SecretString::from(password))
        .await;
    let cookie = finish(result)?;
    set_cookie(cookie);
    leptos_axum::redirect("/");
    Ok(())
}

/// Signs in, then goes to `next` (the page asked for before signing in) when it is a path of
/// this site (`model::safe_next`), else home.
#[server(prefix = "/sfn", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let result = ports()?.accounts.login(&client_info(), email, SecretString::from(password)).await;
    let cookie = finish(result)?;
    set_cookie(cookie);
    leptos_axum::redirect(next.as_deref().and_then(crate::model::safe_next).unwrap_or("/"));
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    // A visitor without a session is already signed out: send them to the login page all the same.
    if let Some(auth) = signed_in() {
        set_cookie(finish(ports()?.accounts.logout(&auth).await)?);
    }
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let result = ports()?
        .accounts
        .change_password(
            &authenticated()?,
            SecretString::from(current_password),
            SecretString::from(new_password),
        )
        .await;
    finish(result)
}
