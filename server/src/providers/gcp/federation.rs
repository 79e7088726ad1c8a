//! Managed mode on Google: an environment's calls are made with an access token obtained from
//! Strongroom's own OIDC token by workload identity federation — Google's STS token exchange at the
//! mapped workload identity provider, then, when the mapping names one, impersonation of a service
//! account (IAM Credentials `generateAccessToken`). No stored key is involved; a token is minted for
//! each exchange and exchanged again shortly before the access token expires.
//!
//! Written over reqwest rather than `google-cloud-auth`'s external-account builder: that builder
//! sends impersonation only to `iamcredentials.googleapis.com` (an emulator or private endpoint
//! cannot serve it), and its errors drop the `error`/`error_description` pair that says which
//! setting a cloud admin must change (`explain_sts`, `explain_impersonation`).
//!
//! Guarantees: the identity token and the access tokens go only to the STS and IAM Credentials of
//! the environment (Google's, or its checked custom endpoint), never through a redirect; no token
//! is ever put in an error or a log line; a custom endpoint's own messages are never repeated.

use crate::providers::{cloud_words, IdentityTokens, ProviderError, EXCHANGE_REFUSAL_HOLD};
use google_cloud_auth::credentials::{CacheableResource, EntityTag};
use google_cloud_auth::errors::CredentialsError;
use http::{Extensions, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Google's token exchange and the service account credentials API.
const STS_TOKEN_URL: &str = "https://sts.googleapis.com/v1/token";
const IAM_CREDENTIALS: &str = "https://iamcredentials.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
/// Exchange again this long before the access token expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
const TIMEOUT: Duration = Duration::from_secs(15);

/// What a managed Google environment's store needs: where to exchange, as whom, and the tokens.
#[derive(Debug, Clone)]
pub struct Federation {
    /// `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>`.
    pub provider: String,
    /// The service account to impersonate after the exchange, if any.
    pub service_account: Option<String>,
    pub tokens: IdentityTokens,
}

impl Federation {
    /// The federated principal Google sees after the exchange (what roles are granted to).
    pub fn principal(&self) -> String {
        app::model::google_principal(&self.provider, &self.tokens.subject)
    }
}

/// Where the exchange and the impersonation are sent: Google's own services, or the environment's
/// custom endpoint (an emulator or private endpoint serving both on one origin).
#[derive(Debug, Clone)]
pub struct Endpoints {
    sts: String,
    iam: String,
}

impl Endpoints {
    pub fn new(custom_origin: Option<&str>) -> Endpoints {
        match custom_origin {
            Some(origin) => {
                let origin = origin.trim_end_matches('/');
                Endpoints { sts: format!("{origin}/v1/token"), iam: origin.to_string() }
            }
            None => Endpoints { sts: STS_TOKEN_URL.into(), iam: IAM_CREDENTIALS.into() },
        }
    }

    /// The STS token URL (what a head job's credentials file names).
    pub fn sts(&self) -> &str {
        &self.sts
    }

    /// IAM Credentials' `generateAccessToken` for `account`.
    pub fn impersonation(&self, account: &str) -> String {
        format!("{}/v1/projects/-/serviceAccounts/{account}:generateAccessToken", self.iam)
    }
}

/// An access token and when to exchange again.
#[derive(Clone)]
struct AccessToken {
    token: SecretString,
    refresh_at: Instant,
}

/// What the last exchange left: a token to reuse until it is due for refresh, or a refusal to
/// repeat for a short while, so that a burst of calls (a reconciler deleting many copies, a launch
/// making several) asks Google once instead of once per call while the trust is wrong.
#[derive(Debug)]
enum LastExchange {
    Granted(AccessToken),
    Refused { error: ProviderError, until: Instant },
}

/// STS's refusal (`{"error": "invalid_grant", "error_description": "..."}`).
#[derive(Deserialize, Default)]
struct StsError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
struct StsAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImpersonationAnswer {
    access_token: String,
}

/// Google's error envelope (`{"error": {"code", "message", "status"}}`).
#[derive(Deserialize, Default)]
struct GoogleError {
    #[serde(default)]
    error: GoogleErrorBody,
}

#[derive(Deserialize, Default)]
struct GoogleErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
}

/// Exchanges Strongroom's token for Google access, then impersonates the service account if the
/// mapping names one. Never follows a redirect: a token is sent to these two URLs only.
#[derive(Debug)]
pub struct FederatedCredentials {
    http: reqwest::Client,
    endpoints: Endpoints,
    federation: Federation,
    /// Whether the endpoints are Google's own, whose messages may be repeated.
    trusted: bool,
    entity_tag: EntityTag,
    last: tokio::sync::Mutex<Option<LastExchange>>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(..)")
    }
}

impl FederatedCredentials {
    pub fn new(federation: Federation, endpoints: Endpoints, trusted: bool) -> FederatedCredentials {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        FederatedCredentials {
            http,
            endpoints,
            federation,
            trusted,
            entity_tag: EntityTag::new(),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// A current access token: the last one, or a new exchange (its refusal in plain words; a
    /// refusal is repeated without asking again for `EXCHANGE_REFUSAL_HOLD`).
    pub async fn access_token(&self) -> Result<SecretString, ProviderError> {
        let mut last = self.last.lock().await;
        let now = Instant::now();
        match last.as_ref() {
            Some(LastExchange::Granted(token)) if now < token.refresh_at => return Ok(token.token.clone()),
            Some(LastExchange::Refused { error, until }) if now < *until => return Err(error.clone()),
            _ => {}
        }
        match self.exchange().await {
            Ok(fresh) => {
                let token = fresh.token.clone();
                *last = Some(LastExchange::Granted(fresh));
                Ok(token)
            }
            Err(error) => {
                let until = Instant::now() + EXCHANGE_REFUSAL_HOLD;
                *last = Some(LastExchange::Refused { error: error.clone(), until });
                Err(error)
            }
        }
    }

    async fn exchange(&self) -> Result<AccessToken, ProviderError> {
        let federation = &self.federation;
        let subject_token = (federation.tokens.mint)().map_err(ProviderError::Unavailable)?;
        let audience = app::model::google_sts_audience(&federation.provider);
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("audience", audience.as_str()),
            ("scope", SCOPE),
            ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ("subject_token_type", JWT_TOKEN_TYPE),
            ("subject_token", subject_token.as_str()),
        ];
        let answer = self.http.post(&self.endpoints.sts).form(&form).send().await;
        let answer = answer.map_err(|e| self.unreachable("Google's token exchange (STS)", &e))?;
        let status = answer.status();
        let body = answer.bytes().await.map_err(|e| self.unreachable("Google's token exchange (STS)", &e))?;
        if !status.is_success() {
            let refusal: StsError = serde_json::from_slice(&body).unwrap_or_default();
            return Err(explain_sts(status.as_u16(), &refusal, federation, self.trusted));
        }
        let granted: StsAnswer = serde_json::from_slice(&body).map_err(|_| {
            ProviderError::Unavailable("Google's token exchange answered without an access token.".into())
        })?;
        let lifetime = Duration::from_secs(granted.expires_in.unwrap_or(3600));
        let federated = SecretString::from(granted.access_token);
        let token = match &federation.service_account {
            Some(account) => self.impersonate(account, &federated).await?,
            None => federated,
        };
        let refresh_at =
            Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN).max(Duration::from_secs(60));
        Ok(AccessToken { token, refresh_at })
    }

    /// IAM Credentials: a service account's access token for the federated principal.
    async fn impersonate(
        &self,
        account: &str,
        federated: &SecretString,
    ) -> Result<SecretString, ProviderError> {
        let what = "Google's IAM Credentials API (service account impersonation)";
        let body = serde_json::json!({ "scope": [SCOPE], "lifetime": "3600s" });
        let answer = self
            .http
            .post(self.endpoints.impersonation(account))
            .bearer_auth(federated.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        let status = answer.status();
        let body = answer.bytes().await.map_err(|e| self.unreachable(what, &e))?;
        if !status.is_success() {
            let refusal: GoogleError = serde_json::from_slice(&body).unwrap_or_default();
            return Err(explain_impersonation(
                status.as_u16(),
                &refusal.error,
                account,
                &self.federation,
                self.trusted,
            ));
        }
        let granted: ImpersonationAnswer = serde_json::from_slice(&body)
            .map_err(|_| ProviderError::Unavailable(format!("{what} answered without an access token.")))?;
        Ok(SecretString::from(granted.access_token))
    }

    fn unreachable(&self, what: &str, error: &reqwest::Error) -> ProviderError {
        // reqwest's error names the URL (no token is in it) and the cause.
        if self.trusted {
            ProviderError::Unavailable(format!(
                "{what} could not be reached: {}",
                cloud_words(&error.to_string())
            ))
        } else {
            ProviderError::Unavailable(format!("The environment's endpoint did not answer {what}."))
        }
    }
}

impl google_cloud_auth::credentials::CredentialsProvider for FederatedCredentials {
    /// Always new headers: the token may have been exchanged again since the caller's copy.
    async fn headers(&self, _: Extensions) -> Result<CacheableResource<HeaderMap>, CredentialsError> {
        let token =
            self.access_token().await.map_err(|e| CredentialsError::from_msg(false, e.to_string()))?;
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| CredentialsError::from_msg(false, "the access token is not a valid header value"))?;
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        Ok(CacheableResource::New { entity_tag: self.entity_tag.clone(), data: headers })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// STS's refusal of an exchange, as a sentence with the fix and the exact values to use.
fn explain_sts(status: u16, refusal: &StsError, federation: &Federation, trusted: bool) -> ProviderError {
    let Federation { provider, tokens, .. } = federation;
    let IdentityTokens { issuer, subject, audience, .. } = tokens;
    let description = refusal.error_description.to_ascii_lowercase();
    let message = match refusal.error.as_str() {
        "invalid_target" => format!(
            "Google has no workload identity provider {provider} (or it is disabled). Create it as an OIDC \
             provider with issuer URI {issuer}, or correct the mapping."
        ),
        "invalid_grant" if description.contains("issuer") && description.contains("match") => format!(
            "Google's workload identity provider {provider} expects the issuer to be another URL: set its \
             issuer URI to exactly {issuer}."
        ),
        "invalid_grant" if description.contains("connecting") || description.contains("jwk") => format!(
            "Google could not fetch Strongroom's signing keys from {issuer}/.well-known/openid-configuration. \
             The issuer (Strongroom's public URL) must be reachable from the internet over https."
        ),
        "invalid_grant" if description.contains("audience") => format!(
            "Google refused the token's audience '{audience}'. The workload identity provider {provider} must \
             list '{audience}' among its allowed audiences (or keep its default allowed audience)."
        ),
        "invalid_grant" if description.contains("expired") || description.contains("stale") => {
            "Google found Strongroom's token expired: check that the Strongroom server's clock is right.".to_string()
        }
        "unauthorized_client" | "access_denied" => format!(
            "You don't have permission to act through workload identity provider {provider} — ask your cloud \
             admin to allow subject '{subject}' in the provider's attribute condition (for example \
             assertion.sub == '{subject}', with google.subject=assertion.sub in the attribute mapping)."
        ),
        other if trusted => format!(
            "Google's token exchange refused the run's token at {provider} ({status} {other}): {}",
            cloud_words(&refusal.error_description)
        ),
        _ => format!("The environment's endpoint refused the token exchange at {provider} (HTTP {status})."),
    };
    ProviderError::Rejected(message)
}

/// IAM Credentials' refusal to impersonate `account`, with the grant to add.
fn explain_impersonation(
    status: u16,
    refusal: &GoogleErrorBody,
    account: &str,
    federation: &Federation,
    trusted: bool,
) -> ProviderError {
    let principal = federation.principal();
    let message = match (status, refusal.status.as_str()) {
        (403, _) | (_, "PERMISSION_DENIED") => format!(
            "You don't have permission to act as service account {account} — ask your cloud admin to grant \
             roles/iam.workloadIdentityUser on it to {principal} (or check that the account exists)."
        ),
        (404, _) | (_, "NOT_FOUND") => {
            format!("Google has no service account {account}: correct the mapping.")
        }
        _ if trusted => format!(
            "Google refused to let the run act as service account {account} ({status} {}): {}",
            refusal.status,
            cloud_words(&refusal.message)
        ),
        _ => format!("The environment's endpoint refused to let the run act as service account {account}."),
    };
    ProviderError::Rejected(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn federation() -> Federation {
        Federation {
            provider: "projects/123/locations/global/workloadIdentityPools/strongroom/providers/lab".into(),
            service_account: Some("runner@p.iam.gserviceaccount.com".into()),
            tokens: IdentityTokens {
                issuer: "https://sr.example.org".into(),
                subject: "org:1:wsp:2:user:3".into(),
                audience: "https://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/strongroom/providers/lab".into(),
                mint: Arc::new(|| Ok("jwt".into())),
            },
        }
    }

    fn sts(error: &str, description: &str) -> String {
        let refusal = StsError { error: error.into(), error_description: description.into() };
        explain_sts(400, &refusal, &federation(), false).to_string()
    }

    #[test]
    fn each_refusal_names_the_setting_and_its_exact_value() {
        assert!(sts("invalid_target", "").contains("no workload identity provider projects/123/"));
        let issuer =
            sts("invalid_grant", "The issuer in ID Token [x] does not match the expected issuer [y].");
        assert!(issuer.contains("issuer URI to exactly https://sr.example.org"), "{issuer}");
        let audience =
            sts("invalid_grant", "The audience in ID Token [a] does not match the expected audience.");
        assert!(audience.contains("refused the token's audience 'https://iam.googleapis.com/projects/123/"));
        let condition =
            sts("unauthorized_client", "The given credential is rejected by the attribute condition.");
        assert!(condition.contains("allow subject 'org:1:wsp:2:user:3'"), "{condition}");
        // A custom endpoint's own words are never repeated.
        let other = sts("server_error", "secret-looking words");
        assert!(!other.contains("secret-looking"), "{other}");
        let denied = GoogleErrorBody { message: "denied".into(), status: "PERMISSION_DENIED".into() };
        let denied =
            explain_impersonation(403, &denied, "runner@p.iam.gserviceaccount.com", &federation(), false);
        let denied = denied.to_string();
        assert!(
            denied.contains("roles/iam.workloadIdentityUser")
                && denied.contains(
                    "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/\
                     strongroom/subject/org:1:wsp:2:user:3"
                ),
            "{denied}"
        );
    }

    #[tokio::test]
    async fn a_failed_exchange_is_repeated_from_memory_for_a_while_instead_of_asked_again() {
        let minted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = minted.clone();
        let mut federation = federation();
        federation.tokens.mint = Arc::new(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok("jwt".into())
        });
        // A port nothing listens on: the exchange fails at once.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let endpoints = Endpoints::new(Some(&format!("http://{closed}")));
        let credentials = FederatedCredentials::new(federation, endpoints, false);
        let first = credentials.access_token().await.unwrap_err();
        let second = credentials.access_token().await.unwrap_err();
        assert_eq!(first, second);
        assert!(first.to_string().contains("did not answer"), "{first}");
        assert_eq!(minted.load(std::sync::atomic::Ordering::SeqCst), 1, "one exchange for both calls");
    }

    #[test]
    fn a_custom_endpoint_serves_both_calls_on_its_origin() {
        let custom = Endpoints::new(Some("http://127.0.0.1:9/"));
        assert_eq!(custom.sts(), "http://127.0.0.1:9/v1/token");
        assert_eq!(
            custom.impersonation("a@p.iam.gserviceaccount.com"),
            "http://127.0.0.1:9/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:generateAccessToken"
        );
        assert_eq!(Endpoints::new(None).sts(), STS_TOKEN_URL);
    }
}
