//! Seqera's launch fields for the head job (`paramsText`, `configText`, `preRunScript`,
//! `postRunScript`, `workDir`): checked at launch, kept with the run (`runs.launch_fields`, JSON)
//! and handed to the provider that starts the head job. A launch's script or work directory
//! replaces the environment's; its configuration is added after the environment's.
//!
//! None of them is a secret (secrets go in the Secrets tab), but each ends up in the head job's
//! command or environment, so each has a size and a character set. Their sum is held under what
//! AWS Batch accepts in one SubmitJob (its 30 KiB job payload), with room for the rest.

use crate::domain::compute::cloud_settings::check_work_dir;
use app::error::AppError;
use app::model::{LaunchFields, Platform};

const MAX_PARAMS: usize = 16 * 1024;
const MAX_CONFIG: usize = 16 * 1024;
const MAX_SCRIPT: usize = 8 * 1024;
const MAX_TOTAL: usize = 24 * 1024;
const MAX_PROFILES: usize = 16;
const MAX_PROFILE_LEN: usize = 64;

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request(message.into())
}

/// Blank fields are absent (forms send empty strings); scripts and texts keep their spacing.
fn tidy(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn check_text(value: &Option<String>, field: &str, max: usize) -> Result<(), AppError> {
    match value {
        Some(v) if v.len() > max => Err(bad(format!("{field} can be at most {} KiB.", max / 1024))),
        Some(v) if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) => {
            Err(bad(format!("{field} holds control characters.")))
        }
        _ => Ok(()),
    }
}

/// Profile names as Nextflow's configuration declares them (letters, digits, `_` and `-`): they
/// reach the head job's command line, so nothing else may pass. Blank entries are dropped, and a
/// name given twice counts once.
fn check_profiles(profiles: Vec<String>) -> Result<Vec<String>, AppError> {
    let mut kept: Vec<String> = Vec::new();
    for profile in profiles.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let valid = profile.len() <= MAX_PROFILE_LEN
            && profile.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && !profile.starts_with('-');
        if !valid {
            return Err(bad(format!(
                "'{}' cannot be a configuration profile: use letters, digits, '_' and '-' (at most \
                 {MAX_PROFILE_LEN}, not starting with '-').",
                profile.chars().take(MAX_PROFILE_LEN + 1).collect::<String>()
            )));
        }
        if !kept.iter().any(|k| k == profile) {
            kept.push(profile.to_string());
        }
    }
    if kept.len() > MAX_PROFILES {
        return Err(bad(format!("configProfiles can name at most {MAX_PROFILES} profiles.")));
    }
    Ok(kept)
}

/// Checks and tidies a launch's fields for the environment's platform. A cluster's work
/// directory is the environment's alone (it is held to the cluster's rules there), so `workDir`
/// is refused on other platforms than the clouds'.
pub fn check_launch_fields(platform: Platform, fields: LaunchFields) -> Result<LaunchFields, AppError> {
    let fields = LaunchFields {
        params_text: tidy(fields.params_text),
        config_text: tidy(fields.config_text),
        pre_run_script: tidy(fields.pre_run_script),
        post_run_script: tidy(fields.post_run_script),
        work_dir: fields.work_dir.map(|w| w.trim().to_string()).filter(|w| !w.is_empty()),
        config_profiles: check_profiles(fields.config_profiles)?,
    };
    check_text(&fields.params_text, "paramsText", MAX_PARAMS)?;
    check_text(&fields.config_text, "configText", MAX_CONFIG)?;
    check_text(&fields.pre_run_script, "preRunScript", MAX_SCRIPT)?;
    check_text(&fields.post_run_script, "postRunScript", MAX_SCRIPT)?;
    let total: usize =
        [&fields.params_text, &fields.config_text, &fields.pre_run_script, &fields.post_run_script]
            .iter()
            .filter_map(|v| v.as_ref().map(String::len))
            .sum();
    if total > MAX_TOTAL {
        return Err(bad(format!(
            "paramsText, configText, preRunScript and postRunScript together can be at most {} KiB.",
            MAX_TOTAL / 1024
        )));
    }
    if let Some(work_dir) = fields.work_dir.as_deref() {
        match platform {
            Platform::AwsBatch | Platform::GoogleBatch => check_work_dir(platform, work_dir, "workDir")?,
            _ => {
                return Err(bad(
                    "workDir is the compute environment's on a cluster; leave it out of the launch.",
                ))
            }
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_fields_are_tidied_and_bounded() {
        let fields = LaunchFields {
            params_text: Some("{\"input\": \"s3://b/in.csv\"}".into()),
            config_text: Some("  ".into()),
            work_dir: Some(" s3://b/work ".into()),
            ..LaunchFields::default()
        };
        let checked = check_launch_fields(Platform::AwsBatch, fields.clone()).unwrap();
        assert_eq!(checked.config_text, None);
        assert_eq!(checked.work_dir.as_deref(), Some("s3://b/work"));
        assert!(check_launch_fields(Platform::Slurm, fields).unwrap_err().to_string().contains("workDir"));
        let huge = LaunchFields { params_text: Some("x".repeat(MAX_PARAMS + 1)), ..LaunchFields::default() };
        assert!(check_launch_fields(Platform::AwsBatch, huge)
            .unwrap_err()
            .to_string()
            .contains("paramsText"));
        let bell = LaunchFields { pre_run_script: Some("echo \u{7}".into()), ..LaunchFields::default() };
        assert!(check_launch_fields(Platform::AwsBatch, bell).is_err());
        let wrong = LaunchFields { work_dir: Some("gs://b/w".into()), ..LaunchFields::default() };
        assert!(check_launch_fields(Platform::AwsBatch, wrong).is_err());
    }

    #[test]
    fn profiles_are_names_only_and_given_once() {
        let profiles = |list: &[&str]| LaunchFields {
            config_profiles: list.iter().map(|p| p.to_string()).collect(),
            ..LaunchFields::default()
        };
        let checked =
            check_launch_fields(Platform::Slurm, profiles(&[" test ", "", "docker", "test"])).unwrap();
        assert_eq!(checked.config_profiles, ["test", "docker"]);
        for bad in ["a b", "x;rm -rf /", "-c", "$(id)", "a,b", "é", &"p".repeat(65)] {
            let error = check_launch_fields(Platform::AwsBatch, profiles(&[bad])).unwrap_err().to_string();
            assert!(error.contains("configuration profile"), "{bad}: {error}");
        }
        let many: Vec<String> = (0..17).map(|i| format!("p{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(check_launch_fields(Platform::AwsBatch, profiles(&many)).is_err());
    }
}
