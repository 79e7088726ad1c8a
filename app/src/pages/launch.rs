//! "Launch pipeline": the pipeline, where it runs, and which secrets it gets. The effective set
//! (which value each chosen name will carry) is worked out live in the browser by the same
//! function the server launches with, so what the form shows is what the run copies.
//!
//! The page holds secret names only; values never reach the browser.

use crate::api::runs::{get_launch_options, LaunchRun};
use crate::components::{CheckFix, ErrorPanel, LaunchFieldsForm, LaunchFieldsInput};
use crate::model::{effective_set, IdentityRole, LaunchEnv, LaunchOptions, LaunchRequest, SecretSource};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// What the form holds. Created once with the page (outside any `Suspend`), so a refused launch
/// leaves every field as it was.
#[derive(Clone, Copy)]
struct LaunchForm {
    pipeline: RwSignal<String>,
    run_name: RwSignal<String>,
    revision: RwSignal<String>,
    compute_env: RwSignal<Option<i64>>,
    /// With a per-user managed identity: which of the caller's mapped roles (its position).
    cloud_identity_mapping: RwSignal<Option<usize>>,
    workspace_chosen: RwSignal<Vec<String>>,
    user_chosen: RwSignal<Vec<String>>,
    fields: LaunchFieldsInput,
}

impl LaunchForm {
    fn new() -> Self {
        LaunchForm {
            pipeline: RwSignal::new(String::new()),
            run_name: RwSignal::new(String::new()),
            revision: RwSignal::new(String::new()),
            compute_env: RwSignal::new(None),
            cloud_identity_mapping: RwSignal::new(None),
            workspace_chosen: RwSignal::new(Vec::new()),
            user_chosen: RwSignal::new(Vec::new()),
            fields: LaunchFieldsInput::default(),
        }
    }

    fn request(&self, default_env: Option<i64>) -> LaunchRequest {
        let optional = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        LaunchRequest {
            compute_env_id: self.compute_env.get_untracked().or(default_env),
            pipeline: self.pipeline.get_untracked().trim().to_string(),
            run_name: optional(self.run_name.get_untracked()),
            revision: optional(self.revision.get_untracked()),
            workspace_secrets: self.workspace_chosen.get_untracked(),
            user_secrets: self.user_chosen.get_untracked(),
            launch_fields: self.fields.fields(),
            cloud_identity_mapping: self.cloud_identity_mapping.get_untracked(),
        }
    }
}

/// With a per-user managed identity mapping the caller to several roles: which one the run acts
/// as. Only the caller's own mappings are offered (the server refuses anyone else's).
#[component]
fn CloudIdentityPicker(
    envs: Vec<LaunchEnv>,
    selected_env: Signal<Option<i64>>,
    chosen: RwSignal<Option<usize>>,
) -> impl IntoView {
    let mine = move || {
        let env = envs.iter().find(|e| Some(e.id) == selected_env.get())?;
        (env.your_identity_roles.len() > 1).then(|| env.your_identity_roles.clone())
    };
    move || {
        mine().map(|mine| {
            view! {
                <div class="field">
                    <label for="launch-cloud-identity">"Cloud identity"</label>
                    <select id="launch-cloud-identity" data-testid="cloud-identity-select"
                        on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>
                        {mine.into_iter().map(|IdentityRole { index, label }| view! {
                            <option value=index selected=move || chosen.get() == Some(index)>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
            }
        })
    }
}

#[component]
pub fn LaunchPage() -> impl IntoView {
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let options = Resource::new(workspace_id, get_launch_options);
    let launch = ServerAction::<LaunchRun>::new();
    let form = LaunchForm::new();
    let navigate = use_navigate();
    // A launched run opens its page, which follows the copies live.
    Effect::new(move |_| {
        if let Some(Ok(id)) = launch.value().get() {
            navigate(
                &format!("/orgs/{}/workspaces/{}/runs/{id}", org_id(), workspace_id()),
                Default::default(),
            );
        }
    });
    view! {
        <Title text="Launch · Strongroom"/>
        <section class="card launch" data-testid="launch-page">
            <h2>"Launch pipeline"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Ok(options) if !options.can_launch => view! {
                            <p class="empty" data-testid="launch-not-allowed">
                                "Your role in this workspace does not allow launching pipelines."
                            </p>
                        }.into_any(),
                        Ok(options) => view! {
                            <LaunchFormView options form launch workspace_id=workspace_id()/>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn LaunchFormView(
    options: LaunchOptions,
    form: LaunchForm,
    launch: ServerAction<LaunchRun>,
    workspace_id: i64,
) -> impl IntoView {
    // The environment of the caller's last launch here while its last Check passed, else the
    // first one whose Check passed, else the first one.
    let envs = &options.compute_envs;
    let available = |id: i64| envs.iter().any(|e| e.id == id && e.available);
    let default_env = options
        .last_compute_env_id
        .filter(|id| available(*id))
        .or_else(|| envs.iter().find(|e| e.available).map(|e| e.id))
        .or(envs.first().map(|e| e.id));
    let selected_env = move || form.compute_env.get().or(default_env);
    let error = move || launch.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let no_envs = options.compute_envs.is_empty();
    view! {
        <form data-testid="launch-form"
            on:submit=move |ev| {
                ev.prevent_default();
                launch.dispatch(LaunchRun { workspace_id, request: form.request(default_env) });
            }>
            <div class="launch-fields">
                <div class="field">
                    <label for="launch-pipeline">"Pipeline"</label>
                    <input id="launch-pipeline" name="pipeline" required autocomplete="off"
                        placeholder="nf-core/rnaseq or https://github.com/org/repo"
                        prop:value=move || form.pipeline.get()
                        on:input=move |ev| form.pipeline.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="launch-run-name">"Run name (optional)"</label>
                    <input id="launch-run-name" name="run_name" autocomplete="off"
                        placeholder="generated when empty"
                        prop:value=move || form.run_name.get()
                        on:input=move |ev| form.run_name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="launch-revision">"Revision (optional)"</label>
                    <input id="launch-revision" name="revision" autocomplete="off"
                        placeholder="main, a tag or a commit"
                        prop:value=move || form.revision.get()
                        on:input=move |ev| form.revision.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="launch-compute-env">"Compute environment"</label>
                    <select id="launch-compute-env" name="compute_env_id" data-testid="compute-env-select"
                        on:change=move |ev| form.compute_env.set(event_target_value(&ev).parse().ok())>
                        {options.compute_envs.iter().map(|env| {
                            let id = env.id;
                            view! {
                                <option value=id selected=move || selected_env() == Some(id)>
                                    {env.label.clone()}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                    {no_envs.then(|| view! {
                        <p class="hint">
                            "This workspace has no compute environment; an admin must add one first."
                        </p>
                    })}
                </div>
                <CloudIdentityPicker envs=options.compute_envs.clone()
                    selected_env=Signal::derive(selected_env) chosen=form.cloud_identity_mapping/>
            </div>
            <div class="secret-pickers">
                <SecretPicker
                    legend="Workspace secrets"
                    testid="workspace-secrets"
                    names=options.workspace_secrets.clone()
                    chosen=form.workspace_chosen
                    empty="This workspace has no secrets."/>
                <SecretPicker
                    legend="Your secrets"
                    testid="user-secrets"
                    names=options.user_secrets.clone()
                    chosen=form.user_chosen
                    empty="You have no secrets of your own."/>
            </div>
            <LaunchFieldsForm input=form.fields/>
            <EffectiveSet form/>
            <button type="submit" class="primary" data-testid="launch-submit"
                disabled=move || {
                    no_envs || launch.pending().get() || form.pipeline.with(|p| p.trim().is_empty())
                }>
                {move || if launch.pending().get() { "Launching…" } else { "Launch" }}
            </button>
            // A refusal is its first paragraph, in words; what follows (the fix, policies to paste)
            // is folded below it.
            {move || error().map(|m| {
                let (sentence, fix) = match m.split_once("\n\n") {
                    Some((first, rest)) => (first.to_string(), Some(rest.to_string())),
                    None => (m, None),
                };
                view! {
                    <div class="form-error launch-error" role="alert" data-testid="launch-error">
                        <p>{sentence}</p>
                        {fix.map(|text| view! {
                            <details data-testid="launch-fix">
                                <summary>"How to fix it"</summary>
                                <CheckFix text/>
                            </details>
                        })}
                    </div>
                }
            })}
        </form>
    }
}

/// An accessible multi-select: a filter box and a list of checkboxes, one per secret name.
#[component]
fn SecretPicker(
    legend: &'static str,
    testid: &'static str,
    names: Vec<String>,
    chosen: RwSignal<Vec<String>>,
    empty: &'static str,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let is_empty = names.is_empty();
    let names = StoredValue::new(names);
    // ASCII case folding: a secret's name is ASCII (`SECRET_NAME_PATTERN`), and Unicode's would
    // bring its case tables (about 4 kB with brotli) into the page's code.
    let visible = move || {
        let needle = filter.get().trim().to_ascii_lowercase();
        names.with_value(|n| {
            n.iter().filter(|name| name.to_ascii_lowercase().contains(&needle)).cloned().collect::<Vec<_>>()
        })
    };
    let count = move || chosen.with(Vec::len);
    view! {
        <fieldset class="secret-picker" data-testid=testid>
            <legend>
                {legend} " "
                <span class="muted" data-testid="chosen-count">
                    {move || format!("({} chosen)", count())}
                </span>
            </legend>
            {if is_empty {
                view! { <p class="empty">{empty}</p> }.into_any()
            } else {
                view! {
                    <input type="search" class="search" placeholder="Filter by name"
                        aria-label=format!("Filter {}", legend.to_ascii_lowercase())
                        data-testid="secret-filter"
                        prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev))/>
                    <ul class="checkbox-list">
                        {move || {
                            let shown = visible();
                            if shown.is_empty() {
                                return view! {
                                    <li class="muted">"No name matches the filter."</li>
                                }.into_any();
                            }
                            shown.into_iter().map(|name| {
                                let id = format!("{testid}-{name}");
                                let for_check = name.clone();
                                let for_toggle = name.clone();
                                view! {
                                    <li>
                                        <input type="checkbox" id=id.clone() value=name.clone()
                                            prop:checked=move || chosen.with(|c| c.contains(&for_check))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| {
                                                    c.retain(|n| n != &for_toggle);
                                                    if on {
                                                        c.push(for_toggle.clone());
                                                    }
                                                });
                                            }/>
                                        <label for=id class="mono">{name}</label>
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ul>
                }.into_any()
            }}
        </fieldset>
    }
}

/// The names the run will get and whose value each carries, live as boxes are ticked.
#[component]
fn EffectiveSet(form: LaunchForm) -> impl IntoView {
    let set = move || effective_set(&form.workspace_chosen.get(), &form.user_chosen.get());
    view! {
        <section class="effective-set" data-testid="effective-set" aria-live="polite">
            <h3>"Secrets this run gets"</h3>
            {move || {
                let set = set();
                if set.is_empty() {
                    return view! {
                        <p class="muted" data-testid="effective-empty">
                            "No secrets chosen: the run gets none."
                        </p>
                    }.into_any();
                }
                view! {
                    <table class="table">
                        <thead><tr><th>"Name"</th><th>"Value used"</th></tr></thead>
                        <tbody>
                            {set.into_iter().map(|s| {
                                let whose = match s.source {
                                    SecretSource::User => "yours",
                                    SecretSource::Workspace => "workspace",
                                };
                                view! {
                                    <tr data-testid="effective-row" data-name=s.name.clone()
                                        data-source=s.source.as_str()>
                                        <td class="mono">{s.name.clone()}</td>
                                        <td>
                                            <span class=format!("badge source-{}", s.source.as_str())>
                                                {whose}
                                            </span>
                                            {s.overrides_workspace.then(|| view! {
                                                <span class="badge override" data-testid="effective-override"
                                                    title="You chose both; your own value is copied, the \
                                                           workspace's is not.">
                                                    "Yours overrides the workspace secret"
                                                </span>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
