//! The router: pages (Leptos, with the domain's ports as their one context), server functions,
//! the REST API, the operations endpoints and the site's static files, under the request middleware (request ids, tracing,
//! bodies that took long or never ended, authentication, metrics, browser security headers).

use crate::http::middleware::authenticate;
use crate::http::middleware::browser_headers::browser_headers;
use crate::http::middleware::page_deadline::{PageDeadlineLayer, PAGE_DEADLINE};
use crate::http::middleware::unfinished_bodies::watch_unfinished_bodies;
use crate::http::ops;
use crate::http::state::AppState;
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub fn router(state: AppState) -> Router {
    let ports = state.ports.clone();
    let routes = generate_route_list(app::App);
    let leptos_options = state.leptos_options.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(ports.clone());
            },
            move || app::shell(leptos_options.clone()),
        )
        // The pages alone (a route layer, so not the static files below): a render that never
        // finishes is tried once more, then answered with a 503 (`page_deadline` says why).
        .route_layer(PageDeadlineLayer::new(PAGE_DEADLINE, state.metrics.page_retries.clone()))
        // The compiled site's files, and the 404 page for anything else.
        .fallback_service(crate::http::site_files::service(&state));

    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/.well-known/openid-configuration", get(crate::http::oidc::discovery))
        .route("/.well-known/jwks.json", get(crate::http::oidc::jwks))
        .merge(crate::http::rest::router())
        .merge(pages)
        // A route layer sees the matched route template, which labels the metrics.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), ops::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), browser_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::from_fn(watch_unfinished_bodies))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
