//! Request-level authentication, run before every route.
//!
//! It resolves the session cookie into an `Authenticated` request extension (read by the REST
//! API's extractor and by server functions through the request parts), records the client
//! address, refuses cross-site state-changing requests, and sends signed-out visitors of a page to
//! the sign-in (or first-visit setup) page.

use crate::startup::AppState;
use app::ports::ClientInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;

pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    request.extensions_mut().insert(ClientInfo { ip: ip.clone() });
    // Audit entries written while serving this request say where it came from.
    crate::audit::with_client_ip(ip, resolve_caller(state, request, next)).await
}

async fn resolve_caller(state: AppState, mut request: Request, next: Next) -> Response {
    if is_cross_site_write(&request) {
        return (StatusCode::FORBIDDEN, "Cross-site requests are not accepted.").into_response();
    }

    let services = &state.services;
    // API clients (the CLI, Nextflow, scripts) present a personal access token; it is checked
    // first and, when present, must be valid: a bad token is never silently ignored.
    if let Some(bearer) = bearer_token(&request) {
        return match services.resolve_bearer(&bearer).await {
            Ok(Some(auth)) => {
                request.extensions_mut().insert(auth);
                next.run(request).await
            }
            Ok(None) => crate::api::ApiError(app::error::AppError::Unauthenticated).into_response(),
            Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        };
    }
    let token = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookies| services.sessions.token_from_cookies(cookies).map(str::to_owned));
    let mut signed_in = false;
    if let Some(token) = token {
        match services.resolve_session(&token).await {
            Ok(Some(auth)) => {
                signed_in = true;
                request.extensions_mut().insert(auth);
            }
            Ok(None) => {}
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }

    if request.method() == Method::GET && is_page(request.uri().path()) {
        if let Some(redirect) = page_redirect(&state, request.uri().path(), signed_in).await {
            return redirect.into_response();
        }
    }
    next.run(request).await
}

fn bearer_token(request: &Request) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Where a page request must go instead, if anywhere.
async fn page_redirect(state: &AppState, path: &str, signed_in: bool) -> Option<Redirect> {
    let public_page = path == "/login" || path == "/setup";
    if signed_in {
        return public_page.then(|| Redirect::to("/"));
    }
    let needs_setup = state.services.needs_setup().await.unwrap_or(false);
    match (needs_setup, path) {
        (true, "/setup") | (false, "/login") => None,
        (true, _) => Some(Redirect::to("/setup")),
        (false, _) => Some(Redirect::to("/login")),
    }
}

/// Pages are everything the Leptos router renders: not the APIs, server functions or files.
fn is_page(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !(path.starts_with("/api/")
        || path.starts_with("/sfn/")
        || path.starts_with("/pkg/")
        || path == "/health"
        || path == "/metrics"
        || last.contains('.'))
}

/// A browser that sends a state-changing request from another site says so in `Origin`; refuse it
/// unless it names this host. SameSite=Lax cookies already stop most of these: this closes the
/// rest (older browsers, same-site subdomains on other ports).
fn is_cross_site_write(request: &Request) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn pages_exclude_apis_and_files() {
        assert!(is_page("/"));
        assert!(is_page("/orgs/1/workspaces/2/members"));
        for not_page in
            ["/api/orgs", "/sfn/login", "/pkg/strongroom.wasm", "/favicon.ico", "/health", "/metrics"]
        {
            assert!(!is_page(not_page), "{not_page}");
        }
    }

    fn post(origin: Option<&str>) -> Request {
        let mut builder = Request::post("/sfn/login").header(header::HOST, "127.0.0.1:3000");
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn writes_from_other_origins_are_refused() {
        assert!(!is_cross_site_write(&post(None)));
        assert!(!is_cross_site_write(&post(Some("http://127.0.0.1:3000"))));
        assert!(is_cross_site_write(&post(Some("https://evil.example"))));
        assert!(is_cross_site_write(&post(Some("http://127.0.0.1:3001"))));
        assert!(is_cross_site_write(&post(Some("null"))));
    }
}
