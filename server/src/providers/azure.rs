//! Azure workload identity federation for a run's Azure app registration (issue 14). A mapping may
//! add an app registration beside the run's AWS role or Google provider; the head job then acts as
//! that app itself (Azure's SDKs and CLI read `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`,
//! `AZURE_TENANT_ID`). Strongroom exchanges a token itself only to check, before a launch and in
//! the environment's Check, that Azure lets the subject act as the app: the client-assertion flow
//! at `<authority>/<tenant>/oauth2/v2.0/token`, with Strongroom's token as the assertion.
//!
//! Written over reqwest: the exchange is one form post, and Azure's SDK for Rust brings its own
//! HTTP and credential stack for it. Azure's refusals (`AADSTS` codes) are turned into sentences
//! that say what a cloud admin must change, with the exact values (`explain`).
//!
//! Guarantees: the token goes to the configured authority only, never through a redirect; the
//! access token Azure answers is dropped unread; no token is ever put in an error or a log line.

use crate::providers::{cloud_words, IdentityTokens, ProviderError};
use app::model::{AzureApp, AZURE_AUDIENCE};
use serde::Deserialize;
use std::time::Duration;

/// Azure's public cloud.
pub const PUBLIC_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The resource the check asks a token for: any does (an app with no role on it still gets one),
/// and Azure Resource Manager exists in every cloud.
const CHECK_SCOPE: &str = "https://management.azure.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TIMEOUT: Duration = Duration::from_secs(15);

/// Where Azure's sign-in service is for this install (`Config::azure_authority_host`).
#[derive(Debug, Clone)]
pub struct AzureAuthority {
    host: String,
    http: reqwest::Client,
}

/// Azure's refusal: `{"error": "invalid_client", "error_description": "AADSTS70021: …",
/// "error_codes": [70021]}`.
#[derive(Debug, Default, Deserialize)]
struct AzureError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

/// Azure's grant: only whether it holds an access token is read (`IgnoredAny` skips its value, so
/// the token is never copied anywhere).
#[derive(Deserialize)]
struct Granted {
    #[allow(dead_code)]
    access_token: serde::de::IgnoredAny,
}

impl AzureAuthority {
    /// `host`: an `https://` URL (or `http://` on loopback, for tests), without a path.
    pub fn new(host: &str) -> Result<AzureAuthority, String> {
        let host = host.trim().trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&host).map_err(|_| format!("'{host}' is not a URL"))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(format!("'{host}' must be an https URL"));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(format!("'{host}' must be a host only, without a path"));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(AzureAuthority { host, http })
    }

    /// The authority host a head job must be told, when it is not Azure's public cloud.
    pub fn custom_authority_host(&self) -> Option<&str> {
        (self.host != PUBLIC_AUTHORITY_HOST).then_some(self.host.as_str())
    }

    /// A real client-assertion exchange for `app` with a fresh token from `tokens` (audience
    /// `api://AzureADTokenExchange`): Ok when Azure grants a token, else why not, in plain words.
    pub async fn check_exchange(&self, app: &AzureApp, tokens: &IdentityTokens) -> Result<(), ProviderError> {
        let assertion = (tokens.mint)().map_err(ProviderError::Unavailable)?;
        let url = format!("{}/{}/oauth2/v2.0/token", self.host, app.tenant_id);
        let form = [
            ("client_id", app.client_id.as_str()),
            ("scope", CHECK_SCOPE),
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ];
        let unreachable = |e: reqwest::Error| {
            // reqwest's error names the URL (no token is in it) and the cause.
            ProviderError::Unavailable(format!(
                "Azure's sign-in service at {} could not be reached: {}",
                self.host,
                cloud_words(&e.to_string())
            ))
        };
        let answer = self.http.post(&url).form(&form).send().await.map_err(unreachable)?;
        let status = answer.status();
        let body = answer.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return serde_json::from_slice::<Granted>(&body).map(drop).map_err(|_| {
                ProviderError::Unavailable("Azure's sign-in service answered without an access token.".into())
            });
        }
        let refusal: AzureError = serde_json::from_slice(&body).unwrap_or_default();
        Err(explain(status.as_u16(), &refusal, app, tokens))
    }
}

/// Azure's refusal of the exchange, as a sentence with the fix and the exact values to use.
fn explain(status: u16, refusal: &AzureError, app: &AzureApp, tokens: &IdentityTokens) -> ProviderError {
    let AzureApp { tenant_id, client_id } = app;
    let IdentityTokens { issuer, subject, .. } = tokens;
    let credential = format!(
        "a federated identity credential on the app with issuer {issuer}, subject '{subject}' and audience \
         '{AZURE_AUDIENCE}'"
    );
    // Azure's code, from `error_codes` or the description's `AADSTS<n>:` prefix.
    let code = refusal.error_codes.first().copied().or_else(|| {
        let digits = refusal.error_description.strip_prefix("AADSTS")?;
        digits.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    });
    let message = match code {
        Some(700211) => format!(
            "Azure app registration {client_id} trusts no tokens from issuer {issuer}. Ask your cloud admin \
             to add {credential}."
        ),
        Some(70021 | 700212 | 700213) => format!(
            "You don't have permission to act as Azure app registration {client_id} — ask your cloud admin \
             to allow subject '{subject}': {credential}."
        ),
        Some(700016) => format!(
            "Azure has no app registration with client ID {client_id} in tenant {tenant_id}. Correct the \
             mapping's clientId, or register the app in that tenant."
        ),
        Some(90002 | 90023) => {
            format!("Azure has no tenant {tenant_id}. Correct the mapping's tenantId.")
        }
        Some(50166 | 50027) if refusal.error_description.contains("OIDC") => format!(
            "Azure could not reach Strongroom's OIDC issuer at {issuer}/.well-known/openid-configuration. \
             The issuer (Strongroom's public URL) must be reachable from the internet over https."
        ),
        Some(700024) => {
            "Azure found Strongroom's token outside its valid time: check that the Strongroom server's clock \
             is right."
                .to_string()
        }
        Some(700027 | 5002738) => format!(
            "Azure could not verify the signature of Strongroom's token with the keys published at \
             {issuer}. Check that the issuer is exactly {issuer}."
        ),
        other => {
            // Azure's own first sentence, without its trace and correlation ids.
            let said = refusal.error_description.split(" Trace ID").next().unwrap_or_default();
            let code = other.map(|c| format!("AADSTS{c}")).unwrap_or_else(|| format!("HTTP {status}"));
            let said = if said.is_empty() { refusal.error.as_str() } else { said };
            format!(
                "Azure refused to let the run act as app registration {client_id} ({code}): {}",
                cloud_words(said)
            )
        }
    };
    ProviderError::Rejected(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn tokens() -> IdentityTokens {
        IdentityTokens {
            issuer: "https://sr.example.org".into(),
            subject: "org:1:wsp:2:user:3".into(),
            audience: AZURE_AUDIENCE.into(),
            mint: Arc::new(|| Ok::<String, String>("a.signed.token".to_string())),
        }
    }

    fn app() -> AzureApp {
        AzureApp {
            tenant_id: "0b0b0b0b-1111-2222-3333-444444444444".into(),
            client_id: "c1c1c1c1-aaaa-bbbb-cccc-dddddddddddd".into(),
        }
    }

    fn refusal(code: u64, description: &str) -> AzureError {
        AzureError {
            error: "invalid_client".into(),
            error_description: description.into(),
            error_codes: vec![code],
        }
    }

    #[test]
    fn each_refusal_names_what_to_change_with_the_exact_values() {
        let said = |code, text: &str| explain(400, &refusal(code, text), &app(), &tokens()).to_string();
        let subject =
            said(70021, "AADSTS70021: No matching federated identity record found for presented assertion.");
        assert!(
            subject.contains("You don't have permission to act as Azure app registration c1c1c1c1")
                && subject.contains("allow subject 'org:1:wsp:2:user:3'")
                && subject.contains("issuer https://sr.example.org")
                && subject.contains("audience 'api://AzureADTokenExchange'"),
            "{subject}"
        );
        assert!(said(700211, "").contains("trusts no tokens from issuer https://sr.example.org"));
        assert!(said(700016, "").contains("no app registration with client ID c1c1c1c1"));
        assert!(said(90002, "").contains("no tenant 0b0b0b0b"));
        assert!(said(700024, "").contains("clock"));
        let other =
            said(7000215, "AADSTS7000215: Invalid client secret provided. Trace ID: abc Correlation ID: d");
        assert!(
            other.ends_with("(AADSTS7000215): AADSTS7000215: Invalid client secret provided."),
            "{other}"
        );
        // The code is read from the description when the list is missing.
        let from_text = AzureError {
            error_description: "AADSTS700016: Application not found".into(),
            ..AzureError::default()
        };
        assert!(explain(400, &from_text, &app(), &tokens()).to_string().contains("no app registration"));
    }

    #[test]
    fn the_authority_is_an_https_host_or_loopback_for_tests() {
        assert_eq!(AzureAuthority::new(PUBLIC_AUTHORITY_HOST).unwrap().custom_authority_host(), None);
        let sovereign = AzureAuthority::new("https://login.microsoftonline.us/").unwrap();
        assert_eq!(sovereign.custom_authority_host(), Some("https://login.microsoftonline.us"));
        assert!(AzureAuthority::new("http://127.0.0.2:8080").is_ok());
        for bad in ["http://login.example.org", "https://login.example.org/tenant", "login.example.org", ""] {
            assert!(AzureAuthority::new(bad).is_err(), "{bad}");
        }
    }
}
