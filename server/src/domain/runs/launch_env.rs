//! The environment a launch command gets, built from nothing: the server's own environment holds
//! its key (`STRONGROOM_KEY`), its database URL and maybe the host's cloud credentials, and
//! `sbatch` would pass all of it on to the job.

use crate::providers::hpc::host::is_forbidden_name;

/// `PATH` when the server has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// What the child sees: `PATH`, `HOME`, `LANG`, the administrator's allowed names (from the
/// server's environment, via `server_var`), then the run's launch environment and `run_vars`
/// (the token, the pipeline, the run name). Nothing whose name is forbidden gets through, even
/// from the run's launch environment.
pub fn child_environment(
    launch_env: &[(String, String)],
    run_vars: &[(&str, &str)],
    allow: &[String],
    home: Option<&str>,
    server_var: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), server_var("PATH").unwrap_or_else(|| DEFAULT_PATH.into())),
        ("HOME".into(), home.map(String::from).or_else(|| server_var("HOME")).unwrap_or_else(|| "/".into())),
        ("LANG".into(), server_var("LANG").unwrap_or_else(|| "C.UTF-8".into())),
    ];
    for name in allow {
        if let Some(value) = server_var(name) {
            env.push((name.clone(), value));
        }
    }
    env.extend(launch_env.iter().cloned());
    env.extend(run_vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.retain(|(name, _)| {
        let forbidden = is_forbidden_name(name);
        if forbidden {
            tracing::warn!(variable = %name, "a forbidden variable was kept from a launch command");
        }
        !forbidden
    });
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allow_list_and_the_run_reach_the_child() {
        let server = |name: &str| match name {
            "PATH" => Some("/opt/bin:/usr/bin".to_string()),
            "LANG" => Some("en_GB.UTF-8".to_string()),
            "HTTPS_PROXY" => Some("http://proxy:3128".to_string()),
            "STRONGROOM_KEY" | "DATABASE_URL" | "AWS_SECRET_ACCESS_KEY" => Some("secret".to_string()),
            _ => None,
        };
        let launch_env = vec![
            ("NXF_SECRETS_FILE".to_string(), "/w/s.json".to_string()),
            ("STRONGROOM_GOOGLE_SECRETS".to_string(), "x".to_string()),
        ];
        let allow = vec!["HTTPS_PROXY".to_string(), "UNSET_ONE".to_string()];
        let env =
            child_environment(&launch_env, &[("SR_RUN_NAME", "r")], &allow, Some("/home/srlaunch"), server);
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["PATH", "HOME", "LANG", "HTTPS_PROXY", "NXF_SECRETS_FILE", "SR_RUN_NAME"]);
        assert_eq!(env[0].1, "/opt/bin:/usr/bin");
        assert_eq!(env[1].1, "/home/srlaunch");
        assert!(!env.iter().any(|(_, v)| v == "secret"));
    }

    #[test]
    fn sane_defaults_without_a_server_environment() {
        let env = child_environment(&[], &[], &[], None, |_| None);
        assert_eq!(env[0], ("PATH".to_string(), DEFAULT_PATH.to_string()));
        assert_eq!(env[1], ("HOME".to_string(), "/".to_string()));
    }
}
