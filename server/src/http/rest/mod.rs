//! The REST API, shaped like the Seqera Platform API for the same resources (the operations and
//! schemas this server serves are in `openapi.json` beside this file, taken from Seqera's public
//! OpenAPI document), so existing clients and habits carry over.
//! Handlers parse, call one port method (`AppState::ports`, the same the UI's server functions
//! call) and shape the answer; rules live in the domain.

mod compute_config;
mod compute_envs;
mod credentials;
mod extract;
mod host_identity;
mod identities;
mod openapi;
mod orgs;
mod participants;
mod pipeline_secrets;
mod tokens;
mod trace;
mod users;
mod workflow;

pub use extract::ApiError;

use crate::http::AppState;
use axum::routing::{any, delete, get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/user-info", get(users::user_info))
        .route("/api/orgs", get(orgs::list_orgs).post(orgs::create_org))
        .route("/api/pipeline-secrets", get(pipeline_secrets::list).post(pipeline_secrets::create))
        .route("/api/compute-envs", get(compute_envs::list).post(compute_envs::create))
        .route(
            "/api/compute-envs/{compute_env_id}",
            get(compute_envs::describe).put(compute_envs::update).delete(compute_envs::delete),
        )
        .route("/api/compute-envs/{compute_env_id}/validate", post(compute_envs::validate))
        .route("/api/compute-envs/{compute_env_id}/identity", get(compute_envs::identity))
        .route("/api/credentials", get(credentials::list).post(credentials::create))
        .route(
            "/api/credentials/{credentials_id}",
            get(credentials::describe).put(credentials::update).delete(credentials::delete),
        )
        .route("/api/identities", get(identities::list).post(identities::create))
        .route(
            "/api/identities/{managed_identity_id}",
            get(identities::describe).put(identities::update).delete(identities::delete),
        )
        .route(
            "/api/identities/{managed_identity_id}/credentials",
            get(identities::list_credentials).post(identities::create_credentials),
        )
        .route(
            "/api/identities/{managed_identity_id}/credentials/{managed_credentials_id}",
            put(identities::update_credentials).delete(identities::delete_credentials),
        )
        .route("/api/workflow", get(workflow::list))
        .route("/api/workflow/launch", post(workflow::launch))
        .route("/api/workflow/{workflow_id}", get(workflow::describe))
        .route("/api/workflow/{workflow_id}/cancel", post(workflow::cancel))
        .route("/api/trace/create", post(trace::create))
        .route("/api/trace/{workflow_id}/begin", put(trace::begin))
        .route("/api/trace/{workflow_id}/progress", put(trace::progress))
        .route("/api/trace/{workflow_id}/heartbeat", put(trace::heartbeat))
        .route("/api/trace/{workflow_id}/complete", put(trace::complete))
        .route("/api/trace/{workflow_id}/identity-token", post(trace::identity_token))
        .route("/api/tokens", get(tokens::list).post(tokens::create))
        .route("/api/tokens/{token_id}", delete(tokens::delete))
        .route("/api/pipeline-secrets/validate", get(pipeline_secrets::validate))
        .route(
            "/api/pipeline-secrets/{secret_id}",
            get(pipeline_secrets::describe).put(pipeline_secrets::update).delete(pipeline_secrets::delete),
        )
        .route("/api/orgs/{org_id}/workspaces", get(orgs::list_workspaces).post(orgs::create_workspace))
        .route("/api/workspaces/{workspace_id}/host-identity", put(host_identity::set))
        .route("/api/orgs/{org_id}/workspaces/{workspace_id}/participants", get(participants::list))
        .route("/api/orgs/{org_id}/workspaces/{workspace_id}/participants/add", put(participants::add))
        .route(
            "/api/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}",
            delete(participants::remove),
        )
        .route(
            "/api/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}/role",
            put(participants::set_role),
        )
        // Unknown API paths answer the API's JSON 404, not the UI's 404 page.
        .route("/api/{*rest}", any(extract::not_found))
}
