//! The command and environment of a Nextflow head job in the cloud (AWS Batch, Google Batch):
//! a bash script that writes the run's Nextflow configuration and parameters from the job's
//! environment, runs the environment's (or the launch's) pre-run script, `nextflow run … -with-tower`,
//! then the post-run script, and exits with Nextflow's status.
//!
//! Guarantees: the script holds names, settings and the scripts an administrator or launcher
//! wrote, never a secret: the run token is the job's `TOWER_ACCESS_TOKEN` variable only, and the
//! secrets reach Nextflow through the job definition (AWS) or Secret Manager (Google). The
//! parameters and configuration travel as variables (`SR_PARAMS_TEXT`, `SR_NEXTFLOW_CONFIG`)
//! so their text is never parsed by the shell. Every value in the script is quoted for bash,
//! every value in the configuration for Groovy; variable names are checked.

use super::gcp::FederationEndpoints;
use super::{HeadJobSpec, HeadWebIdentity, ProviderError};
use app::model::ConfigEnvVariable;
use secrecy::ExposeSecret;

/// Where the head job works (its container's own disk, gone with it).
const HEAD_DIR: &str = "/tmp/strongroom-head";
/// A managed identity's token, and Google's credentials file naming it, in `HEAD_DIR`; the
/// token for an Azure app registration, when the mapping adds one.
const TOKEN_FILE: &str = "web-identity-token";
const AZURE_TOKEN_FILE: &str = "azure-identity-token";
const GOOGLE_CREDENTIALS_FILE: &str = "google-credentials.json";

/// What the head job needs from its compute environment.
pub struct CloudSettings<'a> {
    /// The configuration lines that aim Nextflow's tasks at the cloud (executor, queue, region).
    pub executor_config: String,
    pub nextflow_config: Option<&'a str>,
    pub pre_run_script: Option<&'a str>,
    pub post_run_script: Option<&'a str>,
    pub work_dir: Option<&'a str>,
    pub environment: &'a [ConfigEnvVariable],
    /// Google: where a managed identity's token is exchanged (the environment's STS and IAM
    /// Credentials), for the head job's external-account credentials file.
    pub google_endpoints: Option<FederationEndpoints>,
}

/// The head job's command (`bash -c <script>`) and environment. The environment holds the run
/// token: it goes to the Batch service and nowhere else (never a log line or an error).
pub struct HeadCommand {
    pub command: Vec<String>,
    pub environment: Vec<(String, String)>,
}

/// Quotes a value for bash: plain words stay as they are, anything else goes in single quotes.
pub fn sh_quote(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c)) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Quotes a value as a Groovy single-quoted string.
pub fn groovy_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'").replace('\n', r"\n"))
}

/// A shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn text_block(out: &mut String, title: &str, script: Option<&str>) {
    if let Some(script) = script.filter(|s| !s.trim().is_empty()) {
        out.push_str(&format!("# {title}\n{}\n", script.trim_end()));
    }
}

/// The Nextflow configuration the head job is given: the executor's lines, the compute jobs'
/// variables, the work directory, the environment's `nextflowConfig`, then the launch's
/// `configText` (so a launch may override what the environment set).
pub fn nextflow_config(spec: &HeadJobSpec<'_>, settings: &CloudSettings<'_>) -> String {
    let mut config = String::from("// Written by Strongroom for this run.\n");
    config.push_str(&settings.executor_config);
    for variable in settings.environment.iter().filter(|v| v.compute && is_variable_name(&v.name)) {
        config.push_str(&format!("env.{} = {}\n", variable.name, groovy_quote(&variable.value)));
    }
    if let Some(work_dir) = spec.work_dir.or(settings.work_dir) {
        config.push_str(&format!("workDir = {}\n", groovy_quote(work_dir)));
    }
    for (title, text) in [
        ("The compute environment's nextflowConfig", settings.nextflow_config),
        ("The launch's configText", spec.config_text),
    ] {
        if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
            config.push_str(&format!("// {title}\n{}\n", text.trim_end()));
        }
    }
    config
}

/// Builds the head job's command and environment.
pub fn head_command(
    spec: &HeadJobSpec<'_>,
    settings: &CloudSettings<'_>,
) -> Result<HeadCommand, ProviderError> {
    let mut environment: Vec<(String, String)> = Vec::new();
    // The environment's own variables first, so Strongroom's launch variables win over them.
    for variable in settings.environment.iter().filter(|v| v.head) {
        if !is_variable_name(&variable.name) {
            return Err(ProviderError::Rejected(format!(
                "'{}' cannot be an environment variable name (letters, digits and '_', not starting \
                 with a digit)",
                variable.name
            )));
        }
        environment.push((variable.name.clone(), variable.value.clone()));
    }
    for (name, value) in spec.launch_env {
        environment.retain(|(n, _)| n != name);
        environment.push((name.clone(), value.clone()));
    }
    environment.retain(|(n, _)| n != "TOWER_ACCESS_TOKEN");
    environment.push(("TOWER_ACCESS_TOKEN".into(), spec.run_token.expose_secret().to_string()));
    environment.push(("SR_NEXTFLOW_CONFIG".into(), nextflow_config(spec, settings)));
    let params = spec.params_text.filter(|p| !p.trim().is_empty());
    if let Some(params) = params {
        environment.push(("SR_PARAMS_TEXT".into(), params.to_string()));
    }
    if let Some(identity) = &spec.web_identity {
        for (name, value) in identity_variables(spec, identity, settings)? {
            environment.retain(|(n, _)| *n != name);
            environment.push((name, value));
        }
    }

    let mut script = format!(
        "# The Nextflow head job of Strongroom run {}. Names and settings only: the run token is\n\
         # TOWER_ACCESS_TOKEN, the secrets reach Nextflow through the Batch service.\n\
         set -u\nmkdir -p {HEAD_DIR} && cd {HEAD_DIR} || \
         {{ echo 'strongroom: cannot make the head job directory' >&2; exit 1; }}\n\
         printf '%s\\n' \"$SR_NEXTFLOW_CONFIG\" > strongroom.config\n",
        spec.workflow_id
    );
    if let Some(identity) = &spec.web_identity {
        script.push_str(&identity_token_script(identity.refresh_secs, identity.azure_app.is_some()));
    }
    if params.is_some() {
        // YAML is a superset of JSON: Nextflow reads either from a .yaml file.
        script.push_str("printf '%s\\n' \"$SR_PARAMS_TEXT\" > params.yaml\n");
    }
    let pre = spec.pre_run_script.or(settings.pre_run_script);
    let post = spec.post_run_script.or(settings.post_run_script);
    text_block(&mut script, "The pre-run script", pre);
    let profiles = spec.config_profiles.join(",");
    let mut args = vec!["nextflow", "run", spec.pipeline, "-name", spec.run_name];
    args.extend(["-with-tower", spec.tower_endpoint]);
    if let Some(revision) = spec.revision.filter(|r| !r.is_empty()) {
        args.extend(["-r", revision]);
    }
    if !profiles.is_empty() {
        args.extend(["-profile", &profiles]);
    }
    args.extend(["-c", "strongroom.config"]);
    if params.is_some() {
        args.extend(["-params-file", "params.yaml"]);
    }
    let line: Vec<String> = args.iter().map(|a| sh_quote(a)).collect();
    script.push_str(&format!("{}\nstatus=$?\n", line.join(" ")));
    text_block(&mut script, "The post-run script", post);
    script.push_str("exit $status\n");
    Ok(HeadCommand { command: vec!["bash".into(), "-c".into(), script], environment })
}

/// The variables through which the cloud's SDKs act as the managed identity with the token in
/// `SR_IDENTITY_TOKEN_FILE`: AWS's web identity variables, or Google's external-account
/// credentials file (`GOOGLE_APPLICATION_CREDENTIALS`, written from `SR_GOOGLE_CREDENTIALS`).
fn identity_variables(
    spec: &HeadJobSpec<'_>,
    identity: &HeadWebIdentity<'_>,
    settings: &CloudSettings<'_>,
) -> Result<Vec<(String, String)>, ProviderError> {
    let token_file = format!("{HEAD_DIR}/{TOKEN_FILE}");
    let token_url = format!("{}/trace/{}/identity-token", spec.tower_endpoint, spec.workflow_id);
    let mut variables = vec![
        ("SR_IDENTITY_TOKEN_URL".to_string(), token_url.clone()),
        ("SR_IDENTITY_TOKEN_FILE".to_string(), token_file.clone()),
    ];
    match identity.workload_identity_provider {
        None => variables.extend([
            ("AWS_ROLE_ARN".to_string(), identity.role_arn.to_string()),
            ("AWS_ROLE_SESSION_NAME".to_string(), identity.session_name.to_string()),
            ("AWS_WEB_IDENTITY_TOKEN_FILE".to_string(), token_file),
        ]),
        Some(provider) => {
            let endpoints = settings.google_endpoints.as_ref().ok_or_else(|| {
                ProviderError::Rejected("A Google managed identity needs a Google environment.".into())
            })?;
            let mut credentials = serde_json::json!({
                "type": "external_account",
                "audience": app::model::google_sts_audience(provider),
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "token_url": endpoints.sts(),
                "credential_source": { "file": token_file, "format": { "type": "text" } },
            });
            if let Some(account) = identity.service_account {
                credentials["service_account_impersonation_url"] = endpoints.impersonation(account).into();
            }
            variables.extend([
                (
                    "GOOGLE_APPLICATION_CREDENTIALS".to_string(),
                    format!("{HEAD_DIR}/{GOOGLE_CREDENTIALS_FILE}"),
                ),
                ("SR_GOOGLE_CREDENTIALS".to_string(), credentials.to_string()),
            ]);
        }
    }
    // Azure's SDKs and CLI act as the app registration with these (workload identity federation).
    if let Some(app) = identity.azure_app {
        variables.extend([
            ("SR_AZURE_TOKEN_URL".to_string(), format!("{token_url}?cloud=azure")),
            ("AZURE_FEDERATED_TOKEN_FILE".to_string(), format!("{HEAD_DIR}/{AZURE_TOKEN_FILE}")),
            ("AZURE_TENANT_ID".to_string(), app.tenant_id.clone()),
            ("AZURE_CLIENT_ID".to_string(), app.client_id.clone()),
        ]);
        if let Some(host) = identity.azure_authority_host {
            variables.push(("AZURE_AUTHORITY_HOST".to_string(), host.to_string()));
        }
    }
    Ok(variables)
}

/// Fetches the run's identity token into `SR_IDENTITY_TOKEN_FILE` (0600, replaced whole), and with
/// an Azure app registration its Azure token into `AZURE_FEDERATED_TOKEN_FILE`, once before
/// Nextflow starts and then every `refresh_secs` in the background: only the run's own token may
/// fetch them, and the SDKs read the files again at each credential refresh. On Google, first
/// writes the external-account credentials file that names the token.
fn identity_token_script(refresh_secs: i64, azure: bool) -> String {
    let fetch_azure =
        if azure { " && sr_fetch_token \"$SR_AZURE_TOKEN_URL\" \"$AZURE_FEDERATED_TOKEN_FILE\"" } else { "" };
    format!(
        "if [ -n \"${{SR_GOOGLE_CREDENTIALS:-}}\" ]; then printf '%s\\n' \"$SR_GOOGLE_CREDENTIALS\" > \"$GOOGLE_APPLICATION_CREDENTIALS\"; fi\n\
         sr_fetch_token() {{\n\
         \x20 ( umask 077; curl -fsS -X POST -H \"Authorization: Bearer $TOWER_ACCESS_TOKEN\" \"$1\" -o \"$2.new\" ) \
         && mv -f \"$2.new\" \"$2\"\n\
         }}\n\
         sr_identity_token() {{\n\
         \x20 sr_fetch_token \"$SR_IDENTITY_TOKEN_URL\" \"$SR_IDENTITY_TOKEN_FILE\"{fetch_azure}\n\
         }}\n\
         sr_identity_token || {{ echo 'strongroom: could not fetch the run identity token' >&2; exit 1; }}\n\
         ( while sleep {refresh_secs}; do sr_identity_token || echo 'strongroom: identity token refresh failed' >&2; done ) &\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    /// A launch of nf-core/demo with nothing but the run token and `web_identity`.
    fn identity_spec<'a>(token: &'a SecretString, identity: HeadWebIdentity<'a>) -> HeadJobSpec<'a> {
        HeadJobSpec {
            workflow_id: "abc",
            run_name: "r",
            pipeline: "nf-core/demo",
            revision: None,
            tower_endpoint: "https://sr.example.org/api",
            launch_env: &[],
            run_token: token,
            params_text: None,
            config_text: None,
            pre_run_script: None,
            post_run_script: None,
            work_dir: None,
            config_profiles: &[],
            web_identity: Some(identity),
        }
    }

    /// An environment with no settings of its own but, on Google, its federation endpoints.
    fn bare_settings(google_endpoints: Option<FederationEndpoints>) -> CloudSettings<'static> {
        CloudSettings {
            executor_config: String::new(),
            nextflow_config: None,
            pre_run_script: None,
            post_run_script: None,
            work_dir: None,
            environment: &[],
            google_endpoints,
        }
    }

    #[test]
    fn the_command_quotes_everything_and_holds_no_token() {
        let token = SecretString::from("sr_run_topsecret".to_string());
        let launch_env = vec![("TOWER_WORKFLOW_ID".to_string(), "abc".to_string())];
        let profiles = ["test".to_string(), "docker".to_string()];
        let spec = HeadJobSpec {
            workflow_id: "abc",
            run_name: "happy_turing",
            pipeline: "nf-core/rnaseq",
            revision: Some("3.14"),
            tower_endpoint: "https://sr.example.org/api",
            launch_env: &launch_env,
            run_token: &token,
            params_text: Some("{\"input\": \"it's here\"}"),
            config_text: Some("process.memory = '2 GB'"),
            pre_run_script: Some("echo pre"),
            post_run_script: None,
            work_dir: Some("s3://b/work"),
            config_profiles: &profiles,
            web_identity: None,
        };
        let environment = vec![
            ConfigEnvVariable { name: "HEAD_ONLY".into(), value: "h".into(), head: true, compute: false },
            ConfigEnvVariable { name: "TASKS".into(), value: "it's".into(), head: false, compute: true },
        ];
        let settings = CloudSettings {
            executor_config: "process.executor = 'awsbatch'\n".into(),
            nextflow_config: Some("aws.batch.maxParallelTransfers = 4"),
            pre_run_script: Some("echo environment's"),
            post_run_script: Some("echo post"),
            work_dir: Some("s3://b/default"),
            environment: &environment,
            google_endpoints: None,
        };
        let head = head_command(&spec, &settings).unwrap();
        let script = &head.command[2];
        assert!(!script.contains("topsecret"), "{script}");
        assert!(script.contains("\necho pre\n") && !script.contains("environment's"), "{script}");
        assert!(script.contains("\necho post\n"), "{script}");
        assert!(script.contains(
            "nextflow run nf-core/rnaseq -name happy_turing -with-tower https://sr.example.org/api -r 3.14 \
             -profile test,docker -c strongroom.config -params-file params.yaml"
        ));
        let env = |name: &str| head.environment.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(env("TOWER_ACCESS_TOKEN"), Some("sr_run_topsecret"));
        assert_eq!(env("HEAD_ONLY"), Some("h"));
        assert_eq!(env("TASKS"), None);
        assert_eq!(env("SR_PARAMS_TEXT"), Some("{\"input\": \"it's here\"}"));
        let config = env("SR_NEXTFLOW_CONFIG").unwrap();
        assert!(config.contains("env.TASKS = 'it\\'s'"), "{config}");
        assert!(config.contains("workDir = 's3://b/work'"), "{config}");
        let (environment_at, launch_at) =
            (config.find("maxParallelTransfers").unwrap(), config.find("process.memory").unwrap());
        assert!(environment_at < launch_at, "the launch's configText comes last: {config}");
        assert_eq!(sh_quote("a b'c"), r"'a b'\''c'");
    }

    #[test]
    fn a_google_managed_identity_gets_an_external_account_file_naming_the_refreshed_token() {
        let token = SecretString::from("sr_run_topsecret".to_string());
        let identity = HeadWebIdentity {
            role_arn: "",
            session_name: "strongroom-u3-abc",
            workload_identity_provider: Some(
                "projects/1/locations/global/workloadIdentityPools/p/providers/lab",
            ),
            service_account: Some("runner@p.iam.gserviceaccount.com"),
            azure_app: None,
            azure_authority_host: None,
            refresh_secs: 1800,
        };
        let (spec, settings) =
            (identity_spec(&token, identity), bare_settings(Some(FederationEndpoints::new(None))));
        let head = head_command(&spec, &settings).unwrap();
        let env = |name: &str| head.environment.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(env("AWS_ROLE_ARN"), None);
        assert_eq!(
            env("GOOGLE_APPLICATION_CREDENTIALS").as_deref(),
            Some("/tmp/strongroom-head/google-credentials.json")
        );
        let credentials: serde_json::Value =
            serde_json::from_str(&env("SR_GOOGLE_CREDENTIALS").unwrap()).unwrap();
        assert_eq!(credentials["type"], "external_account");
        assert_eq!(
            credentials["audience"],
            "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/lab"
        );
        assert_eq!(credentials["token_url"], "https://sts.googleapis.com/v1/token");
        assert_eq!(credentials["credential_source"]["file"], "/tmp/strongroom-head/web-identity-token");
        assert_eq!(
            credentials["service_account_impersonation_url"],
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/runner@p.iam.gserviceaccount.com:generateAccessToken"
        );
        let script = &head.command[2];
        assert!(
            script.contains("> \"$GOOGLE_APPLICATION_CREDENTIALS\"") && script.contains("while sleep 1800"),
            "{script}"
        );
        assert!(!script.contains("topsecret"), "{script}");
        assert!(!script.contains("AZURE") && env("AZURE_CLIENT_ID").is_none(), "{script}");
    }

    #[test]
    fn an_azure_app_registration_adds_azure_workload_identity_variables_and_its_own_token_file() {
        let token = SecretString::from("sr_run_topsecret".to_string());
        let app = app::model::AzureApp {
            tenant_id: "0b0b0b0b-1111-2222-3333-444444444444".into(),
            client_id: "c1c1c1c1-aaaa-bbbb-cccc-dddddddddddd".into(),
        };
        let identity = HeadWebIdentity {
            role_arn: "arn:aws:iam::123456789012:role/runner",
            session_name: "strongroom-u3-abc",
            workload_identity_provider: None,
            service_account: None,
            azure_app: Some(&app),
            azure_authority_host: Some("https://login.example.org/"),
            refresh_secs: 1800,
        };
        let (spec, settings) = (identity_spec(&token, identity), bare_settings(None));
        let head = head_command(&spec, &settings).unwrap();
        let env = |name: &str| head.environment.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(env("AWS_ROLE_ARN").as_deref(), Some("arn:aws:iam::123456789012:role/runner"));
        assert_eq!(env("AZURE_TENANT_ID").as_deref(), Some("0b0b0b0b-1111-2222-3333-444444444444"));
        assert_eq!(env("AZURE_CLIENT_ID").as_deref(), Some("c1c1c1c1-aaaa-bbbb-cccc-dddddddddddd"));
        assert_eq!(
            env("AZURE_FEDERATED_TOKEN_FILE").as_deref(),
            Some("/tmp/strongroom-head/azure-identity-token")
        );
        assert_eq!(env("AZURE_AUTHORITY_HOST").as_deref(), Some("https://login.example.org/"));
        assert_eq!(
            env("SR_AZURE_TOKEN_URL").as_deref(),
            Some("https://sr.example.org/api/trace/abc/identity-token?cloud=azure")
        );
    }

    /// The token part of the head job's script, run by bash against a loopback Strongroom: both
    /// token files are fetched with the run token and written for their owner alone.
    #[tokio::test]
    async fn the_head_job_fetches_both_tokens_into_files_only_it_can_read() {
        use axum::http::HeaderMap;
        use std::os::unix::fs::PermissionsExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = |headers: HeaderMap, uri: axum::http::Uri| async move {
            let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
            if bearer != "Bearer sr_run_topsecret" {
                return (axum::http::StatusCode::FORBIDDEN, String::new());
            }
            let which = if uri.query() == Some("cloud=azure") { "azure" } else { "own" };
            (axum::http::StatusCode::OK, format!("{which}-token"))
        };
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(answer)).await });
        let dir = tempfile::tempdir().unwrap();
        let (own, azure) = (dir.path().join("own"), dir.path().join("azure"));
        let script = format!("{}kill $!\n", identity_token_script(3600, true));
        let status = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("TOWER_ACCESS_TOKEN", "sr_run_topsecret")
            .env("SR_IDENTITY_TOKEN_URL", format!("{base}/trace/abc/identity-token"))
            .env("SR_IDENTITY_TOKEN_FILE", &own)
            .env("SR_AZURE_TOKEN_URL", format!("{base}/trace/abc/identity-token?cloud=azure"))
            .env("AZURE_FEDERATED_TOKEN_FILE", &azure)
            .status()
            .await
            .unwrap();
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(&own).unwrap(), "own-token");
        assert_eq!(std::fs::read_to_string(&azure).unwrap(), "azure-token");
        for file in [&own, &azure] {
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
