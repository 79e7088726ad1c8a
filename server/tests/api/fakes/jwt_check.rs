//! How a cloud checks a web identity token from an OIDC issuer, shared by the cloud stand-ins
//! (`sts` for AWS, `google_sts` for Google): the issuer as the token states it must be the one
//! trusted, its keys are fetched over HTTP as a cloud fetches them (discovery document, then its
//! `jwks_uri`), the key is found by `kid`, and RS256, the issuer, the audience, the times (no
//! leeway) and the presence of the standard claims are checked.
//!
//! Each stand-in turns a [`Refusal`] into its cloud's own code and wording.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// Why a token was refused, in the order the checks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JWT at all (no header, or undecodable claims).
    Malformed,
    /// The token's `iss` (as it states it) is not the trusted issuer.
    UnknownIssuer(String),
    /// The discovery document or the JWKS could not be fetched.
    KeysUnreachable,
    /// No key of the JWKS has the token's `kid`.
    NoMatchingKey,
    /// The key with that `kid` cannot verify RS256.
    UnusableKey,
    /// The token's `aud` (as a string, or its JSON) is not one of those allowed.
    BadAudience(String),
    Expired,
    /// The signature does not verify, or another claim check failed.
    BadSignature,
}

/// The token's claims if it passes; `trusted_issuer: None` means no issuer is trusted at all.
pub async fn verify(
    http: &reqwest::Client,
    token: &str,
    trusted_issuer: Option<&str>,
    audiences: &[String],
) -> Result<Value, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    // The issuer as the token states it, before any check: clouds look their trust up by it.
    let unverified =
        jsonwebtoken::dangerous::insecure_decode::<Value>(token).map_err(|_| Refusal::Malformed)?.claims;
    let issuer = unverified["iss"].as_str().unwrap_or_default().to_string();
    if trusted_issuer != Some(issuer.as_str()) {
        return Err(Refusal::UnknownIssuer(issuer));
    }
    let keys = fetch_keys(http, &issuer).await.map_err(|_| Refusal::KeysUnreachable)?;
    let kid = header.kid.unwrap_or_default();
    let jwk = keys.find(&kid).ok_or(Refusal::NoMatchingKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| Refusal::UnusableKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "iat", "nbf"]);
    validation.leeway = 0;
    let decoded = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| match e.kind() {
        ErrorKind::InvalidAudience => Refusal::BadAudience(match &unverified["aud"] {
            Value::String(aud) => aud.clone(),
            other => other.to_string(),
        }),
        ErrorKind::ExpiredSignature => Refusal::Expired,
        _ => Refusal::BadSignature,
    })?;
    Ok(decoded.claims)
}

/// The issuer's keys, found as the clouds find them: discovery document, then its `jwks_uri`.
async fn fetch_keys(http: &reqwest::Client, issuer: &str) -> Result<JwkSet, reqwest::Error> {
    let discovery: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap_or_default().to_string();
    http.get(jwks_uri).send().await?.error_for_status()?.json().await
}
