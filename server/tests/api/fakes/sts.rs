//! An AWS STS stand-in that checks web identity tokens as AWS does (moto's STS accepts any token),
//! in front of a moto server that answers every other call.
//!
//! `AssumeRoleWithWebIdentity` (STS's query protocol, form-encoded) is answered here: the token's
//! issuer must be the account's IAM OIDC identity provider, its signature must verify against the
//! keys the issuer publishes (discovery, then JWKS, fetched over HTTP like AWS does), its audience
//! must be one of the provider's client ids, and the role's trust policy must allow its subject.
//! Refusals use AWS's codes and wording (`InvalidIdentityToken`, `IDPCommunicationError`,
//! `AccessDenied`, `ExpiredTokenException`). Every other request is passed to moto unchanged, so
//! Secrets Manager and Batch calls made with the credentials it hands out reach the emulator.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the stand-in's account trusts.
#[derive(Clone, Default)]
pub struct Trust {
    /// The IAM OIDC identity provider's URL (the issuer), if the account has one.
    pub provider_url: Option<String>,
    /// Its client ids (audiences).
    pub audiences: Vec<String>,
    /// Per role ARN, the subjects its trust policy allows.
    pub roles: HashMap<String, HashSet<String>>,
}

/// One exchange the stand-in granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub role_arn: String,
    pub session_name: String,
    pub subject: String,
    pub access_key_id: String,
}

#[derive(Clone)]
struct Shared {
    trust: Arc<Mutex<Trust>>,
    granted: Arc<Mutex<Vec<Granted>>>,
    refused: Arc<Mutex<Vec<String>>>,
    upstream: String,
    http: reqwest::Client,
}

pub struct StsStandIn {
    /// Where the environment's `endpointUrl` points.
    pub endpoint: String,
    shared: Shared,
}

impl StsStandIn {
    /// Starts the stand-in on the emulators' address, in front of moto at `upstream`.
    pub async fn start(upstream: &str, trust: Trust) -> StsStandIn {
        let listener = tokio::net::TcpListener::bind((crate::helpers::EMULATOR_HOST, 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            trust: Arc::new(Mutex::new(trust)),
            granted: Arc::default(),
            refused: Arc::default(),
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        StsStandIn { endpoint, shared }
    }

    pub fn set_trust(&self, trust: Trust) {
        *self.shared.trust.lock().unwrap() = trust;
    }

    pub fn granted(&self) -> Vec<Granted> {
        self.shared.granted.lock().unwrap().clone()
    }

    /// The error codes of the exchanges refused so far.
    pub fn refused(&self) -> Vec<String> {
        self.shared.refused.lock().unwrap().clone()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Exchange {
    action: String,
    role_arn: Option<String>,
    role_session_name: Option<String>,
    web_identity_token: Option<String>,
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Ok(exchange) = serde_urlencoded::from_bytes::<Exchange>(&body) {
        if exchange.action == "AssumeRoleWithWebIdentity" {
            return match assume(&shared, &exchange).await {
                Ok(xml) => (StatusCode::OK, [("content-type", "text/xml")], xml).into_response(),
                Err((status, code, message)) => {
                    shared.refused.lock().unwrap().push(code.to_string());
                    error(status, code, &message)
                }
            };
        }
    }
    forward(&shared, method, uri, headers, body).await
}

type Refusal = (StatusCode, &'static str, String);

async fn assume(shared: &Shared, exchange: &Exchange) -> Result<String, Refusal> {
    let token = exchange.web_identity_token.as_deref().unwrap_or_default();
    let role_arn = exchange.role_arn.clone().unwrap_or_default();
    let session_name = exchange.role_session_name.clone().unwrap_or_default();
    let invalid = |message: &str| (StatusCode::BAD_REQUEST, "InvalidIdentityToken", message.to_string());
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| invalid("The ID token provided is malformed"))?;
    // The issuer as the token states it, before any check (AWS looks the provider up by it).
    let unverified = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .map_err(|_| invalid("The ID token provided is malformed"))?
        .claims;
    let issuer = unverified["iss"].as_str().unwrap_or_default().to_string();
    let trust = shared.trust.lock().unwrap().clone();
    if trust.provider_url.as_deref() != Some(issuer.as_str()) {
        return Err(invalid(&format!("No OpenIDConnect provider found in your account for {issuer}")));
    }
    let keys = fetch_keys(&shared.http, &issuer).await.map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "IDPCommunicationError",
            "Couldn't retrieve verification key from your identity provider".to_string(),
        )
    })?;
    let kid = header.kid.unwrap_or_default();
    let jwk =
        keys.find(&kid).ok_or_else(|| invalid("Couldn't find a key in the JWKS matching the token's kid"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("The identity provider's key is unusable"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_audience(&trust.audiences);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "iat", "nbf"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAudience => invalid("Incorrect token audience"),
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                (StatusCode::BAD_REQUEST, "ExpiredTokenException", "Token expired".to_string())
            }
            _ => invalid("The ID token's signature is not valid"),
        })?
        .claims;
    let subject = claims["sub"].as_str().unwrap_or_default().to_string();
    let allowed = trust.roles.get(&role_arn).is_some_and(|subjects| subjects.contains(&subject));
    if !allowed {
        return Err((
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity".to_string(),
        ));
    }
    let access_key_id = format!("ASIA{}", &uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase());
    shared.granted.lock().unwrap().push(Granted {
        role_arn: role_arn.clone(),
        session_name: session_name.clone(),
        subject: subject.clone(),
        access_key_id: access_key_id.clone(),
    });
    let expiration = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let expiration = expiration.format(&time::format_description::well_known::Rfc3339).unwrap();
    Ok(format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult>\
         <SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>\
         <AssumedRoleUser><Arn>{role_arn}/{session_name}</Arn><AssumedRoleId>AROA:{session_name}</AssumedRoleId></AssumedRoleUser>\
         <Credentials><AccessKeyId>{access_key_id}</AccessKeyId><SecretAccessKey>stand-in-secret</SecretAccessKey>\
         <SessionToken>stand-in-session</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <Provider>{issuer}</Provider><Audience>{}</Audience>\
         </AssumeRoleWithWebIdentityResult>\
         <ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata>\
         </AssumeRoleWithWebIdentityResponse>",
        claims["aud"].as_str().unwrap_or_default()
    ))
}

/// The issuer's keys, found as AWS finds them: discovery document, then its `jwks_uri`.
async fn fetch_keys(http: &reqwest::Client, issuer: &str) -> Result<JwkSet, reqwest::Error> {
    let discovery: serde_json::Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap_or_default().to_string();
    http.get(jwks_uri).send().await?.error_for_status()?.json().await
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>"
    );
    (status, [("content-type", "text/xml")], body).into_response()
}

/// Any other call goes to moto as it came.
async fn forward(shared: &Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = shared.http.request(method, format!("{}{path}", shared.upstream)).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
