//! A managed Google environment aimed at an endpoint that misbehaves on purpose. A workspace
//! admin sets `endpointUrl`; what the exchange sends there is a freshly minted token for the
//! checking user, so the endpoint must be on the instance's allow-list, a redirect must never be
//! followed (the token would go to whoever the endpoint names), and nothing the endpoint says may
//! reach the answer.

use super::{check, create_env};
use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/strongroom/providers/lab-oidc";
const ACCOUNT: &str = "runner@proj-hostile.iam.gserviceaccount.com";
const MARKER: &str = "HOSTILE-WORDS-5e81";

fn config(endpoint: &str) -> Value {
    json!({ "projectId": "proj-hostile", "location": "europe-west1", "workDir": "gs://lab/work",
        "endpointUrl": endpoint,
        "cloudIdentity": { "subject": "workspace",
            "mappings": [{ "workloadIdentityProvider": PROVIDER, "serviceAccount": ACCOUNT }] } })
}

/// A listed endpoint (on the emulator host) answering every request with `answer`, recording
/// each request's path and body.
async fn endpoint(
    answer: impl Fn(&str) -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = tokio::net::TcpListener::bind((EMULATOR_HOST, 0)).await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: String| {
        let answer = answer.clone();
        let log = log.clone();
        async move {
            log.lock().unwrap().push((uri.path().to_string(), body));
            answer(uri.path())
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, seen)
}

fn json_answer(status: u16, body: Value) -> axum::response::Response {
    (AxumStatus::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// The Check's verdict and message, which must be INVALID and free of the endpoint's words.
async fn refused_check(app: &TestApp, who: &reqwest::Client, ws: i64, env: &str) -> String {
    let outcome = check(app, who, ws, env).await;
    assert_eq!(outcome["status"], "INVALID", "{outcome}");
    let said = outcome["message"].as_str().unwrap().to_string();
    assert!(!outcome.to_string().contains(MARKER), "the endpoint's words reached the answer: {outcome}");
    said
}

#[tokio::test]
async fn an_unlisted_endpoint_is_refused_for_a_managed_environment_before_any_token_is_minted() {
    let app = spawn_app().await;
    let owner = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&owner, "lab").await;
    for unlisted in ["http://169.254.169.254/", "http://127.0.0.1:9/", "http://10.1.2.3/"] {
        let (status, answer) =
            app.create_compute_env(&owner, ws, "gcp-managed", "google-batch", config(unlisted)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{unlisted}: {answer}");
        assert!(answer.to_string().contains("STRONGROOM_ENDPOINT_ALLOW"), "{answer}");
    }
}

#[tokio::test]
async fn a_redirect_is_never_followed_so_the_token_reaches_no_other_server() {
    let (elsewhere, reached_elsewhere) = endpoint(|_| json_answer(200, json!({}))).await;
    let target = format!("{elsewhere}/v1/token");
    let (redirecting, reached) = endpoint(move |_| {
        let mut headers = HeaderMap::new();
        headers.insert("location", target.parse().unwrap());
        (AxumStatus::TEMPORARY_REDIRECT, headers, MARKER).into_response()
    })
    .await;

    let app = spawn_app().await;
    let owner = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&owner, "lab").await;
    let env = create_env(&app, &owner, ws, "gcp-redirect", "google-batch", config(&redirecting)).await;

    let said = refused_check(&app, &owner, ws, &env).await;
    assert!(said.contains("endpoint"), "the message names the environment's endpoint: {said}");
    let reached = reached.lock().unwrap().clone();
    assert_eq!(reached.len(), 1, "one exchange attempt, at the STS path: {reached:?}");
    assert_eq!(reached[0].0, "/v1/token");
    assert!(reached[0].1.contains("subject_token="), "the exchange carried a token: {}", reached[0].1);
    assert!(
        reached_elsewhere.lock().unwrap().is_empty(),
        "the redirect was followed: the token reached another server"
    );
}

#[tokio::test]
async fn an_endpoints_refusals_are_sorted_into_our_own_sentences_never_echoed() {
    let app = spawn_app().await;
    let owner = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&owner, "lab").await;

    // STS refuses with a code of its own and a description carrying the marker.
    let (sts, _) = endpoint(|_| {
        json_answer(400, json!({ "error": format!("odd_{MARKER}"), "error_description": MARKER }))
    })
    .await;
    let env = create_env(&app, &owner, ws, "gcp-odd-sts", "google-batch", config(&sts)).await;
    let said = refused_check(&app, &owner, ws, &env).await;
    assert!(said.contains("refused the token exchange") && said.contains(PROVIDER), "{said}");

    // STS grants, then impersonation fails with a status of its own and the marker as message.
    let (iam, seen) = endpoint(|path| {
        if path == "/v1/token" {
            json_answer(200, json!({ "access_token": "federated-token", "expires_in": 3600,
                "token_type": "Bearer", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token" }))
        } else {
            json_answer(500, json!({ "error": { "code": 500, "status": MARKER, "message": MARKER } }))
        }
    })
    .await;
    let env = create_env(&app, &owner, ws, "gcp-odd-iam", "google-batch", config(&iam)).await;
    let said = refused_check(&app, &owner, ws, &env).await;
    assert!(said.contains(&format!("refused to let the run act as service account {ACCOUNT}")), "{said}");
    let paths: Vec<String> = seen.lock().unwrap().iter().map(|(path, _)| path.clone()).collect();
    assert_eq!(
        paths,
        ["/v1/token".to_string(), format!("/v1/projects/-/serviceAccounts/{ACCOUNT}:generateAccessToken")],
        "the exchange, then the impersonation; nothing reached Secret Manager without a token"
    );
}
