//! Strongroom as an OpenID Connect issuer (issue 14): runs get short-lived tokens a cloud trusts
//! (AWS `AssumeRoleWithWebIdentity`, Google workload identity federation, Azure federated
//! credentials) instead of long-lived keys shared by a workspace.
//!
//! - `key_ring`: the RS256 signing keys, their rotation and retirement;
//! - `claims`: what a token says, and its subject at the chosen granularity;
//! - here: the issuer itself: discovery document, JWKS, signing.
//!
//! The issuer is the configured public URL, byte for byte the same in the discovery document and
//! in every token's `iss` (clouds compare them exactly).

pub mod claims;
pub mod key_ring;

use crate::config::Config;
use anyhow::{bail, Context};
use claims::{RunFacts, TokenClaims};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header};
use key_ring::KeyRing;
use serde_json::{json, Value};

/// The longest a token may live (clouds accept up to 12 h; a run refreshes it instead).
pub const MAX_LIFETIME_SECS: u64 = 3600;
const MIN_LIFETIME_SECS: u64 = 60;

/// The claims a relying party can match on, as the discovery document lists them.
pub const CLAIMS_SUPPORTED: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "org_id",
    "workspace_id",
    "user_id",
    "pipeline",
    "workflow_id",
    "compute_env_id",
    "launch_role",
];

pub struct Issuer {
    issuer: String,
    lifetime_secs: i64,
    keys: KeyRing,
}

/// A signed token and when it expires (Unix seconds).
pub struct SignedToken {
    pub token: String,
    pub claims: TokenClaims,
}

impl Issuer {
    /// The issuer of this install: refuses a token lifetime outside 60 s to 1 h, a public URL
    /// that is not an absolute http(s) URL without query or fragment, and keys others can read.
    pub fn from_config(config: &Config) -> anyhow::Result<Issuer> {
        let lifetime = config.oidc_token_lifetime_secs;
        if !(MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS).contains(&lifetime) {
            bail!("oidc_token_lifetime_secs is {lifetime}; it must be {MIN_LIFETIME_SECS} to {MAX_LIFETIME_SECS} seconds");
        }
        let issuer = issuer_url(&config.public_url)?;
        let keys = KeyRing::open(&config.oidc_keys_dir())?;
        Ok(Issuer { issuer, lifetime_secs: lifetime as i64, keys })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }

    /// `/.well-known/openid-configuration`.
    pub fn discovery(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri(),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": CLAIMS_SUPPORTED,
        })
    }

    /// The keys a verifier may meet at `now`: the signing one, the next one and the old ones whose
    /// tokens may still be alive.
    pub fn jwks(&self, now: i64) -> anyhow::Result<JwkSet> {
        let keys = self.keys.published(now, self.lifetime_secs)?;
        Ok(JwkSet { keys: keys.iter().map(|k| k.public.clone()).collect() })
    }

    /// Signs a token for `facts` with `sub` and `aud`, valid from `now` for the configured
    /// lifetime (never longer than an hour).
    pub fn sign(&self, sub: String, aud: &str, facts: &RunFacts, now: i64) -> anyhow::Result<SignedToken> {
        let key = self.keys.signing_key(now)?;
        let claims = TokenClaims {
            iss: self.issuer.clone(),
            sub,
            aud: aud.to_string(),
            exp: now + self.lifetime_secs,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
            org_id: facts.org_id.to_string(),
            workspace_id: facts.workspace_id.to_string(),
            user_id: facts.user_id.to_string(),
            pipeline: facts.pipeline.clone(),
            workflow_id: facts.workflow_id.clone(),
            compute_env_id: facts.compute_env_id.clone(),
            launch_role: facts.launch_role.clone(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        let token =
            jsonwebtoken::encode(&header, &claims, &key.signing).context("could not sign the token")?;
        Ok(SignedToken { token, claims })
    }
}

/// The issuer URL: the public URL without a trailing slash. It must be absolute http(s), without
/// credentials, query or fragment (a cloud fetches `<issuer>/.well-known/openid-configuration`).
pub fn issuer_url(public_url: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(public_url.trim()).map_err(|_| {
        anyhow::anyhow!("public_url '{public_url}' is not an absolute URL; it is the OIDC issuer")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("public_url '{public_url}' must be an http(s) URL with a host; it is the OIDC issuer");
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        bail!("public_url must not carry credentials, a query or a fragment; it is the OIDC issuer");
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_the_public_url_without_its_trailing_slash() {
        assert_eq!(issuer_url("https://sr.example.org/").unwrap(), "https://sr.example.org");
        assert_eq!(issuer_url("https://example.org/strongroom").unwrap(), "https://example.org/strongroom");
        for bad in
            ["sr.example.org", "ftp://x.org", "https://u:p@x.org", "https://x.org/?a=1", "https://x.org/#f"]
        {
            assert!(issuer_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_lifetime_over_an_hour_or_under_a_minute_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for lifetime in [59, 3601] {
            let config = Config {
                data_dir: dir.path().into(),
                oidc_token_lifetime_secs: lifetime,
                ..Config::default()
            };
            let error = Issuer::from_config(&config).err().unwrap().to_string();
            assert!(error.contains("oidc_token_lifetime_secs"), "{error}");
        }
    }
}
