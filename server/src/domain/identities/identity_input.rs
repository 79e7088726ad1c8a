//! Checks what an owner gives for a managed identity (name, platform, host, port, pinned host
//! key) and what a member gives for their credentials (cluster account), and reads the search
//! texts of the lists. Every refusal says what to fix.

use app::error::AppError;
use app::model::{
    check_cluster_user_name, check_host_key_fingerprint, check_host_name, check_resource_name,
    ManagedIdentity, ManagedIdentityChange, ManagedIdentityConfig, ManagedIdentityInput, PinnedKeyChange,
    Platform, DEFAULT_SSH_PORT, MANAGED_IDENTITY_PLATFORMS,
};

/// A managed identity's name, platform and config, checked.
pub(super) struct CheckedIdentity {
    pub name: String,
    pub platform: Platform,
    pub config: ManagedIdentityConfig,
}

fn check_platform(platform: Platform) -> Result<Platform, AppError> {
    if MANAGED_IDENTITY_PLATFORMS.contains(&platform) {
        return Ok(platform);
    }
    Err(AppError::bad_request(format!(
        "A managed identity describes a cluster reached over SSH: its platform is one of {}, not {platform}.",
        platform_list()
    )))
}

pub(super) fn platform_list() -> String {
    MANAGED_IDENTITY_PLATFORMS.map(Platform::as_str).join(", ")
}

fn check_config(
    host_name: &str,
    port: u16,
    fingerprint: Option<String>,
) -> Result<ManagedIdentityConfig, AppError> {
    let host_name = host_name.trim();
    check_host_name(host_name).map_err(AppError::BadRequest)?;
    if port == 0 {
        return Err(AppError::bad_request("The SSH port must be 1 to 65535 (usually 22)."));
    }
    let fingerprint = fingerprint.map(|f| f.trim().to_string()).filter(|f| !f.is_empty());
    if let Some(fingerprint) = &fingerprint {
        check_host_key_fingerprint(fingerprint).map_err(AppError::BadRequest)?;
    }
    Ok(ManagedIdentityConfig { host_name: host_name.to_string(), port, host_key_fingerprint: fingerprint })
}

fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    check_resource_name("managed identity", name).map_err(AppError::BadRequest)?;
    Ok(name.to_string())
}

pub(super) fn check_new(input: ManagedIdentityInput) -> Result<CheckedIdentity, AppError> {
    let name = check_name(&input.name)?;
    let platform = check_platform(input.platform)?;
    let config =
        check_config(&input.host_name, input.port.unwrap_or(DEFAULT_SSH_PORT), input.host_key_fingerprint)?;
    Ok(CheckedIdentity { name, platform, config })
}

/// The identity after `change`: absent fields stay.
pub(super) fn apply_change(
    current: &ManagedIdentity,
    change: ManagedIdentityChange,
) -> Result<CheckedIdentity, AppError> {
    let name = match change.name {
        Some(name) => check_name(&name)?,
        None => current.name.clone(),
    };
    let fingerprint = match change.host_key_fingerprint {
        PinnedKeyChange::Keep => current.config.host_key_fingerprint.clone(),
        PinnedKeyChange::Remove => None,
        PinnedKeyChange::Set(fingerprint) if fingerprint.trim().is_empty() => None,
        PinnedKeyChange::Set(fingerprint) => Some(fingerprint),
    };
    let config = check_config(
        change.host_name.as_deref().unwrap_or(&current.config.host_name),
        change.port.unwrap_or(current.config.port),
        fingerprint,
    )?;
    Ok(CheckedIdentity { name, platform: current.platform, config })
}

/// A cluster account, trimmed and checked.
pub(super) fn check_user_name(user_name: &str) -> Result<String, AppError> {
    let user_name = user_name.trim();
    check_cluster_user_name(user_name).map_err(AppError::BadRequest)?;
    Ok(user_name.to_string())
}

pub(super) fn check_page(max: i64, offset: i64) -> Result<(), AppError> {
    if !(1..=1000).contains(&max) || offset < 0 {
        return Err(AppError::bad_request("max must be 1 to 1000 and offset 0 or more."));
    }
    Ok(())
}

/// A `%…%` pattern for `LIKE` from free text (lower-cased, without the wildcards `%` and `_`);
/// empty for no text.
fn like_pattern(words: &[&str]) -> String {
    let text = words.join(" ").to_lowercase().replace(['%', '_'], "");
    if text.is_empty() {
        String::new()
    } else {
        format!("%{text}%")
    }
}

/// Seqera's identities search: free text on the name, and `platform:<id>`. Returns the name
/// pattern and the platform ('' for any).
pub(super) fn identities_search(search: Option<&str>) -> Result<(String, String), AppError> {
    let mut platform = String::new();
    let mut words = Vec::new();
    for word in search.unwrap_or_default().split_whitespace() {
        match word.strip_prefix("platform:") {
            Some(wanted) => {
                let wanted: Platform = wanted.parse().map_err(AppError::BadRequest)?;
                platform = wanted.as_str().to_string();
            }
            None => words.push(word),
        }
    }
    Ok((like_pattern(&words), platform))
}

/// Seqera's managed credentials search: `is:missing` / `is:added` (both or neither: everyone)
/// and free text on the member's email, name or cluster account. Returns which members
/// (`Some(true)`: registered only) and the text pattern.
pub(super) fn credentials_search(search: Option<&str>) -> (Option<bool>, String) {
    let (mut missing, mut added) = (false, false);
    let mut words = Vec::new();
    for word in search.unwrap_or_default().split_whitespace() {
        match word {
            "is:missing" => missing = true,
            "is:added" => added = true,
            _ => words.push(word),
        }
    }
    let registered = match (added, missing) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    (registered, like_pattern(&words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(platform: Platform, host: &str, port: Option<u16>) -> ManagedIdentityInput {
        ManagedIdentityInput {
            name: "hpc-main".into(),
            platform,
            host_name: host.into(),
            port,
            host_key_fingerprint: None,
        }
    }

    #[test]
    fn a_new_identity_needs_a_grid_platform_a_host_and_a_port() {
        let checked = check_new(input(Platform::Slurm, " login.hpc.org ", None)).unwrap();
        assert_eq!((checked.config.host_name.as_str(), checked.config.port), ("login.hpc.org", 22));
        let refusal = check_new(input(Platform::AwsBatch, "h", None)).err().unwrap().to_string();
        assert!(refusal.contains("slurm-platform, lsf-platform"), "{refusal}");
        assert!(check_new(input(Platform::Local, "h", None)).is_err());
        assert!(check_new(input(Platform::Lsf, "bad host", None)).is_err());
        assert!(check_new(input(Platform::Lsf, "h", Some(0))).is_err());
    }

    #[test]
    fn searches_read_seqeras_keywords() {
        assert_eq!(credentials_search(Some("is:missing")), (Some(false), String::new()));
        assert_eq!(credentials_search(Some("is:added Ada")), (Some(true), "%ada%".into()));
        assert_eq!(credentials_search(Some("is:added is:missing")), (None, String::new()));
        assert_eq!(credentials_search(None), (None, String::new()));
        let (name, platform) = identities_search(Some("platform:lsf-platform Main_%")).unwrap();
        assert_eq!((name.as_str(), platform.as_str()), ("%main%", "lsf-platform"));
        assert!(identities_search(Some("platform:nope")).is_err());
    }
}
