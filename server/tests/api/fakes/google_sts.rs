//! A Google STS and IAM Credentials stand-in that checks web identity tokens as Google does, in
//! front of the in-repo Google fake (`gsm`), which answers every other call.
//!
//! - `POST /v1/token` (STS token exchange, form-encoded): the `audience` must name a workload
//!   identity provider of the project, the token's issuer must be the provider's issuer URI, its
//!   signature must verify against the keys the issuer publishes (fetched over HTTP, `jwt_check`),
//!   its audience must be allowed, and the provider's attribute condition must let its subject
//!   through. Answers a federated access token.
//! - `POST /v1/projects/-/serviceAccounts/<email>:generateAccessToken` (impersonation): the
//!   federated token's principal must hold `roles/iam.workloadIdentityUser` on the account.
//!   Answers the service account's access token.
//! - Anything else (Secret Manager, Batch) reaches the fake unchanged only with a token handed out
//!   here, so a test knows its calls were made with exchanged credentials, and as whom.
//!
//! Refusals use Google's codes and wording: OAuth errors from STS
//! (`{"error": "invalid_grant", "error_description": "..."}`), Google API errors from IAM and the
//! APIs (`{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}`).
//! Not modelled: token expiry, the 24-hour limit on the token's lifetime, `delegates`.

use super::jwt_check::{self, Refusal};
use super::sts::forward;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A workload identity provider (OIDC) of the stand-in's project.
#[derive(Debug, Clone)]
pub struct Provider {
    /// `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>`.
    pub name: String,
    pub issuer_uri: String,
    /// Empty: Google's default, the provider's full name with `https:` or without.
    pub allowed_audiences: Vec<String>,
    /// The attribute condition, as the subjects it lets through (`None`: no condition).
    pub subjects: Option<HashSet<String>>,
}

/// What the stand-in's project trusts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub providers: Vec<Provider>,
    /// Per service account email, the principals granted `roles/iam.workloadIdentityUser` on it.
    pub service_accounts: HashMap<String, HashSet<String>>,
}

/// The principal a federated token of `subject` at `provider` acts as (the provider's pool).
pub fn principal(provider: &str, subject: &str) -> String {
    let pool = provider.split("/providers/").next().unwrap_or(provider);
    format!("principal://iam.googleapis.com/{pool}/subject/{subject}")
}

/// One token exchange the stand-in granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub provider: String,
    pub subject: String,
    pub token: String,
}

/// One service account token the stand-in handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impersonated {
    pub service_account: String,
    pub subject: String,
    pub token: String,
}

/// One call passed on to the fake: `"<METHOD> <path and query>"`, and who made it (the service
/// account's email, or the federated principal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    pub call: String,
    pub acting_as: String,
}

#[derive(Clone)]
struct Shared {
    trust: Arc<Mutex<Trust>>,
    granted: Arc<Mutex<Vec<Granted>>>,
    impersonated: Arc<Mutex<Vec<Impersonated>>>,
    refused: Arc<Mutex<Vec<String>>>,
    forwarded: Arc<Mutex<Vec<Forwarded>>>,
    upstream: String,
    http: reqwest::Client,
}

pub struct GoogleStsStandIn {
    /// Where the environment's `endpointUrl` points.
    pub endpoint: String,
    shared: Shared,
}

impl GoogleStsStandIn {
    /// Starts the stand-in on the emulators' address, in front of the Google fake at `upstream`.
    pub async fn start(upstream: &str, trust: Trust) -> GoogleStsStandIn {
        let listener = tokio::net::TcpListener::bind((crate::helpers::EMULATOR_HOST, 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            trust: Arc::new(Mutex::new(trust)),
            granted: Arc::default(),
            impersonated: Arc::default(),
            refused: Arc::default(),
            forwarded: Arc::default(),
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        GoogleStsStandIn { endpoint, shared }
    }

    pub fn set_trust(&self, trust: Trust) {
        *self.shared.trust.lock().unwrap() = trust;
    }

    pub fn granted(&self) -> Vec<Granted> {
        self.shared.granted.lock().unwrap().clone()
    }

    pub fn impersonated(&self) -> Vec<Impersonated> {
        self.shared.impersonated.lock().unwrap().clone()
    }

    /// The error codes of the calls refused so far: STS's (`invalid_target`, `invalid_grant`,
    /// `unauthorized_client`…), then IAM's and the APIs' statuses (`PERMISSION_DENIED`,
    /// `UNAUTHENTICATED`).
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().unwrap().clone()
    }

    /// The calls passed on to the fake, each with the identity of its token.
    pub fn authorized_forwards(&self) -> Vec<Forwarded> {
        self.shared.forwarded.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if method == Method::POST && path == "/v1/token" {
        return exchange(&shared, &headers, &body).await;
    }
    let account = path
        .strip_prefix("/v1/projects/-/serviceAccounts/")
        .and_then(|a| a.strip_suffix(":generateAccessToken"));
    if let (true, Some(account)) = (method == Method::POST, account) {
        // Clients may percent-encode the email's `@`.
        return impersonate(&shared, &account.replace("%40", "@"), &headers, &body);
    }
    let Some(acting_as) = bearer(&headers).and_then(|token| shared.identity_of(token)) else {
        return api_error(&shared, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", UNAUTHENTICATED);
    };
    let call = format!("{method} {}", uri.path_and_query().map(|p| p.as_str()).unwrap_or(path));
    shared.forwarded.lock().unwrap().push(Forwarded { call, acting_as });
    forward(&shared.http, &shared.upstream, method, uri, headers, body).await
}

const UNAUTHENTICATED: &str = "Request had invalid authentication credentials.";

impl Shared {
    /// Who a token handed out here acts as: the service account, or the federated principal.
    fn identity_of(&self, token: &str) -> Option<String> {
        let impersonated = self.impersonated.lock().unwrap();
        if let Some(sa) = impersonated.iter().find(|i| i.token == token) {
            return Some(sa.service_account.clone());
        }
        self.federated(token).map(|g| principal(&g.provider, &g.subject))
    }

    fn federated(&self, token: &str) -> Option<Granted> {
        self.granted.lock().unwrap().iter().find(|g| g.token == token).cloned()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    audience: Option<String>,
    scope: Option<String>,
    requested_token_type: Option<String>,
    subject_token_type: Option<String>,
    subject_token: Option<String>,
}

/// STS's token exchange, checked in Google's order.
async fn exchange(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let request = match serde_urlencoded::from_bytes::<TokenRequest>(body) {
        Ok(request) if form => request,
        _ => return sts_error(shared, "invalid_request", "The request must be form-encoded."),
    };
    let invalid_value = |field: &str| format!("Invalid value for \"{field}\".");
    if request.grant_type.as_deref() != Some(TOKEN_EXCHANGE) {
        return sts_error(shared, "unsupported_grant_type", &invalid_value("grant_type"));
    }
    if request.requested_token_type.as_deref() != Some(ACCESS_TOKEN) {
        return sts_error(shared, "invalid_request", &invalid_value("requested_token_type"));
    }
    let jwt_types = ["urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token"];
    if !request.subject_token_type.as_deref().is_some_and(|t| jwt_types.contains(&t)) {
        return sts_error(shared, "invalid_request", &invalid_value("subject_token_type"));
    }
    // Without cloud-platform the federated token could not impersonate or call the APIs.
    if !request.scope.as_deref().unwrap_or_default().split(' ').any(|s| s == CLOUD_PLATFORM) {
        return sts_error(shared, "invalid_scope", &invalid_value("scope"));
    }
    let trust = shared.trust.lock().unwrap().clone();
    let named = request.audience.as_deref().and_then(|a| a.strip_prefix("//iam.googleapis.com/"));
    let Some(provider) = trust.providers.iter().find(|p| Some(p.name.as_str()) == named) else {
        return sts_error(
            shared,
            "invalid_target",
            "The target service indicated by the \"audience\" parameters is invalid. This might either be \
             because the pool or provider is disabled or deleted or because it doesn't exist.",
        );
    };
    let audiences = if provider.allowed_audiences.is_empty() {
        vec![
            format!("https://iam.googleapis.com/{}", provider.name),
            format!("//iam.googleapis.com/{}", provider.name),
        ]
    } else {
        provider.allowed_audiences.clone()
    };
    let token = request.subject_token.as_deref().unwrap_or_default();
    let claims = match jwt_check::verify(&shared.http, token, Some(&provider.issuer_uri), &audiences).await {
        Ok(claims) => claims,
        Err(refusal) => {
            let message = match refusal {
                Refusal::Malformed => "Unable to parse the ID Token.".to_string(),
                Refusal::UnknownIssuer(iss) => format!(
                    "The issuer in ID Token [{iss}] does not match the expected issuer [{}].",
                    provider.issuer_uri
                ),
                Refusal::KeysUnreachable => "Error connecting to the given credential's issuer.".into(),
                Refusal::BadAudience(aud) => {
                    format!("The audience in ID Token [{aud}] does not match the expected audience.")
                }
                Refusal::Expired => "ID Token has expired.".into(),
                Refusal::NoMatchingKey | Refusal::UnusableKey | Refusal::BadSignature => {
                    "Invalid ID Token signature.".into()
                }
            };
            return sts_error(shared, "invalid_grant", &message);
        }
    };
    let subject = claims["sub"].as_str().unwrap_or_default().to_string();
    if provider.subjects.as_ref().is_some_and(|allowed| !allowed.contains(&subject)) {
        return sts_error(
            shared,
            "unauthorized_client",
            "The given credential is rejected by the attribute condition.",
        );
    }
    let access_token = format!("fed-{}", uuid::Uuid::new_v4());
    shared.granted.lock().unwrap().push(Granted {
        provider: provider.name.clone(),
        subject,
        token: access_token.clone(),
    });
    Json(json!({ "access_token": access_token, "issued_token_type": ACCESS_TOKEN,
        "token_type": "Bearer", "expires_in": 3600 }))
    .into_response()
}

#[derive(Deserialize)]
struct AccessTokenRequest {
    #[serde(default)]
    scope: Vec<String>,
    lifetime: Option<String>,
}

/// IAM Credentials' `generateAccessToken`, for a federated token only.
fn impersonate(shared: &Shared, account: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let Some(federated) = bearer(headers).and_then(|token| shared.federated(token)) else {
        return api_error(shared, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", UNAUTHENTICATED);
    };
    let Ok(request) = serde_json::from_slice::<AccessTokenRequest>(body) else {
        return api_error(
            shared,
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received.",
        );
    };
    if request.scope.is_empty() {
        return api_error(shared, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Scope required.");
    }
    // Google's limit without the organisation policy that extends it.
    let seconds = match request.lifetime.as_deref().map(|l| l.strip_suffix('s').and_then(|n| n.parse().ok()))
    {
        None => 3600,
        Some(Some(n @ 1..=3600)) => n,
        Some(_) => {
            let message = "The lifetime must be between 1s and 3600s.";
            return api_error(shared, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message);
        }
    };
    let who = principal(&federated.provider, &federated.subject);
    let trust = shared.trust.lock().unwrap().clone();
    if !trust.service_accounts.get(account).is_some_and(|principals| principals.contains(&who)) {
        let message =
            "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).";
        return api_error(shared, StatusCode::FORBIDDEN, "PERMISSION_DENIED", message);
    }
    let access_token = format!("sa-{}", uuid::Uuid::new_v4());
    shared.impersonated.lock().unwrap().push(Impersonated {
        service_account: account.to_string(),
        subject: federated.subject,
        token: access_token.clone(),
    });
    let expire = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
    let expire = expire.format(&time::format_description::well_known::Rfc3339).unwrap();
    Json(json!({ "accessToken": access_token, "expireTime": expire })).into_response()
}

/// STS answers refusals as OAuth errors, all 400.
fn sts_error(shared: &Shared, code: &str, description: &str) -> Response {
    shared.refused.lock().unwrap().push(code.to_string());
    let body = json!({ "error": code, "error_description": description });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// IAM and the APIs answer refusals as Google API errors.
fn api_error(shared: &Shared, status: StatusCode, name: &str, message: &str) -> Response {
    shared.refused.lock().unwrap().push(name.to_string());
    let body = json!({ "error": { "code": status.as_u16(), "message": message, "status": name } });
    (status, Json(body)).into_response()
}
