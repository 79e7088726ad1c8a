//! An AWS STS stand-in that checks web identity tokens as AWS does (moto's STS accepts any token),
//! in front of a moto server that answers every other call.
//!
//! `AssumeRoleWithWebIdentity` (STS's query protocol, form-encoded) is answered here: the token's
//! issuer must be the account's IAM OIDC identity provider, its signature must verify against the
//! keys the issuer publishes (discovery, then JWKS, fetched over HTTP like AWS does; `jwt_check`),
//! its audience must be one of the provider's client ids, and the role's trust policy must allow
//! its subject.
//! Refusals use AWS's codes and wording (`InvalidIdentityToken`, `IDPCommunicationError`,
//! `AccessDenied`, `ExpiredTokenException`). Every other request is passed to moto unchanged, so
//! Secrets Manager and Batch calls made with the credentials it hands out reach the emulator.

use super::jwt_check::{self, Refusal};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
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
    forward(&shared.http, &shared.upstream, method, uri, headers, body).await
}

/// A refusal as AWS answers it: status, error code, message.
type AwsError = (StatusCode, &'static str, String);

async fn assume(shared: &Shared, exchange: &Exchange) -> Result<String, AwsError> {
    let token = exchange.web_identity_token.as_deref().unwrap_or_default();
    let role_arn = exchange.role_arn.clone().unwrap_or_default();
    let session_name = exchange.role_session_name.clone().unwrap_or_default();
    let invalid = |message: &str| (StatusCode::BAD_REQUEST, "InvalidIdentityToken", message.to_string());
    let trust = shared.trust.lock().unwrap().clone();
    let claims = jwt_check::verify(&shared.http, token, trust.provider_url.as_deref(), &trust.audiences)
        .await
        .map_err(|refusal| match refusal {
            Refusal::Malformed => invalid("The ID token provided is malformed"),
            Refusal::UnknownIssuer(issuer) => {
                invalid(&format!("No OpenIDConnect provider found in your account for {issuer}"))
            }
            Refusal::KeysUnreachable => (
                StatusCode::BAD_REQUEST,
                "IDPCommunicationError",
                "Couldn't retrieve verification key from your identity provider".to_string(),
            ),
            Refusal::NoMatchingKey => invalid("Couldn't find a key in the JWKS matching the token's kid"),
            Refusal::UnusableKey => invalid("The identity provider's key is unusable"),
            Refusal::BadAudience(_) => invalid("Incorrect token audience"),
            Refusal::Expired => {
                (StatusCode::BAD_REQUEST, "ExpiredTokenException", "Token expired".to_string())
            }
            Refusal::BadSignature => invalid("The ID token's signature is not valid"),
        })?;
    let issuer = claims["iss"].as_str().unwrap_or_default().to_string();
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

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>"
    );
    (status, [("content-type", "text/xml")], body).into_response()
}

/// Any other call goes to the emulator at `upstream` as it came (moto here; the Google stand-in
/// forwards to the Google fake the same way).
pub(super) async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = http.request(method, format!("{upstream}{path}")).body(body);
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
