//! The OIDC issuer's public documents, fetched by clouds (and anyone) without signing in:
//! `/.well-known/openid-configuration` and the JWKS it names. Both may be cached for a few
//! minutes: a new key is published long before it signs (`oidc::key_ring`).

use crate::http::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

const CACHE_FOR: HeaderValue = HeaderValue::from_static("public, max-age=300");

pub async fn discovery(State(state): State<AppState>) -> Response {
    ([(header::CACHE_CONTROL, CACHE_FOR)], Json(state.domain.core.oidc.discovery())).into_response()
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let issuer = state.domain.core.oidc.clone();
    let now = crate::clock::now_ms() / 1000;
    // Reading (and, the first time, generating) a key is file and CPU work.
    match tokio::task::spawn_blocking(move || issuer.jwks(now)).await {
        Ok(Ok(set)) => ([(header::CACHE_CONTROL, CACHE_FOR)], Json(set)).into_response(),
        Ok(Err(error)) => {
            tracing::error!(error = %error, "the OIDC signing keys could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "The signing keys are unavailable.").into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
