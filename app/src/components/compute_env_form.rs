//! Adding a compute environment. The fields shown follow the platform; only the shown fields
//! are sent, and the server checks them again (its messages name the REST API's field names,
//! which the labels give in brackets). A cluster (Slurm, LSF, PBS Pro, Moab, Grid Engine) is
//! reached over SSH with Seqera's grid settings; `local-platform` runs on this host.

use crate::api::compute::CreateComputeEnv;
use crate::api::identities::list_identities;
use crate::components::{action_error, page_owned_action, FormError, NotLoaded};
use crate::model::{
    check_compute_name, CloudIdentity, CloudProvider, ComputeConfig, CredentialsRow, IdentityMapping,
    ManagedIdentity, Platform, SubjectGranularity,
};
use leptos::prelude::*;
use leptos::reactive::owner::WeakOwner;
use leptos::server_fn::ServerFn;

/// The form in the deferred forms' chunk (see `Deferred`): it opens from "New compute environment",
/// so its code, the largest form of the site, is fetched then and not with the Compute tab. Its
/// server action is made here too, so the code that sends an environment's settings is in that
/// chunk as well, owned by `page` (see `page_owned_action`); `on_added` tells the page when one is
/// saved, even if the form was closed meanwhile.
#[leptos::wasm_split::wasm_split(deferred_forms, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn add_compute_env_form(
    page: WeakOwner,
    workspace_id: i64,
    org_id: i64,
    on_added: Callback<()>,
    credentials: Vec<CredentialsRow>,
) -> Result<ViewFn, NotLoaded> {
    Ok(ViewFn::from(move || {
        let credentials = credentials.clone();
        let create = page_owned_action::<CreateComputeEnv>(&page, on_added);
        view! { <AddComputeEnvForm create workspace_id org_id credentials/> }
    }))
}

fn platform_label(platform: Platform) -> &'static str {
    match platform {
        Platform::AwsBatch => "AWS Batch",
        Platform::GoogleBatch => "Google Batch",
        Platform::Slurm => "Slurm",
        Platform::Lsf => "IBM LSF",
        Platform::AltairPbs => "Altair PBS Pro",
        Platform::Moab => "Moab",
        Platform::Uge => "Univa Grid Engine",
        Platform::Local => "Local (this host)",
    }
}

fn some(signal: RwSignal<String>) -> Option<String> {
    Some(signal.get_untracked().trim().to_string()).filter(|v| !v.is_empty())
}

/// A script or configuration: inner spacing kept, blank means none.
fn some_text(signal: RwSignal<String>) -> Option<String> {
    Some(signal.get_untracked()).filter(|v| !v.trim().is_empty())
}

/// A labelled textarea bound to `signal` (scripts, Nextflow configuration).
fn text_area(
    id: &'static str,
    label: &'static str,
    field: &'static str,
    signal: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label for=id>{label} " " <span class="muted mono">"(" {field} ")"</span></label>
        <textarea id=id name=format!("config[{field}]") rows="3" spellcheck="false" class="mono"
            data-testid=id prop:value=move || signal.get()
            on:input=move |ev| signal.set(event_target_value(&ev))></textarea>
    }
}

/// A labelled text input bound to `signal`; `field` is the REST API's name for it.
fn text_field(
    id: &'static str,
    label: &'static str,
    field: &'static str,
    signal: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label for=id>{label} " " <span class="muted mono">"(" {field} ")"</span></label>
        <input id=id name=format!("config[{field}]") autocomplete="off" spellcheck="false" data-testid=id
            prop:value=move || signal.get() on:input=move |ev| signal.set(event_target_value(&ev))/>
    }
}

#[component]
fn AddComputeEnvForm(
    create: ServerAction<CreateComputeEnv>,
    workspace_id: i64,
    /// Whose managed identities are offered for cluster platforms.
    org_id: i64,
    credentials: Vec<CredentialsRow>,
) -> impl IntoView {
    // The organization's managed identities, asked for as the form opens (in the browser only: the
    // form is never rendered on the server) and offered once they arrive; none when they cannot
    // be listed. `try_set`: the form may be closed before the answer.
    let identities = RwSignal::new(Vec::<ManagedIdentity>::new());
    leptos::task::spawn_local(async move {
        if let Ok(list) = list_identities(org_id).await {
            identities.try_set(list);
        }
    });
    let name = RwSignal::new(String::new());
    let platform = RwSignal::new(Platform::AwsBatch);
    // "0": no credentials (the value the server function reads as none).
    let credentials_id = RwSignal::new("0".to_string());
    let region = RwSignal::new(String::new());
    let queue = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let kms = RwSignal::new(String::new());
    let custom_job_definition = RwSignal::new(false);
    let endpoint = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let location = RwSignal::new(String::new());
    let work_dir = RwSignal::new(String::new());
    let ssh = SshFields::new();
    let credentials = StoredValue::new(credentials);
    // "0": no managed identity (shared SSH credentials instead).
    let identity_id = RwSignal::new("0".to_string());
    let managed = move || identity_id.with(|id| id != "0");
    // AWS: stored keys ("keys"), or a managed cloud identity at a subject granularity.
    let cloud_mode = RwSignal::new("keys".to_string());
    let cloud_mappings = RwSignal::new(String::new());
    let is_cloud = move || matches!(platform.get(), Platform::AwsBatch | Platform::GoogleBatch);
    let cloud_managed = move || is_cloud() && cloud_mode.with(|m| m != "keys");
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            for field in [name, region, queue, role, kms, endpoint, project, location, work_dir] {
                field.set(String::new());
            }
            ssh.clear();
            identity_id.set("0".to_string());
            cloud_mode.set("keys".to_string());
            cloud_mappings.set(String::new());
            custom_job_definition.set(false);
            credentials_id.set("0".to_string());
        }
    });
    let is = move |p: Platform| platform.get() == p;
    let is_hpc = move || platform.get().scheduler().is_some();
    let is_cluster = move || is_hpc() && !is(Platform::Local);
    let provider = move || match platform.get() {
        Platform::AwsBatch => Some(CloudProvider::Aws),
        Platform::GoogleBatch => Some(CloudProvider::Google),
        Platform::Local => None,
        _ => Some(CloudProvider::Ssh),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = platform.get_untracked();
        let aws = p == Platform::AwsBatch;
        let google = p == Platform::GoogleBatch;
        let hpc = p.scheduler().is_some();
        let cluster = hpc && p != Platform::Local;
        let managed_now = identity_id.get_untracked() != "0";
        let config = ComputeConfig {
            region: some(region).filter(|_| aws),
            execution_role_arn: some(role).filter(|_| aws),
            job_queue: some(queue).filter(|_| aws),
            kms_key_id: some(kms).filter(|_| aws),
            custom_job_definition: (aws && custom_job_definition.get_untracked()).then_some(true),
            endpoint_url: some(endpoint).filter(|_| aws || google),
            project: some(project).filter(|_| google),
            location: some(location).filter(|_| google),
            scheduler: None,
            work_dir: some(work_dir).filter(|_| hpc),
            launch_command: None,
            managed_identity_id: identity_id.get_untracked().parse().ok().filter(|id| cluster && *id > 0),
            cloud_identity: SubjectGranularity::parse(&cloud_mode.get_untracked())
                .filter(|_| aws || google)
                .map(|subject| cloud_identity_from_lines(subject, &cloud_mappings.get_untracked())),
            ..ssh.config(cluster, managed_now)
        };
        let cloud_now = config.cloud_identity.is_some();
        let credentials_id = if p == Platform::Local || managed_now || cloud_now {
            0
        } else {
            credentials_id.get_untracked().parse().unwrap_or(0)
        };
        create.dispatch(CreateComputeEnv {
            workspace_id,
            name: name.get_untracked(),
            platform: p,
            credentials_id,
            config,
        });
    };
    let no_credentials = move || {
        if is(Platform::AwsBatch) {
            "None: the host's own AWS credentials"
        } else {
            "Choose credentials"
        }
    };
    view! {
        <section class="card">
            <h2>"Add compute environment"</h2>
            <form method="post" action=CreateComputeEnv::PATH data-testid="add-compute-env-form"
                on:submit=submit>
                <input type="hidden" name="workspace_id" value=workspace_id/>
                <label for="compute-env-name">"Name"</label>
                <input id="compute-env-name" name="name" required autocomplete="off"
                    placeholder="aws-batch-prod"
                    data-testid="compute-env-name"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <p class="hint">
                    {move || name.with(|n| {
                        (!n.is_empty()).then(|| check_compute_name("compute environment", n).err()).flatten()
                    })}
                </p>
                <label for="compute-env-platform">"Platform"</label>
                <select id="compute-env-platform" name="platform" data-testid="compute-env-platform"
                    on:change=move |ev| {
                        if let Ok(p) = event_target_value(&ev).parse::<Platform>() {
                            platform.set(p);
                            credentials_id.set("0".to_string());
                            identity_id.set("0".to_string());
                        }
                    }>
                    {Platform::ALL.into_iter().map(|p| view! {
                        <option value=p.as_str() selected=move || platform.get() == p>
                            {platform_label(p)}
                        </option>
                    }).collect_view()}
                </select>
                <Show when=move || is(Platform::AwsBatch)>
                    {text_field("compute-env-region", "Region", "region", region)}
                    {text_field("compute-env-queue", "Batch job queue", "computeQueue", queue)}
                    {text_field("compute-env-role", "Execution role ARN", "executionRole", role)}
                    {text_field("compute-env-kms", "KMS key id (optional)", "kmsKeyId", kms)}
                    <label class="checkbox">
                        <input type="checkbox" prop:checked=move || custom_job_definition.get()
                            on:change=move |ev| custom_job_definition.set(event_target_checked(&ev))/>
                        " Pipelines use a custom job definition (they then get no secrets)"
                    </label>
                </Show>
                <Show when=move || is(Platform::GoogleBatch)>
                    {text_field("compute-env-project", "Project id", "projectId", project)}
                    {text_field("compute-env-location", "Location", "location", location)}
                </Show>
                <Show when=is_cloud>
                    <label for="compute-env-cloud-identity">"Identity"</label>
                    <select id="compute-env-cloud-identity" data-testid="compute-env-cloud-identity"
                        prop:value=move || cloud_mode.get()
                        on:change=move |ev| cloud_mode.set(event_target_value(&ev))>
                        <option value="keys">"Stored keys (credentials below)"</option>
                        <option value="workspace">"Managed: one identity for the workspace"</option>
                        <option value="pipeline">"Managed: one identity per pipeline"</option>
                        <option value="user">"Managed: one identity per launching user"</option>
                    </select>
                    <Show when=cloud_managed>
                        <label for="compute-env-cloud-mappings">
                            {move || if is(Platform::GoogleBatch) {
                                "Workload identity providers (and service accounts), one per line"
                            } else {
                                "IAM roles, one per line"
                            }}
                        </label>
                        <textarea id="compute-env-cloud-mappings" rows="3" spellcheck="false" class="mono"
                            data-testid="compute-env-cloud-mappings"
                            placeholder=move || mapping_placeholder(&cloud_mode.get(), is(Platform::GoogleBatch))
                            prop:value=move || cloud_mappings.get()
                            on:input=move |ev| cloud_mappings.set(event_target_value(&ev))></textarea>
                        <p class="hint">
                            "Runs get short-lived tokens from Strongroom and act as the cloud identity mapped \
                             to them: no stored keys. The environment's Identity section then shows what to \
                             configure in the cloud. To let a run's pipeline reach Azure too, end its line \
                             with azure:<tenant id>/<client id> (an app registration)."
                        </p>
                    </Show>
                </Show>
                <Show when=move || !is_hpc()>
                    {text_field("compute-env-endpoint", "Endpoint URL (optional)", "endpointUrl", endpoint)}
                </Show>
                <Show when=is_cluster>
                    <label for="compute-env-identity">"Managed identity"</label>
                    <select id="compute-env-identity" data-testid="compute-env-identity"
                        prop:value=move || identity_id.get()
                        on:change=move |ev| identity_id.set(event_target_value(&ev))>
                        <option value="0">"None: one shared account (SSH credentials below)"</option>
                        {move || identities.with(|list| {
                            list.iter()
                                .filter(|i| i.platform == platform.get())
                                .map(|i| view! {
                                    <option value=i.id.to_string()>
                                        {format!("{} ({}:{})", i.name, i.config.host_name, i.config.port)}
                                    </option>
                                })
                                .collect_view()
                        })}
                    </select>
                    <p class="hint">
                        "With a managed identity every run acts as the launcher's own cluster account, \
                         registered under Your cluster credentials."
                    </p>
                </Show>
                <Show when=move || is_cluster() && !managed()>
                    {ssh.connection_fields()}
                </Show>
                <Show when=move || provider().is_some() && !managed() && !cloud_managed()>
                    <label for="compute-env-credentials">"Credentials"</label>
                    <select id="compute-env-credentials" name="credentials_id"
                        data-testid="compute-env-credentials"
                        prop:value=move || credentials_id.get()
                        on:change=move |ev| credentials_id.set(event_target_value(&ev))>
                        <option value="0">
                            {no_credentials}
                        </option>
                        {move || credentials.with_value(|list| {
                            list.iter()
                                .filter(|c| Some(c.provider) == provider())
                                .map(|c| view! { <option value=c.id.to_string()>{c.name.clone()}</option> })
                                .collect_view()
                        })}
                    </select>
                </Show>
                <Show when=is_hpc>
                    {text_field("compute-env-work-dir", "Work directory (absolute)", "workDir", work_dir)}
                </Show>
                <Show when=is_cluster>
                    {ssh.job_fields()}
                </Show>
                <button type="submit" class="primary" data-testid="add-compute-env"
                    disabled=move || name.with(|n| check_compute_name("compute environment", n).is_err())>
                    "Add compute environment"
                </button>
            </form>
            <FormError message=action_error(create)/>
        </section>
    }
}

/// What the mapping lines look like for a granularity and cloud.
fn mapping_placeholder(mode: &str, google: bool) -> String {
    let target = if google {
        "projects/123456789012/locations/global/workloadIdentityPools/strongroom/providers/lab \
         runner@my-project.iam.gserviceaccount.com"
    } else {
        "arn:aws:iam::123456789012:role/pipeline-runs"
    };
    match mode {
        "pipeline" => format!("https://github.com/nf-core/rnaseq {target}"),
        "user" => format!("ada@example.org {target}"),
        _ => target.to_string(),
    }
}

/// The mappings typed one per line: the cloud identity last — an AWS role ARN, or a Google
/// workload identity provider (`projects/…/providers/…`) optionally followed by a service account
/// email — after the pipeline (per pipeline) or the participant's email or user id (per user), and
/// optionally, at the very end, an Azure app registration as `azure:<tenant id>/<client id>`. The
/// server checks them and says which line is wrong.
pub fn cloud_identity_from_lines(subject: SubjectGranularity, text: &str) -> CloudIdentity {
    let mappings = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let mut mapping = IdentityMapping::default();
            if let Some(azure) = words.last().and_then(|w| w.strip_prefix("azure:")) {
                let (tenant, client) = azure.split_once('/').unwrap_or((azure, ""));
                mapping.tenant_id = Some(tenant.to_string());
                mapping.client_id = Some(client.to_string()).filter(|c| !c.is_empty());
                words.pop();
            }
            // Google: "… projects/…/providers/<id> [account@….gserviceaccount.com]".
            let provider_at = words.iter().rposition(|w| w.starts_with("projects/"));
            match provider_at {
                Some(at) if words.len() - at <= 2 => {
                    mapping.workload_identity_provider = Some(words[at].to_string());
                    mapping.service_account = words.get(at + 1).map(|w| w.to_string());
                    words.truncate(at);
                }
                _ => mapping.role_arn = words.pop().map(str::to_string),
            }
            let who = (!words.is_empty()).then(|| words.join(" "));
            match (subject, who) {
                (SubjectGranularity::Pipeline, who) => mapping.pipeline = who,
                (SubjectGranularity::User, Some(who)) => match who.parse::<i64>() {
                    Ok(id) => mapping.user_id = Some(id),
                    Err(_) => mapping.user_email = Some(who),
                },
                // Extra words where none belong: kept, so the server names the line.
                (_, who) => mapping.pipeline = who,
            }
            mapping
        })
        .collect();
    CloudIdentity { subject, audience: None, mappings }
}

#[cfg(test)]
mod cloud_identity_lines {
    use super::*;

    #[test]
    fn each_line_maps_a_subject_to_the_role_at_its_end() {
        let text =
            "\n ada@example.org arn:aws:iam::123456789012:role/a \n7 arn:aws:iam::123456789012:role/b\n";
        let identity = cloud_identity_from_lines(SubjectGranularity::User, text);
        assert_eq!(identity.mappings.len(), 2);
        assert_eq!(identity.mappings[0].user_email.as_deref(), Some("ada@example.org"));
        assert_eq!(identity.mappings[1].user_id, Some(7));
        assert_eq!(identity.mappings[1].role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/b"));
        let per_pipeline =
            cloud_identity_from_lines(SubjectGranularity::Pipeline, "https://x.org/p arn:aws:iam::1:role/c");
        assert_eq!(per_pipeline.mappings[0].pipeline.as_deref(), Some("https://x.org/p"));
        let provider = "projects/1/locations/global/workloadIdentityPools/pool/providers/lab";
        let google = cloud_identity_from_lines(
            SubjectGranularity::User,
            &format!("ada@example.org {provider} runner@p.iam.gserviceaccount.com\n{provider}"),
        );
        assert_eq!(google.mappings[0].user_email.as_deref(), Some("ada@example.org"));
        assert_eq!(google.mappings[0].workload_identity_provider.as_deref(), Some(provider));
        assert_eq!(google.mappings[0].service_account.as_deref(), Some("runner@p.iam.gserviceaccount.com"));
        assert_eq!(
            (google.mappings[1].role_arn.as_ref(), google.mappings[1].user_email.as_ref()),
            (None, None)
        );
    }

    #[test]
    fn an_azure_app_registration_ends_a_line() {
        let tenant = "0b0b0b0b-1111-2222-3333-444444444444";
        let client = "c1c1c1c1-aaaa-bbbb-cccc-dddddddddddd";
        let identity = cloud_identity_from_lines(
            SubjectGranularity::User,
            &format!("ada@example.org arn:aws:iam::123456789012:role/a azure:{tenant}/{client}\n7 arn:aws:iam::123456789012:role/b azure:{tenant}"),
        );
        let ada = &identity.mappings[0];
        assert_eq!(ada.user_email.as_deref(), Some("ada@example.org"));
        assert_eq!(ada.role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/a"));
        assert_eq!((ada.tenant_id.as_deref(), ada.client_id.as_deref()), (Some(tenant), Some(client)));
        // Half an app registration stays half, so the server says what is missing.
        let half = &identity.mappings[1];
        assert_eq!((half.tenant_id.as_deref(), half.client_id.as_deref()), (Some(tenant), None));
        assert_eq!(half.role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/b"));
    }
}

/// The grid settings of a cluster reached over SSH (Seqera's names in brackets).
#[derive(Clone, Copy)]
struct SshFields {
    host: RwSignal<String>,
    port: RwSignal<String>,
    user: RwSignal<String>,
    host_key: RwSignal<String>,
    launch_dir: RwSignal<String>,
    head_queue: RwSignal<String>,
    compute_queue: RwSignal<String>,
    head_job_options: RwSignal<String>,
    pre_run: RwSignal<String>,
    post_run: RwSignal<String>,
    nextflow_config: RwSignal<String>,
}

impl SshFields {
    fn new() -> SshFields {
        let text = || RwSignal::new(String::new());
        SshFields {
            host: text(),
            port: text(),
            user: text(),
            host_key: text(),
            launch_dir: text(),
            head_queue: text(),
            compute_queue: text(),
            head_job_options: text(),
            pre_run: text(),
            post_run: text(),
            nextflow_config: text(),
        }
    }

    fn all(self) -> [RwSignal<String>; 11] {
        [
            self.host,
            self.port,
            self.user,
            self.host_key,
            self.launch_dir,
            self.head_queue,
            self.compute_queue,
            self.head_job_options,
            self.pre_run,
            self.post_run,
            self.nextflow_config,
        ]
    }

    fn clear(self) {
        self.all().into_iter().for_each(|field| field.set(String::new()));
    }

    /// The settings to send: none unless the platform is a cluster. With a managed identity the
    /// connection (host, port, account, host key) is the identity's, so only the head job's
    /// settings are sent. A port that is not a number is sent as none and the default (22)
    /// applies; the hint under the field says so.
    fn config(self, cluster: bool, managed: bool) -> ComputeConfig {
        if !cluster {
            return ComputeConfig::default();
        }
        let connection = |signal: RwSignal<String>| some(signal).filter(|_| !managed);
        ComputeConfig {
            host_name: connection(self.host),
            port: connection(self.port).and_then(|p| p.parse().ok()),
            user_name: connection(self.user),
            host_key_fingerprint: connection(self.host_key),
            launch_dir: some(self.launch_dir),
            head_queue: some(self.head_queue),
            compute_queue: some(self.compute_queue),
            head_job_options: some(self.head_job_options),
            pre_run_script: some_text(self.pre_run),
            post_run_script: some_text(self.post_run),
            nextflow_config: some_text(self.nextflow_config),
            ..ComputeConfig::default()
        }
    }

    fn connection_fields(self) -> impl IntoView {
        view! {
            {text_field("compute-env-host", "Login node host name", "hostName", self.host)}
            {text_field("compute-env-port", "SSH port (default 22)", "port", self.port)}
            {text_field("compute-env-user", "Cluster account for the SSH credentials", "userName", self.user)}
            {text_field(
                "compute-env-host-key",
                "Host key fingerprint (optional: the first Check records it)",
                "hostKeyFingerprint",
                self.host_key,
            )}
            <p class="hint">"Choose SSH credentials below and the account they log in as."</p>
        }
    }

    fn job_fields(self) -> impl IntoView {
        view! {
            {text_field(
                "compute-env-launch-dir",
                "Launch directory (optional)",
                "launchDir",
                self.launch_dir,
            )}
            {text_field("compute-env-head-queue", "Head job queue (optional)", "headQueue", self.head_queue)}
            {text_field(
                "compute-env-compute-queue",
                "Compute jobs queue (optional)",
                "computeQueue",
                self.compute_queue,
            )}
            {text_field(
                "compute-env-head-options",
                "Head job options (optional)",
                "headJobOptions",
                self.head_job_options,
            )}
            {text_area("compute-env-pre-run", "Pre-run script (optional)", "preRunScript", self.pre_run)}
            {text_area("compute-env-post-run", "Post-run script (optional)", "postRunScript", self.post_run)}
            {text_area(
                "compute-env-nextflow-config",
                "Nextflow configuration (optional)",
                "nextflowConfig",
                self.nextflow_config,
            )}
        }
    }
}
