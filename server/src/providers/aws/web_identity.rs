//! Managed mode on AWS: an environment's calls are made as the IAM role mapped to the run's
//! subject, assumed with a token from Strongroom's OIDC issuer (`AssumeRoleWithWebIdentity`). No
//! stored key is involved: the token is minted for each exchange, and the SDK's identity cache
//! exchanges again before the role's credentials expire. A failed exchange is repeated from
//! memory for `EXCHANGE_REFUSAL_HOLD` (the SDK's cache keeps no failures, so every call would
//! ask STS again).
//!
//! AWS's refusals are turned into sentences that say what a cloud admin must change, with the
//! exact values (issuer, audience, subject, role): `explain`.

use crate::providers::{cloud_words, IdentityTokens, ProviderError, EXCHANGE_REFUSAL_HOLD};
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::config::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use std::sync::Mutex;
use std::time::Instant;

/// What a managed environment's store needs to act as the mapped role.
#[derive(Debug, Clone)]
pub struct WebIdentity {
    pub role_arn: String,
    /// `RoleSessionName`, naming user and run for CloudTrail.
    pub session_name: String,
    pub tokens: IdentityTokens,
}

/// How long the role's credentials last (AWS's minimum is 15 minutes).
const SESSION_SECS: i32 = 3600;

/// One exchange: the role's temporary credentials, or why AWS refused, in plain words.
/// `trusted`: the endpoint is AWS's own, so its messages may be repeated (a custom endpoint's
/// never are: see `providers::opaque`).
pub async fn exchange(
    sts: &aws_sdk_sts::Client,
    identity: &WebIdentity,
    trusted: bool,
) -> Result<Credentials, ProviderError> {
    let token = (identity.tokens.mint)().map_err(ProviderError::Unavailable)?;
    let answer = sts
        .assume_role_with_web_identity()
        .role_arn(&identity.role_arn)
        .role_session_name(&identity.session_name)
        .web_identity_token(token)
        .duration_seconds(SESSION_SECS)
        .send()
        .await;
    let output = match answer {
        Ok(output) => output,
        Err(error) => {
            let code = error.code().map(str::to_string);
            // A custom endpoint's message only picks one of our sentences; it is never repeated.
            let message = error.message().unwrap_or_default().to_string();
            return Err(match code {
                Some(code) => explain(&code, &message, identity, trusted),
                None if trusted => ProviderError::Unavailable(format!(
                    "AWS STS could not be reached to exchange the run's token: {}",
                    cloud_words(&super::errors::chain(&error))
                )),
                None => ProviderError::Unavailable(
                    "The environment's endpoint did not answer the token exchange (AssumeRoleWithWebIdentity).".into(),
                ),
            });
        }
    };
    let credentials = output
        .credentials()
        .ok_or_else(|| ProviderError::Unavailable("AWS STS answered without credentials.".into()))?;
    let expires = std::time::SystemTime::try_from(*credentials.expiration()).ok();
    Ok(Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        expires,
        "strongroom-web-identity",
    ))
}

/// AWS's refusal of an exchange, as a sentence with the fix and the exact values to use.
pub fn explain(code: &str, aws_message: &str, identity: &WebIdentity, trusted: bool) -> ProviderError {
    let WebIdentity { role_arn, tokens: IdentityTokens { issuer, subject, audience, .. }, .. } = identity;
    let provider_host = issuer.trim_start_matches("https://").trim_start_matches("http://");
    let lower = aws_message.to_ascii_lowercase();
    let message = match code {
        "IDPCommunicationError" => format!(
            "AWS could not reach Strongroom's OIDC issuer at {issuer}/.well-known/openid-configuration. The \
             issuer (Strongroom's public URL) must be reachable from the internet over https."
        ),
        "InvalidIdentityToken" if lower.contains("audience") => format!(
            "AWS refused the token's audience '{audience}'. The IAM OIDC identity provider for {issuer} must \
             list '{audience}' as a client ID (audience)."
        ),
        "InvalidIdentityToken" if lower.contains("provider") => format!(
            "AWS has no IAM OIDC identity provider for {issuer} in the role's account. Create one with \
             provider URL {issuer} and audience '{audience}'."
        ),
        "InvalidIdentityToken" => format!(
            "AWS could not verify Strongroom's token from {issuer}{}. Check that the IAM OIDC identity \
             provider's URL is exactly {issuer} and that AWS can fetch its keys.",
            if trusted { format!(": {}", cloud_words(aws_message)) } else { String::new() }
        ),
        "AccessDenied" => format!(
            "You don't have permission to act as role {role_arn} — ask your cloud admin to allow subject \
             '{subject}' in the role's trust policy: a StringEquals condition on '{provider_host}:sub' with \
             value '{subject}' and on '{provider_host}:aud' with value '{audience}', for action \
             sts:AssumeRoleWithWebIdentity."
        ),
        "ExpiredTokenException" | "ExpiredToken" => {
            "AWS found Strongroom's token expired: check that the Strongroom server's clock is right."
                .to_string()
        }
        other if trusted => {
            format!(
                "AWS refused to let the run act as role {role_arn} ({other}): {}",
                cloud_words(aws_message)
            )
        }
        _ => format!("The environment's endpoint refused to let the run act as role {role_arn}."),
    };
    ProviderError::Rejected(message)
}

/// The STS client exchanges go through: the environment's region and endpoint, no credentials of
/// its own (`AssumeRoleWithWebIdentity` is not signed).
pub fn sts_client(base: &SdkConfig) -> aws_sdk_sts::Client {
    let mut config = base.to_builder();
    config.set_credentials_provider(None);
    aws_sdk_sts::Client::new(&config.build())
}

/// A credentials provider that exchanges a fresh token whenever the SDK's cache needs credentials.
#[derive(Debug)]
pub struct WebIdentityCredentials {
    sts: aws_sdk_sts::Client,
    identity: WebIdentity,
    trusted: bool,
    /// The credentials of the exchange made when the store opened, handed out once (the SDK
    /// caches them until shortly before they expire, then asks again).
    first: Mutex<Option<Credentials>>,
    /// The last failed exchange's sentence, repeated until the instant given.
    refused: Mutex<Option<(String, Instant)>>,
}

impl WebIdentityCredentials {
    pub fn new(sts: aws_sdk_sts::Client, identity: WebIdentity, trusted: bool, first: Credentials) -> Self {
        let (first, refused) = (Mutex::new(Some(first)), Mutex::new(None));
        WebIdentityCredentials { sts, identity, trusted, first, refused }
    }

    /// New credentials from STS, or the refusal still held from the last attempt.
    async fn exchange_or_held(&self) -> Result<Credentials, String> {
        let held = self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((refusal, until)) = held {
            if Instant::now() < until {
                return Err(refusal);
            }
        }
        let exchanged = exchange(&self.sts, &self.identity, self.trusted).await.map_err(|e| e.to_string());
        let held =
            exchanged.as_ref().err().map(|refusal| (refusal.clone(), Instant::now() + EXCHANGE_REFUSAL_HOLD));
        *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = held;
        exchanged
    }
}

impl aws_credential_types::provider::ProvideCredentials for WebIdentityCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().unwrap_or_else(|e| e.into_inner()).take();
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            if let Some(credentials) = first {
                return Ok(credentials);
            }
            self.exchange_or_held()
                .await
                .map_err(aws_credential_types::provider::error::CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::ProvideCredentials;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// An STS on loopback that refuses every exchange as AWS does, counting them; its URL.
    async fn refusing_sts(asked: Arc<AtomicUsize>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let refuse = move || {
            asked.fetch_add(1, Ordering::SeqCst);
            let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                <Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>\
                <RequestId>test</RequestId></ErrorResponse>";
            std::future::ready((axum::http::StatusCode::FORBIDDEN, [("content-type", "text/xml")], body))
        };
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(refuse)).await });
        url
    }

    #[tokio::test]
    async fn a_refused_exchange_is_repeated_from_memory_before_sts_is_asked_again() {
        let asked = Arc::new(AtomicUsize::new(0));
        let endpoint = refusing_sts(asked.clone()).await;
        let base = super::super::connect::sdk_defaults("us-east-1", Some(&endpoint)).load().await;
        let role_arn = "arn:aws:iam::123456789012:role/pipelines";
        let tokens = IdentityTokens {
            issuer: "https://strongroom.example.org".into(),
            subject: "org:1:wsp:2:user:3".into(),
            audience: "sts.amazonaws.com".into(),
            mint: Arc::new(|| Ok::<String, String>("a.signed.token".to_string())),
        };
        let identity =
            WebIdentity { role_arn: role_arn.into(), session_name: "strongroom-u3-run".into(), tokens };
        let first = Credentials::new("ASIAFIRST", "first-secret", None, None, "test");
        let provider = WebIdentityCredentials::new(sts_client(&base), identity, false, first);

        assert_eq!(provider.provide_credentials().await.unwrap().access_key_id(), "ASIAFIRST");
        assert_eq!(asked.load(Ordering::SeqCst), 0, "the first credentials came from the opening exchange");
        // The SDK asks again on every call while it has no credentials: STS hears it once.
        for _ in 0..5 {
            let error = provider.provide_credentials().await.unwrap_err();
            let refusal = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
            assert!(refusal.contains(&format!("permission to act as role {role_arn}")), "{refusal}");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);

        // Once the hold is over, STS is asked again.
        provider.refused.lock().unwrap().as_mut().unwrap().1 = Instant::now();
        provider.provide_credentials().await.unwrap_err();
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }
}
