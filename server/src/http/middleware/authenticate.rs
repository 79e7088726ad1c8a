//! Request-level authentication, run before every route.
//!
//! It resolves the access token or session cookie into an `Authenticated` request extension (read
//! by the REST API's extractor and by server functions through the request parts), records the
//! client address (`client_addr`), refuses cross-site state-changing requests (`cross_site`),
//! confines a run token to its own run's trace endpoints (with a `RunScope` extension the trace
//! handlers check again), and sends signed-out visitors of a page to the sign-in (or first-visit
//! setup) page.

use super::client_addr::TrustedProxies;
use super::cross_site::CrossSitePolicy;
use crate::domain::RunScope;
use crate::http::AppState;
use app::ports::ClientInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;

/// The request-level settings the middleware applies (from `Config`).
pub struct RequestGuard {
    pub trusted_proxies: TrustedProxies,
    pub cross_site: CrossSitePolicy,
}

impl RequestGuard {
    pub fn from_config(config: &crate::config::Config) -> Result<Self, String> {
        Ok(RequestGuard {
            trusted_proxies: TrustedProxies::parse(&config.trusted_proxies)?,
            cross_site: CrossSitePolicy { public_origin: config.public_origin() },
        })
    }
}

pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| {
            state.request_guard.trusted_proxies.client_address(addr.ip(), request.headers())
        })
        .unwrap_or_else(|| "unknown".into());
    request.extensions_mut().insert(ClientInfo { ip: ip.clone() });
    // Audit entries written while serving this request say where it came from.
    crate::audit::with_client_ip(ip, resolve_caller(state, request, next)).await
}

async fn resolve_caller(state: AppState, mut request: Request, next: Next) -> Response {
    let accounts = &state.domain.accounts;
    let bearer = bearer_token(&request);
    let session_token = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookies| accounts.sessions.token_from_cookies(cookies).map(str::to_owned));
    let rides_on_cookie = bearer.is_none() && session_token.is_some();
    if let Some(refusal) = state.request_guard.cross_site.refusal(&request, rides_on_cookie) {
        return (StatusCode::FORBIDDEN, refusal).into_response();
    }

    // API clients (the CLI, Nextflow, scripts) present an access token; it is checked first and,
    // when present, must be valid: a bad token is never silently ignored.
    if let Some(bearer) = bearer {
        return match state.domain.tokens.resolve_bearer(&bearer).await {
            Ok(Some(caller)) => {
                if let Some(run) = caller.run {
                    // A run token reports on its own run and does nothing else.
                    if !run_token_may_call(request.method(), request.uri().path(), &run) {
                        return crate::http::rest::ApiError(app::error::AppError::Forbidden(
                            "A run token can only report on its own run (the trace API).".into(),
                        ))
                        .into_response();
                    }
                    request.extensions_mut().insert(run);
                }
                request.extensions_mut().insert(caller.auth);
                next.run(request).await
            }
            Ok(None) => crate::http::rest::ApiError(app::error::AppError::Unauthenticated).into_response(),
            Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        };
    }
    let mut signed_in = false;
    if let Some(token) = session_token {
        match accounts.resolve_session(&token).await {
            Ok(Some(auth)) => {
                signed_in = true;
                request.extensions_mut().insert(auth);
            }
            Ok(None) => {}
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }

    if request.method() == Method::GET && is_page(request.uri().path()) {
        if let Some(redirect) = page_redirect(&state, request.uri(), signed_in).await {
            return redirect.into_response();
        }
    }
    next.run(request).await
}

/// The only calls a run token may make: `POST /api/trace/create` (which must then name its run:
/// the handler checks the body), `PUT /api/trace/{its run}/begin|progress|heartbeat|complete`
/// and `POST /api/trace/{its run}/identity-token` (a managed cloud identity's token).
/// The path is compared as sent; the trace handlers compare the decoded id again.
fn run_token_may_call(method: &Method, path: &str, run: &RunScope) -> bool {
    let Some(rest) = path.strip_prefix("/api/trace/") else { return false };
    if rest == "create" {
        return *method == Method::POST;
    }
    match rest.split_once('/') {
        Some((id, action)) => {
            id == run.workflow_id
                && ((*method == Method::PUT
                    && matches!(action, "begin" | "progress" | "heartbeat" | "complete"))
                    || (*method == Method::POST && action == "identity-token"))
        }
        None => false,
    }
}

fn bearer_token(request: &Request) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Where a page request must go instead, if anywhere. A signed-out visitor asking for a page
/// other than home goes to `/login?next=<that page>`, and lands there once signed in.
async fn page_redirect(state: &AppState, uri: &axum::http::Uri, signed_in: bool) -> Option<Redirect> {
    let path = uri.path();
    let public_page = path == "/login" || path == "/setup";
    if signed_in {
        return public_page.then(|| Redirect::to("/"));
    }
    let needs_setup = state.ports.accounts.needs_setup().await.unwrap_or(false);
    match (needs_setup, path) {
        (true, "/setup") | (false, "/login") => None,
        (true, _) => Some(Redirect::to("/setup")),
        (false, "/" | "/setup") => Some(Redirect::to("/login")),
        (false, _) => Some(Redirect::to(&login_then(uri))),
    }
}

/// `/login?next=<path and query, URL-encoded>`.
fn login_then(uri: &axum::http::Uri) -> String {
    let asked = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let next: String = url::form_urlencoded::byte_serialize(asked.as_bytes()).collect();
    format!("/login?next={next}")
}

/// Pages are everything the Leptos router renders: not the APIs, server functions or files.
fn is_page(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !(path.starts_with("/api/")
        || path.starts_with("/sfn/")
        || path.starts_with("/pkg/")
        || path.starts_with("/.well-known/")
        || path == "/health"
        || path == "/metrics"
        || last.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_exclude_apis_and_files() {
        assert!(is_page("/"));
        assert!(is_page("/orgs/1/workspaces/2/members"));
        for not_page in [
            "/api/orgs",
            "/sfn/login",
            "/pkg/strongroom.wasm",
            "/favicon.ico",
            "/health",
            "/metrics",
            "/.well-known/openid-configuration",
        ] {
            assert!(!is_page(not_page), "{not_page}");
        }
    }

    #[test]
    fn run_tokens_reach_only_their_own_runs_trace_endpoints() {
        let run = RunScope { workflow_id: "AbC123".into() };
        for action in ["begin", "progress", "heartbeat", "complete"] {
            assert!(
                run_token_may_call(&Method::PUT, &format!("/api/trace/AbC123/{action}"), &run),
                "{action}"
            );
            assert!(
                !run_token_may_call(&Method::PUT, &format!("/api/trace/Other1/{action}"), &run),
                "{action}"
            );
        }
        assert!(run_token_may_call(&Method::POST, "/api/trace/create", &run));
        assert!(run_token_may_call(&Method::POST, "/api/trace/AbC123/identity-token", &run));
        assert!(!run_token_may_call(&Method::POST, "/api/trace/Other1/identity-token", &run));
        assert!(!run_token_may_call(&Method::GET, "/api/trace/AbC123/identity-token", &run));
        for (method, path) in [
            (Method::GET, "/api/trace/create"),
            (Method::PUT, "/api/trace/AbC123/begin/"),
            (Method::PUT, "/api/trace/AbC123/cancel"),
            (Method::PUT, "/api/trace/abc123/begin"),
            (Method::GET, "/api/tokens"),
            (Method::GET, "/api/user-info"),
            (Method::POST, "/api/workflow/AbC123/cancel"),
            (Method::POST, "/sfn/create_token"),
            (Method::GET, "/"),
        ] {
            assert!(!run_token_may_call(&method, path, &run), "{method} {path}");
        }
    }
}
