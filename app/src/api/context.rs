//! Reaching the ports, the caller and the response from inside a server function.

use crate::error::AppError;
use crate::model::SessionUser;
use crate::ports::{Authenticated, ClientInfo, Ports, SetCookie};
use http::header::{HeaderValue, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// The server's ports, provided once per request by the server's router.
pub fn ports() -> Result<Ports, AppError> {
    use_context::<Ports>().ok_or(AppError::Internal)
}

/// The caller, for server functions that also serve signed-out visitors.
pub fn signed_in() -> Option<Authenticated> {
    use_context::<Parts>().and_then(|parts| parts.extensions.get::<Authenticated>().cloned())
}

/// The caller, for server functions that need one: a signed-out call answers 401.
pub fn authenticated() -> Result<Authenticated, AppError> {
    // The status is set here too: callers return this error with `?` before reaching `finish`.
    signed_in().ok_or_else(|| with_status(AppError::Unauthenticated))
}

pub fn actor() -> Result<SessionUser, AppError> {
    authenticated().map(|a| a.user)
}

pub fn client_info() -> ClientInfo {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<ClientInfo>().cloned())
        .unwrap_or(ClientInfo { ip: "unknown".into() })
}

pub fn set_cookie(cookie: SetCookie) {
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie.0))
    {
        response.append_header(SET_COOKIE, value);
    }
}

/// Gives an error its HTTP status (and `Retry-After`), so that scripts calling a server function
/// see the same codes as REST clients do.
pub fn finish<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    result.map_err(with_status)
}

fn with_status(error: AppError) -> AppError {
    if let Some(response) = use_context::<ResponseOptions>() {
        let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
        if let AppError::RateLimited { retry_after_secs } = &error {
            response.insert_header(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
    error
}
