//! The head job's files: `head.sh` (bash) and the generated `nextflow.config`.
//!
//! Guarantee: the script holds names, paths and the environment's own non-secret settings only.
//! The run token is read at run time from the 0600 `run-token` file (`$(cat …)` is expanded by
//! the job's shell, so the token never appears in the script, a command line or the
//! scheduler's record); the secrets stay in the store Nextflow opens through `NXF_SECRETS_FILE`.
//! Every value is quoted for bash or Groovy; variable names are checked.

use super::errors::SshError;
use super::exec::quote;
use super::layout::TOKEN_FILE;
use super::scheduler::Scheduler;
use app::model::ConfigEnvVariable;

/// What the script is made of.
pub struct ScriptInput<'a> {
    pub workflow_id: &'a str,
    pub run_dir: &'a str,
    pub launch_dir: &'a str,
    pub launch_env: &'a [(String, String)],
    pub environment: &'a [ConfigEnvVariable],
    pub pre_run_script: Option<&'a str>,
    pub post_run_script: Option<&'a str>,
    pub pipeline: &'a str,
    pub run_name: &'a str,
    pub revision: Option<&'a str>,
    pub tower_endpoint: &'a str,
    pub params_file: Option<&'a str>,
    pub config_file: Option<&'a str>,
    /// Checked profile names, joined with `,` (empty for none).
    pub profiles: &'a str,
}

/// A shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_variable_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn export(name: &str, value: &str) -> Result<String, SshError> {
    if !is_variable_name(name) {
        return Err(SshError::Rejected(format!(
            "'{name}' cannot be an environment variable name (letters, digits and '_', not starting \
             with a digit)"
        )));
    }
    Ok(format!("export {name}={}\n", quote(value)))
}

fn text_block(out: &mut String, title: &str, script: Option<&str>) {
    if let Some(script) = script.filter(|s| !s.trim().is_empty()) {
        out.push_str(&format!("# {title}\n{}\n", script.trim_end()));
    }
}

pub fn head_script(input: &ScriptInput<'_>) -> Result<String, SshError> {
    let mut out = String::from("#!/bin/bash\n");
    out.push_str(&format!(
        "# The Nextflow head job of Strongroom run {}. Names and paths only: the run token is read\n\
         # from {TOKEN_FILE}, the secrets by Nextflow from NXF_SECRETS_FILE.\nset -u\n",
        input.workflow_id
    ));
    out.push_str(&format!(
        "cd {} || {{ echo 'strongroom: cannot enter the launch directory' >&2; exit 1; }}\n",
        quote(input.launch_dir)
    ));
    // The environment's own variables first, so Strongroom's launch variables win over them.
    for variable in input.environment.iter().filter(|v| v.head) {
        out.push_str(&export(&variable.name, &variable.value)?);
    }
    for (name, value) in input.launch_env {
        out.push_str(&export(name, value)?);
    }
    let token = format!("{}/{TOKEN_FILE}", input.run_dir);
    out.push_str(&format!("export TOWER_ACCESS_TOKEN=\"$(cat {})\"\n", quote(&token)));
    text_block(&mut out, "The compute environment's pre-run script", input.pre_run_script);
    let mut args = vec!["nextflow", "run", input.pipeline, "-name", input.run_name];
    args.extend(["-with-tower", input.tower_endpoint]);
    if let Some(revision) = input.revision.filter(|r| !r.is_empty()) {
        args.extend(["-r", revision]);
    }
    if !input.profiles.is_empty() {
        args.extend(["-profile", input.profiles]);
    }
    if let Some(params) = input.params_file {
        args.extend(["-params-file", params]);
    }
    if let Some(config) = input.config_file {
        args.extend(["-c", config]);
    }
    out.push_str(&format!("{}\nstrongroom_status=$?\n", super::exec::line(&args)));
    text_block(&mut out, "The compute environment's post-run script", input.post_run_script);
    out.push_str("exit $strongroom_status\n");
    Ok(out)
}

/// A Groovy string literal (single quotes: no interpolation).
fn groovy(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'").replace('\n', "\\n").replace('\r', "\\r");
    format!("'{escaped}'")
}

/// The run's `nextflow.config`: the executor and queue for the pipeline's tasks, the variables
/// meant for them (`compute`), then the environment's `nextflowConfig` and the launch's own
/// configuration, which come last so they can override what Strongroom set.
pub fn nextflow_config(
    scheduler: Scheduler,
    compute_queue: Option<&str>,
    environment: &[ConfigEnvVariable],
    environment_config: Option<&str>,
    launch_config: Option<&str>,
) -> Result<String, SshError> {
    let executor = match scheduler {
        Scheduler::Slurm => "slurm",
        Scheduler::Lsf => "lsf",
        Scheduler::Pbs => "pbspro",
        Scheduler::Moab => "moab",
        Scheduler::Uge => "uge",
    };
    let mut out = format!("// Written by Strongroom for this run.\nprocess.executor = '{executor}'\n");
    if let Some(queue) = compute_queue.map(str::trim).filter(|q| !q.is_empty()) {
        out.push_str(&format!("process.queue = {}\n", groovy(queue)));
    }
    let compute: Vec<_> = environment.iter().filter(|v| v.compute).collect();
    if !compute.is_empty() {
        out.push_str("env {\n");
        for variable in compute {
            if !is_variable_name(&variable.name) {
                return Err(SshError::Rejected(format!(
                    "'{}' cannot be an environment variable name",
                    variable.name
                )));
            }
            out.push_str(&format!("    {} = {}\n", variable.name, groovy(&variable.value)));
        }
        out.push_str("}\n");
    }
    for text in [environment_config, launch_config].into_iter().flatten().filter(|t| !t.trim().is_empty()) {
        out.push_str(text.trim_end());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(name: &str, value: &str, head: bool, compute: bool) -> ConfigEnvVariable {
        ConfigEnvVariable { name: name.into(), value: value.into(), head, compute }
    }

    fn input<'a>(env: &'a [(String, String)], vars: &'a [ConfigEnvVariable]) -> ScriptInput<'a> {
        ScriptInput {
            workflow_id: "1k0K4WlGep8ZTM",
            run_dir: "/s/.strongroom-alice/i/1k0K4WlGep8ZTM",
            launch_dir: "/home/alice/my runs",
            launch_env: env,
            environment: vars,
            pre_run_script: Some("module load nextflow\n"),
            post_run_script: None,
            pipeline: "https://github.com/nf-core/rnaseq",
            run_name: "happy_turing",
            revision: Some("3.14"),
            tower_endpoint: "https://sr.example.org/api",
            params_file: Some("/s/.strongroom-alice/i/1k0K4WlGep8ZTM/params.json"),
            config_file: None,
            profiles: "test,singularity",
        }
    }

    #[test]
    fn the_script_reads_the_token_from_its_file_and_quotes_everything() {
        let env = vec![
            ("NXF_SECRETS_FILE".to_owned(), "/s/.strongroom-alice/i/1k0K4WlGep8ZTM/secrets.json".to_owned()),
            ("TOWER_WORKFLOW_ID".to_owned(), "1k0K4WlGep8ZTM".to_owned()),
        ];
        let vars = [variable("GREETING", "it's $HOME", true, false), variable("TASK_ONLY", "x", false, true)];
        let script = head_script(&input(&env, &vars)).unwrap();
        assert!(script.starts_with("#!/bin/bash\n"));
        assert!(script.contains("set -u\ncd '/home/alice/my runs' ||"), "{script}");
        assert!(script.contains("export GREETING='it'\\''s $HOME'\n"), "{script}");
        assert!(!script.contains("TASK_ONLY"), "{script}");
        assert!(script.contains(
            "export TOWER_ACCESS_TOKEN=\"$(cat /s/.strongroom-alice/i/1k0K4WlGep8ZTM/run-token)\"\n"
        ));
        assert!(script.contains("# The compute environment's pre-run script\nmodule load nextflow\n"));
        assert!(
            script.contains(
                "nextflow run https://github.com/nf-core/rnaseq -name happy_turing -with-tower \
             https://sr.example.org/api -r 3.14 -profile test,singularity -params-file \
             /s/.strongroom-alice/i/1k0K4WlGep8ZTM/params.json\n"
            ),
            "{script}"
        );
        assert!(script.ends_with("strongroom_status=$?\nexit $strongroom_status\n"), "{script}");
        // Strongroom's variables come after the environment's, so they win.
        assert!(script.find("export GREETING").unwrap() < script.find("export NXF_SECRETS_FILE").unwrap());
    }

    #[test]
    fn a_variable_name_that_is_not_one_is_refused() {
        let vars = [variable("X; rm -rf ~", "v", true, false)];
        assert!(head_script(&input(&[], &vars)).is_err());
        let env = vec![("1X".to_owned(), "v".to_owned())];
        assert!(head_script(&input(&env, &[])).is_err());
        assert!(is_variable_name("_A1") && !is_variable_name("") && !is_variable_name("A-B"));
    }

    #[test]
    fn the_config_sets_executor_queue_and_task_variables_before_the_user_text() {
        let vars = [variable("REF", "a'b\\c", false, true), variable("HEAD_ONLY", "x", true, false)];
        let config = nextflow_config(
            Scheduler::Pbs,
            Some("long"),
            &vars,
            Some("process.cpus = 2"),
            Some("trace.enabled = true"),
        )
        .unwrap();
        assert_eq!(
            config,
            "// Written by Strongroom for this run.\nprocess.executor = 'pbspro'\nprocess.queue = 'long'\n\
             env {\n    REF = 'a\\'b\\\\c'\n}\nprocess.cpus = 2\ntrace.enabled = true\n"
        );
        let bare = nextflow_config(Scheduler::Slurm, None, &[], None, None).unwrap();
        assert_eq!(bare, "// Written by Strongroom for this run.\nprocess.executor = 'slurm'\n");
    }
}
