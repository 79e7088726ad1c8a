//! The rules for an HPC environment reached over SSH (Seqera's grid settings: `hostName`, `port`,
//! `userName`, `workDir`, `launchDir`, `headQueue`, `computeQueue`, `headJobOptions`,
//! `preRunScript`, `postRunScript`, `nextflowConfig`, `environment`) and for the pinned host key.
//!
//! Everything here is checked lexically: nothing is resolved or connected to, so saving an
//! environment reveals nothing about a network. These settings only ever reach the cluster, as
//! the account the run acts as, never the Strongroom host: paths are not held to the host's work
//! roots, but every value that ends up in a shell command is held to a character set that cannot
//! break out of its quoting, and the provider quotes it as well.

use app::error::AppError;
use app::model::{ComputeConfig, Platform};

pub(crate) const MAX_SCRIPT: usize = 16 * 1024;
pub(crate) const MAX_NEXTFLOW_CONFIG: usize = 64 * 1024;
const MAX_ENVIRONMENT: usize = 100;

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request(message.into())
}

/// Names Strongroom sets in the head job itself: an environment entry may not replace them, or
/// it could point Nextflow at another store or another server.
const RESERVED_NAMES: [&str; 6] = [
    "NXF_SECRETS_FILE",
    "NXF_ENABLE_SECRETS",
    "TOWER_ACCESS_TOKEN",
    "TOWER_WORKFLOW_ID",
    "TOWER_WORKSPACE_ID",
    "TOWER_API_ENDPOINT",
];

/// A DNS name or an IP address literal, as `ssh` takes it: letters, digits, dots, hyphens and
/// colons (IPv6), not starting with `-` (it would read as an option).
fn is_host_name(host: &str) -> bool {
    (1..=253).contains(&host.len())
        && !host.starts_with('-')
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

/// A POSIX account name as most clusters allow it.
pub fn is_account_name(name: &str) -> bool {
    let mut chars = name.chars();
    (1..=32).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

/// A queue or partition name: what schedulers accept, nothing a shell would read.
pub(crate) fn is_queue_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@' | ','))
}

/// An absolute path on the cluster, without `..`, of characters a shell keeps literal when
/// quoted (no control characters, no quotes).
fn check_cluster_path(path: &str, field: &str) -> Result<(), AppError> {
    let plain = !path.split('/').any(|part| part == "..");
    let printable = path.chars().all(|c| !c.is_control() && !matches!(c, '\'' | '"' | '\\' | '`' | '$'));
    if path.starts_with('/') && plain && printable && path.len() <= 1024 {
        Ok(())
    } else {
        Err(bad(format!(
            "{field} must be an absolute path on the cluster (starting with /, without '..', quotes, \
             backslashes or $)."
        )))
    }
}

/// `SHA256:` and 43 characters of unpadded base64, as `ssh-keygen -l` prints a host key.
pub fn is_host_key_fingerprint(fingerprint: &str) -> bool {
    fingerprint.strip_prefix("SHA256:").is_some_and(|b64| {
        b64.len() == 43 && b64.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    })
}

pub(crate) fn check_text(value: &Option<String>, field: &str, max: usize) -> Result<(), AppError> {
    match value {
        Some(v) if v.len() > max => Err(bad(format!("{field} can be at most {} KiB.", max / 1024))),
        Some(v) if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) => {
            Err(bad(format!("{field} holds control characters.")))
        }
        _ => Ok(()),
    }
}

/// Checks the settings of an HPC environment reached over SSH. With a managed identity the host
/// and the account come from the identity and each launcher, so they must not be set here.
pub(crate) fn check(platform: Platform, c: &ComputeConfig) -> Result<(), AppError> {
    if c.launch_command.is_some() {
        return Err(bad(
            "launchCommand does not apply over SSH: Strongroom submits the head job with the scheduler \
             itself (use preRunScript and headJobOptions to adjust it).",
        ));
    }
    if c.managed_identity_id.is_some() {
        for (set, field) in [
            (c.host_name.is_some(), "hostName"),
            (c.port.is_some(), "port"),
            (c.user_name.is_some(), "userName"),
            (c.host_key_fingerprint.is_some(), "hostKeyFingerprint"),
        ] {
            if set {
                return Err(bad(format!(
                    "{field} comes from the managed identity (and each launcher's own cluster account): \
                     leave it out of an environment that uses one."
                )));
            }
        }
    } else {
        let host = c.host_name.as_deref().unwrap_or_default();
        if !is_host_name(host) {
            return Err(bad("hostName must be the cluster login node's DNS name or IP address."));
        }
        match c.user_name.as_deref() {
            Some(user) if is_account_name(user) => {}
            Some(_) => {
                return Err(bad(
                    "userName must be a cluster account name: lowercase letters, digits, '_', '.' or '-', \
                     starting with a letter or '_', at most 32 characters.",
                ))
            }
            None => return Err(bad(format!("Compute environments on {platform} over SSH need userName."))),
        }
    }
    if c.port == Some(0) {
        return Err(bad("port must be between 1 and 65535."));
    }
    if c.host_key_fingerprint.as_deref().is_some_and(|f| !is_host_key_fingerprint(f)) {
        return Err(bad(
            "hostKeyFingerprint must be a SHA256 fingerprint as `ssh-keygen -lf <host key>.pub` prints it \
             (SHA256: followed by 43 characters).",
        ));
    }
    let Some(work_dir) = c.work_dir.as_deref() else {
        return Err(bad(format!("Compute environments on {platform} need workDir.")));
    };
    check_cluster_path(work_dir, "workDir")?;
    if let Some(launch_dir) = c.launch_dir.as_deref() {
        check_cluster_path(launch_dir, "launchDir")?;
    }
    for (queue, field) in [(&c.head_queue, "headQueue"), (&c.compute_queue, "computeQueue")] {
        if queue.as_deref().is_some_and(|q| !is_queue_name(q)) {
            return Err(bad(format!(
                "{field} must be a queue or partition name (letters, digits, '_', '.', '-', '@', ',')."
            )));
        }
    }
    if let Some(options) = c.head_job_options.as_deref() {
        if options.len() > 1024 || shell_words::split(options).is_err() {
            return Err(bad(
                "headJobOptions must be scheduler options as you would type them (at most 1024 characters, \
                 quotes balanced).",
            ));
        }
    }
    check_text(&c.pre_run_script, "preRunScript", MAX_SCRIPT)?;
    check_text(&c.post_run_script, "postRunScript", MAX_SCRIPT)?;
    check_text(&c.nextflow_config, "nextflowConfig", MAX_NEXTFLOW_CONFIG)?;
    check_environment(c)
}

pub(crate) fn check_environment(c: &ComputeConfig) -> Result<(), AppError> {
    let entries = c.environment.as_deref().unwrap_or_default();
    if entries.len() > MAX_ENVIRONMENT {
        return Err(bad(format!("environment can hold at most {MAX_ENVIRONMENT} variables.")));
    }
    for entry in entries {
        let mut chars = entry.name.chars();
        let valid = entry.name.len() <= 128
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(bad(
                "Each environment variable name must be letters, digits and '_', not starting with a digit.",
            ));
        }
        if RESERVED_NAMES.contains(&entry.name.as_str()) {
            return Err(bad(format!(
                "{} is set by Strongroom for every run and cannot be replaced.",
                entry.name
            )));
        }
        if entry.value.len() > 4096 || entry.value.chars().any(char::is_control) {
            return Err(bad(format!(
                "The value of {} must be at most 4096 characters without control characters. Secrets go \
                 in the Secrets tab, not here.",
                entry.name
            )));
        }
        if !entry.head && !entry.compute {
            return Err(bad(format!("{} must apply to the head job, the compute jobs or both.", entry.name)));
        }
    }
    Ok(())
}

/// The SSH-only settings, for the message that refuses them on an environment without a host.
pub(crate) fn ssh_only_fields(c: &ComputeConfig) -> Option<&'static str> {
    [
        (c.port.is_some(), "port"),
        (c.user_name.is_some(), "userName"),
        (c.launch_dir.is_some(), "launchDir"),
        (c.head_queue.is_some(), "headQueue"),
        (c.compute_queue.is_some(), "computeQueue"),
        (c.head_job_options.is_some(), "headJobOptions"),
        (c.pre_run_script.is_some(), "preRunScript"),
        (c.post_run_script.is_some(), "postRunScript"),
        (c.nextflow_config.is_some(), "nextflowConfig"),
        (c.environment.as_ref().is_some_and(|e| !e.is_empty()), "environment"),
        (c.host_key_fingerprint.is_some(), "hostKeyFingerprint"),
    ]
    .into_iter()
    .find_map(|(set, field)| set.then_some(field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::ConfigEnvVariable;

    fn cluster() -> ComputeConfig {
        ComputeConfig {
            host_name: Some("login.hpc.example.org".into()),
            user_name: Some("alice".into()),
            work_dir: Some("/scratch/alice".into()),
            ..ComputeConfig::default()
        }
    }

    fn refused(config: ComputeConfig, field: &str) {
        let message = check(Platform::Slurm, &config).unwrap_err().to_string();
        assert!(message.contains(field), "{field}: {message}");
    }

    #[test]
    fn a_cluster_needs_a_host_an_account_and_a_work_dir() {
        assert!(check(Platform::Slurm, &cluster()).is_ok());
        refused(ComputeConfig { host_name: Some("-oProxyCommand=x".into()), ..cluster() }, "hostName");
        refused(ComputeConfig { host_name: Some("a b".into()), ..cluster() }, "hostName");
        refused(ComputeConfig { user_name: None, ..cluster() }, "userName");
        refused(ComputeConfig { user_name: Some("Root;id".into()), ..cluster() }, "userName");
        refused(ComputeConfig { work_dir: None, ..cluster() }, "workDir");
        refused(ComputeConfig { work_dir: Some("scratch".into()), ..cluster() }, "workDir");
        refused(ComputeConfig { work_dir: Some("/scratch/../etc".into()), ..cluster() }, "workDir");
        refused(ComputeConfig { work_dir: Some("/scratch/$(id)".into()), ..cluster() }, "workDir");
        refused(ComputeConfig { launch_dir: Some("/a'b".into()), ..cluster() }, "launchDir");
        refused(ComputeConfig { port: Some(0), ..cluster() }, "port");
        refused(ComputeConfig { launch_command: Some("sbatch x".into()), ..cluster() }, "launchCommand");
        refused(ComputeConfig { head_queue: Some("a;b".into()), ..cluster() }, "headQueue");
        refused(ComputeConfig { head_job_options: Some("--mem '4G".into()), ..cluster() }, "headJobOptions");
        refused(
            ComputeConfig { host_key_fingerprint: Some("MD5:aa".into()), ..cluster() },
            "hostKeyFingerprint",
        );
        let pinned = format!("SHA256:{}", "A".repeat(43));
        assert!(check(Platform::Slurm, &ComputeConfig { host_key_fingerprint: Some(pinned), ..cluster() })
            .is_ok());
    }

    #[test]
    fn a_managed_identity_brings_the_host_and_the_accounts() {
        let managed = ComputeConfig {
            managed_identity_id: Some(3),
            work_dir: Some("/scratch".into()),
            ..ComputeConfig::default()
        };
        assert!(check(Platform::Slurm, &managed).is_ok());
        refused(ComputeConfig { host_name: Some("h".into()), ..managed.clone() }, "hostName");
        refused(ComputeConfig { user_name: Some("bob".into()), ..managed }, "userName");
    }

    #[test]
    fn environment_entries_cannot_replace_what_strongroom_sets() {
        let entry = |name: &str| ConfigEnvVariable {
            name: name.into(),
            value: "v".into(),
            head: true,
            compute: false,
        };
        assert!(check(
            Platform::Slurm,
            &ComputeConfig { environment: Some(vec![entry("MY_VAR")]), ..cluster() }
        )
        .is_ok());
        for name in ["NXF_SECRETS_FILE", "TOWER_ACCESS_TOKEN", "1ABC", "A-B", ""] {
            let config = ComputeConfig { environment: Some(vec![entry(name)]), ..cluster() };
            assert!(check(Platform::Slurm, &config).is_err(), "{name}");
        }
        let nowhere = ConfigEnvVariable { head: false, ..entry("X") };
        assert!(
            check(Platform::Slurm, &ComputeConfig { environment: Some(vec![nowhere]), ..cluster() }).is_err()
        );
    }
}
