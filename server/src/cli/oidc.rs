//! `strongroom oidc rotate` and `strongroom oidc keys`: the issuer's key ring, next to the keys
//! directory (`oidc::key_ring` holds the rules; this parses and prints key ids and times only).

use super::{OidcCommand, RotateOidc};
use crate::config::Config;
use crate::oidc::key_ring::{is_retired, signing_at};
use crate::oidc::Issuer;

pub fn run_oidc(config: &Config, command: OidcCommand) -> anyhow::Result<()> {
    let issuer = Issuer::from_config(config)?;
    let now = crate::clock::now_ms() / 1000;
    match command {
        OidcCommand::Rotate(args) => rotate(&issuer, &args, now),
        OidcCommand::Keys => list(&issuer, now),
    }
}

fn rotate(issuer: &Issuer, args: &RotateOidc, now: i64) -> anyhow::Result<()> {
    let starts_at = now + args.publish_for as i64;
    let kid = issuer.keys().add(starts_at)?;
    println!(
        "Added key {kid}: published now, signing from {} (in {} s).",
        rfc3339(starts_at),
        args.publish_for
    );
    for retired in issuer.keys().remove_retired(now, issuer.lifetime_secs())? {
        println!("Deleted key {retired}: every token it signed has expired.");
    }
    list(issuer, now)
}

fn list(issuer: &Issuer, now: i64) -> anyhow::Result<()> {
    let keys = issuer.keys().keys()?;
    let signing = signing_at(&keys, now).map(|k| k.kid.clone());
    println!("Keys in {}:", issuer.keys().dir().display());
    for key in &keys {
        let state = if Some(&key.kid) == signing.as_ref() {
            "signing"
        } else if key.starts_at > now {
            "published, signs later"
        } else if is_retired(&keys, key, now, issuer.lifetime_secs()) {
            "retired"
        } else {
            "published until its tokens expire"
        };
        println!("  {}  from {}  {state}", key.kid, rfc3339(key.starts_at));
    }
    Ok(())
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}
