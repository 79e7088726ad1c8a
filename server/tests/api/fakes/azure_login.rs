//! A Microsoft Entra ID (Azure AD) token endpoint stand-in that checks client assertions as Azure
//! does for workload identity federation:
//! `POST /<tenant>/oauth2/v2.0/token` (form: `client_id`, `scope`, `grant_type=client_credentials`,
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
//! `client_assertion=<JWT>`).
//!
//! In Azure's order: the tenant must exist, the app (client id) must be registered in it, the
//! assertion's issuer must be one of the app's federated credentials' issuers, its signature must
//! verify against the keys the issuer publishes (fetched over HTTP, `jwt_check`), its times must
//! hold, and a federated credential must match its issuer, subject and audience exactly. Answers an
//! access token; refusals use Azure's OAuth error body and `AADSTS` codes and wording
//! (`{"error": "invalid_client", "error_description": "AADSTS70021: …", "error_codes": [70021]}`).
//! Not modelled: scopes and the app's permissions, certificate and secret credentials.

use super::jwt_check::{self, Refusal};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A federated identity credential on an app registration.
#[derive(Debug, Clone)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// What the stand-in's directories hold: per tenant id, per app (client) id, its federated
/// credentials.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub tenants: HashMap<String, HashMap<String, Vec<FederatedCredential>>>,
}

/// One exchange the stand-in granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub tenant_id: String,
    pub client_id: String,
    pub subject: String,
}

#[derive(Clone)]
struct Shared {
    trust: Arc<Mutex<Trust>>,
    granted: Arc<Mutex<Vec<Granted>>>,
    refused: Arc<Mutex<Vec<u64>>>,
    http: reqwest::Client,
}

pub struct AzureLoginStandIn {
    /// The authority host (`Config::azure_authority_host`).
    pub authority: String,
    shared: Shared,
}

impl AzureLoginStandIn {
    pub async fn start(trust: Trust) -> AzureLoginStandIn {
        let listener = tokio::net::TcpListener::bind((crate::helpers::EMULATOR_HOST, 0)).await.unwrap();
        let authority = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            trust: Arc::new(Mutex::new(trust)),
            granted: Arc::default(),
            refused: Arc::default(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new()
            .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        AzureLoginStandIn { authority, shared }
    }

    pub fn set_trust(&self, trust: Trust) {
        *self.shared.trust.lock().unwrap() = trust;
    }

    pub fn granted(&self) -> Vec<Granted> {
        self.shared.granted.lock().unwrap().clone()
    }

    /// The `AADSTS` codes of the exchanges refused so far.
    pub fn refused(&self) -> Vec<u64> {
        self.shared.refused.lock().unwrap().clone()
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    client_id: Option<String>,
    grant_type: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// A refusal as Azure answers it: status, OAuth error, AADSTS code, description.
type AzureError = (StatusCode, &'static str, u64, String);

async fn token(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    Form(request): Form<TokenRequest>,
) -> Response {
    match exchange(&shared, &tenant, &request).await {
        Ok(granted) => {
            shared.granted.lock().unwrap().push(granted);
            let token = format!("stand-in-access-{}", uuid::Uuid::new_v4().simple());
            Json(json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                "access_token": token }))
            .into_response()
        }
        Err((status, error, code, description)) => {
            shared.refused.lock().unwrap().push(code);
            let body = json!({
                "error": error,
                "error_description": format!(
                    "AADSTS{code}: {description} Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-12-01 00:00:00Z"
                ),
                "error_codes": [code],
                "trace_id": "0000",
                "correlation_id": "1111",
            });
            (status, Json(body)).into_response()
        }
    }
}

async fn exchange(shared: &Shared, tenant: &str, request: &TokenRequest) -> Result<Granted, AzureError> {
    let bad = |error, code, description: String| (StatusCode::BAD_REQUEST, error, code, description);
    let client_id = request.client_id.clone().unwrap_or_default();
    let trust = shared.trust.lock().unwrap().clone();
    let Some(apps) = trust.tenants.get(tenant) else {
        return Err(bad(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing \
                 into the correct cloud."
            ),
        ));
    };
    let Some(credentials) = apps.get(&client_id) else {
        return Err(bad(
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        ));
    };
    if request.grant_type.as_deref() != Some("client_credentials")
        || request.client_assertion_type.as_deref() != Some(ASSERTION_TYPE)
    {
        return Err(bad(
            "invalid_request",
            900144,
            "The request body must contain a client assertion.".into(),
        ));
    }
    let assertion = request.client_assertion.as_deref().unwrap_or_default();
    // The issuer as the assertion states it picks the credentials to check it against.
    let stated = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(assertion)
        .map(|t| t.claims["iss"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let for_issuer: Vec<&FederatedCredential> = credentials.iter().filter(|c| c.issuer == stated).collect();
    let trusted_issuer = for_issuer.first().map(|c| c.issuer.as_str());
    let audiences: Vec<String> = for_issuer.iter().map(|c| c.audience.clone()).collect();
    let claims = jwt_check::verify(&shared.http, assertion, trusted_issuer, &audiences).await;
    let no_match = |subject: &str, audience: &str| {
        (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: \
                 '{stated}'. Assertion Subject: '{subject}'. Assertion Audience: '{audience}'."
            ),
        )
    };
    let claims = claims.map_err(|refusal| match refusal {
        Refusal::Malformed => bad("invalid_request", 50027, "JWT token is invalid or malformed.".into()),
        Refusal::UnknownIssuer(issuer) => (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700211,
            format!("No matching federated identity record found for presented assertion issuer '{issuer}'."),
        ),
        Refusal::KeysUnreachable => (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50166,
            format!("Request to External OIDC endpoint failed. Issuer: '{stated}'."),
        ),
        Refusal::NoMatchingKey | Refusal::UnusableKey | Refusal::BadSignature => (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion failed signature validation.".into(),
        ),
        Refusal::Expired => (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.".into(),
        ),
        Refusal::BadAudience(audience) => {
            let unverified = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(assertion)
                .map(|t| t.claims["sub"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default();
            no_match(&unverified, &audience)
        }
    })?;
    let subject = claims["sub"].as_str().unwrap_or_default().to_string();
    let audience = claims["aud"].as_str().unwrap_or_default().to_string();
    if !for_issuer.iter().any(|c| c.subject == subject && c.audience == audience) {
        return Err(no_match(&subject, &audience));
    }
    Ok(Granted { tenant_id: tenant.to_string(), client_id, subject })
}
