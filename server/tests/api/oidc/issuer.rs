//! The discovery document, the JWKS, the tokens and key rotation, as a cloud sees them.

use super::{facts, issuer_of, now, signer, verify};
use crate::cli::{db_env, strongroom};
use crate::helpers::*;
use reqwest::StatusCode;
use server::oidc::claims::{subject, Granularity};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn discovery_and_jwks_describe_the_issuer_and_a_first_key_is_made_private() {
    let app = spawn_app().await;
    let anyone = client();
    let answer = app.get(&anyone, "/.well-known/openid-configuration").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "public, max-age=300");
    let discovery: serde_json::Value = answer.json().await.unwrap();
    let issuer = issuer_of(&app);
    assert_eq!(discovery["issuer"], issuer.as_str(), "byte for byte the public URL");
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(discovery["response_types_supported"], serde_json::json!(["id_token"]));
    assert_eq!(discovery["subject_types_supported"], serde_json::json!(["public"]));
    assert_eq!(discovery["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    for claim in [
        "sub",
        "aud",
        "org_id",
        "workspace_id",
        "user_id",
        "pipeline",
        "workflow_id",
        "compute_env_id",
        "launch_role",
    ] {
        assert!(discovery["claims_supported"].as_array().unwrap().iter().any(|c| c == claim), "{claim}");
    }

    let (status, jwks) = app.get_json(&anyone, "/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::OK);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "the first key is made on first use: {jwks}");
    let key = &keys[0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert_eq!(key["e"], "AQAB");
    let modulus_bytes = key["n"].as_str().unwrap().len() * 3 / 4;
    assert!((256..=512).contains(&modulus_bytes), "2048 to 4096 bits: {modulus_bytes} bytes");
    assert!(key.get("d").is_none() && key.get("p").is_none(), "never a private part: {key}");
    assert_eq!(key["kid"].as_str().unwrap().len(), 43, "an RFC 7638 SHA-256 thumbprint");

    let dir = app.data_dir.path().join("oidc-keys");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn an_independent_verifier_accepts_a_token_and_refuses_it_expired_or_for_another_audience() {
    let app = spawn_app().await;
    let signer = signer(&app, 600);
    // A key that has signed for two hours, so tokens can be signed in the past too.
    signer.keys().add(now() - 7200).unwrap();
    let ada = facts(21);
    let sub = subject(Granularity::User, &ada);
    let signed = signer.sign(sub.clone(), "sts.amazonaws.com", &ada, now()).unwrap();
    let claims =
        verify(&app, "sts.amazonaws.com", &signed.token, false).await.expect("a fresh token verifies");
    assert_eq!(claims["iss"], issuer_of(&app).as_str());
    assert_eq!(claims["sub"], "org:4:wsp:9:user:21");
    assert_eq!(claims["aud"], "sts.amazonaws.com");
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 600);
    assert_eq!(claims["nbf"], claims["iat"]);
    for (claim, value) in [
        ("org_id", "4"),
        ("workspace_id", "9"),
        ("user_id", "21"),
        ("workflow_id", "4xYzW"),
        ("compute_env_id", "ce9"),
        ("launch_role", "launch"),
        ("pipeline", "https://github.com/nf-core/rnaseq"),
    ] {
        assert_eq!(claims[claim], value, "{claim}");
    }
    let again = signer.sign(sub, "sts.amazonaws.com", &ada, now()).unwrap();
    assert_ne!(again.claims.jti, signed.claims.jti, "every token has its own jti");

    let error = verify(&app, "api://AzureADTokenExchange", &signed.token, false).await.unwrap_err();
    assert!(error.starts_with("InvalidAudienceError"), "{error}");

    // Signed 700 s ago with a 600 s lifetime: expired 100 s ago.
    let old = signer.sign("org:4:wsp:9".into(), "sts.amazonaws.com", &ada, now() - 700).unwrap();
    let error = verify(&app, "sts.amazonaws.com", &old.token, false).await.unwrap_err();
    assert!(error.starts_with("ExpiredSignatureError"), "{error}");

    // A token whose signature was changed is refused, whatever it says.
    let mut forged = signed.token.clone();
    forged.replace_range(forged.len() - 6.., "AAAAAA");
    let error = verify(&app, "sts.amazonaws.com", &forged, false).await.unwrap_err();
    assert!(error.starts_with("InvalidSignatureError"), "{error}");
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_until_its_tokens_expire() {
    // Tokens live a minute here, so a key retires a minute after its successor starts.
    let app = spawn_app_with(|c| c.oidc_token_lifetime_secs = 60).await;
    let signer = signer(&app, 60);
    let start = now();
    // The key of an install that has been signing for two hours.
    let old_kid = signer.keys().add(start - 7200).unwrap();

    // `strongroom oidc rotate`: the next key is published at once and signs an hour later.
    let mut env = db_env(&app);
    env.push(("STRONGROOM_OIDC_TOKEN_LIFETIME_SECS", "60".into()));
    let out = strongroom(&["oidc", "rotate", "--publish-for", "3600"], &env, None).await;
    assert!(out.ok, "{}", out.stderr);
    let (status, jwks) = app.get_json(&client(), "/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::OK);
    let kids: Vec<String> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    let next_kid = kids.iter().find(|k| **k != old_kid).unwrap().clone();
    assert!(out.stdout.contains(&format!("Added key {next_kid}: published now")), "{}", out.stdout);
    let ada = facts(5);
    let before = signer.sign("org:4:wsp:9".into(), "sts.amazonaws.com", &ada, now()).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&before.token).unwrap().kid.as_deref(),
        Some(old_kid.as_str()),
        "the new key does not sign yet"
    );
    verify(&app, "sts.amazonaws.com", &before.token, false).await.expect("signed by the current key");

    // Once a newer key signs, tokens of the old one still verify until they can have expired.
    let key_file = |kid: &str| {
        let key = signer.keys().keys().unwrap().into_iter().find(|k| k.kid == kid).unwrap();
        app.data_dir.path().join(format!("oidc-keys/{}.pem", key.starts_at))
    };
    assert!(
        key_file(&next_kid).file_name().unwrap().to_str().unwrap()
            >= format!("{}.pem", start + 3600).as_str()
    );
    std::fs::remove_file(key_file(&next_kid)).unwrap();
    let recent_kid = signer.keys().add(now() - 30).unwrap();
    let after = signer.sign("org:4:wsp:9".into(), "sts.amazonaws.com", &ada, now()).unwrap();
    assert_eq!(jsonwebtoken::decode_header(&after.token).unwrap().kid.as_deref(), Some(recent_kid.as_str()));
    verify(&app, "sts.amazonaws.com", &before.token, false).await.expect("the old key is still published");
    verify(&app, "sts.amazonaws.com", &after.token, false).await.expect("the new key signs");

    // A successor that started a whole lifetime ago retires the old key: its tokens fail even
    // for a verifier that ignores expiry, because the key is gone from the JWKS.
    std::fs::remove_file(key_file(&recent_kid)).unwrap();
    signer.keys().add(now() - 61).unwrap();
    let error = verify(&app, "sts.amazonaws.com", &before.token, true).await.unwrap_err();
    assert!(error.contains("Unable to find a signing key"), "{error}");
    let out = strongroom(&["oidc", "keys"], &env, None).await;
    assert!(
        out.ok && out.stdout.contains(&format!("{old_kid}  from")) && out.stdout.contains("retired"),
        "{}",
        out.stdout
    );
}
