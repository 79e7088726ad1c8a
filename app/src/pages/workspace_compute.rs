//! The Compute tab: the workspace's compute environments and cloud credentials for every
//! participant; forms to add and delete them for owners and admins. No page ever shows a secret
//! key or a private key: the server sends only the public fields.

use crate::api::compute::{
    list_compute_envs, list_credentials, CheckComputeEnv, CreateComputeEnv, CreateCredentials,
    DeleteComputeEnv, DeleteCredentials, ReplaceCredentials,
};
use crate::components::{
    action_error, add_compute_env_form, add_credentials_form, checked_status, replace_credentials_form,
    CloudIdentityPanel, ComputeCheckButton, ComputeCheckOutcome, ConfirmDelete, Deferred, ErrorPanel,
    FormError, Timestamp, WorkspaceResource,
};
use crate::model::{ComputeEnvSummary, CredentialsSummary, Platform};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::identities::list_identities;

#[component]
pub fn WorkspaceComputeTab() -> impl IntoView {
    let ws = expect_context::<WorkspaceResource>();
    let workspace_id = super::id_param("workspace_id")();
    // Created here, synchronously: see `SecretsManager` on resources made inside a `Suspend`.
    let add_env = ServerAction::<CreateComputeEnv>::new();
    let delete_env = ServerAction::<DeleteComputeEnv>::new();
    let add_creds = ServerAction::<CreateCredentials>::new();
    let delete_creds = ServerAction::<DeleteCredentials>::new();
    let replace_creds = ServerAction::<ReplaceCredentials>::new();
    let envs = Resource::new(
        move || (add_env.version().get(), delete_env.version().get()),
        move |_| list_compute_envs(workspace_id),
    );
    let creds = Resource::new(
        move || (add_creds.version().get(), delete_creds.version().get(), replace_creds.version().get()),
        move |_| list_credentials(workspace_id),
    );
    // A resource, not a call inside the `Suspend` below: a resource's value is sent with the page,
    // while a bare server function call would be made again by the browser during hydration, which
    // then found other nodes than the server rendered and panicked. The organization's managed
    // identities; none when they cannot be listed or the caller does not manage compute.
    let identities = Resource::new(
        || (),
        move |_| async move {
            match ws.await {
                Ok(view) if view.grants.manage_compute => {
                    list_identities(view.org.id).await.unwrap_or_default()
                }
                _ => Vec::new(),
            }
        },
    );
    let env_error = action_error(delete_env);
    let creds_error = action_error(delete_creds);
    // List first: each form opens from its "New …" button and closes once what it made is listed.
    let adding_env = RwSignal::new(false);
    let adding_creds = RwSignal::new(false);
    // The credentials whose replace form is open, if any; it closes once the keys are saved.
    let replacing = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if matches!(replace_creds.value().get(), Some(Ok(_))) {
            replacing.set(None);
        }
    });
    Effect::new(move |_| {
        if matches!(add_env.value().get(), Some(Ok(_))) {
            adding_env.set(false);
        }
    });
    Effect::new(move |_| {
        if matches!(add_creds.value().get(), Some(Ok(_))) {
            adding_creds.set(false);
        }
    });
    let manage = move || ws.get().and_then(|w| w.ok()).is_some_and(|w| w.grants.manage_compute);
    let new_button = move |label: &'static str, testid: &'static str, open: RwSignal<bool>| {
        view! {
            <Transition fallback=|| ()>
                {move || manage().then(|| view! {
                    <button type="button" class="primary" data-testid=testid aria-expanded=move || open.get().to_string()
                        on:click=move |_| open.update(|o| *o = !*o)>
                        {label}
                    </button>
                })}
            </Transition>
        }
    };

    view! {
        <Title text="Compute · Strongroom"/>
        <div data-testid="compute-tab">
            <section class="card">
                <header class="card-header">
                    <h2>"Compute environments"</h2>
                    {new_button("New compute environment", "new-compute-env-button", adding_env)}
                </header>
                {move || matches!(add_env.value().get(), Some(Ok(_))).then(|| view! {
                    <p class="form-success" role="status" data-testid="compute-env-added">
                        "Compute environment added. Run its Check before the first launch."
                    </p>
                })}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let manage = ws.await.map(|w| w.grants.manage_compute).unwrap_or(false);
                        let names = creds.await.unwrap_or_default();
                        match envs.await {
                            Ok(list) if list.is_empty() => view! {
                                <p class="empty">"No compute environments yet."</p>
                            }.into_any(),
                            Ok(list) => view! {
                                <EnvsTable list credentials=names manage workspace_id delete=delete_env/>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Transition>
                <FormError message=env_error/>
            </section>
            <section class="card">
                <header class="card-header">
                    <h2>"Credentials"</h2>
                    {new_button("New credentials", "new-credentials-button", adding_creds)}
                </header>
                {move || matches!(add_creds.value().get(), Some(Ok(_))).then(|| view! {
                    <p class="form-success" role="status" data-testid="credentials-added">
                        "Credentials saved. Their keys cannot be shown again."
                    </p>
                })}
                {move || (matches!(replace_creds.value().get(), Some(Ok(_))) && replacing.get().is_none()).then(|| view! {
                    <p class="form-success" role="status" data-testid="credentials-replaced">
                        "New keys saved; they cannot be shown again. Runs already started keep the keys \
                         they started with."
                    </p>
                })}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let manage = ws.await.map(|w| w.grants.manage_compute).unwrap_or(false);
                        match creds.await {
                            Ok(list) if list.is_empty() => view! {
                                <p class="empty" data-testid="no-credentials">"No credentials yet."</p>
                            }.into_any(),
                            Ok(list) => view! {
                                <CredentialsTable list manage workspace_id delete=delete_creds replace=replace_creds replacing/>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Transition>
                <FormError message=creds_error/>
            </section>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let manage = ws.await.map(|w| w.grants.manage_compute).unwrap_or(false);
                    // Re-rendered when credentials are added, so the new ones can be chosen.
                    let credentials = creds.await.unwrap_or_default();
                    let identities = identities.await;
                    let identities = StoredValue::new(identities);
                    let credentials = StoredValue::new(credentials);
                    manage.then(|| view! {
                        <Show when=move || adding_creds.get()>
                            <Deferred load=move || add_credentials_form(workspace_id, add_creds)/>
                        </Show>
                        <Show when=move || adding_env.get()>
                            <Deferred load=move || add_compute_env_form(workspace_id, add_env,
                                credentials.get_value(), identities.get_value())/>
                        </Show>
                    })
                })}
            </Suspense>
        </div>
    }
}

/// The settings worth seeing at a glance, per platform.
fn key_settings(env: &ComputeEnvSummary) -> String {
    let c = &env.config;
    let parts: Vec<String> = match env.platform {
        Platform::AwsBatch => [
            c.region.clone(),
            c.job_queue.as_ref().map(|q| format!("queue {q}")),
            c.execution_role_arn.as_ref().map(|r| format!("role {r}")),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Platform::GoogleBatch => [c.project.clone(), c.location.clone()].into_iter().flatten().collect(),
        _ => c.work_dir.iter().cloned().collect(),
    };
    parts.join(" · ")
}

#[component]
fn EnvsTable(
    list: Vec<ComputeEnvSummary>,
    credentials: Vec<CredentialsSummary>,
    manage: bool,
    workspace_id: i64,
    delete: ServerAction<DeleteComputeEnv>,
) -> impl IntoView {
    let credentials_name = move |id: Option<i64>| match id {
        None => "—".to_string(),
        Some(id) => credentials
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("id {id}")),
    };
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="compute-envs-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Platform"</th>
                        <th>"Status"</th>
                        <th>"Settings"</th>
                        <th>"Credentials"</th>
                        {manage.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|env| {
                        let id = env.id;
                        let settings = key_settings(&env);
                        let managed = env.config.cloud_identity.is_some();
                        let check = ServerAction::<CheckComputeEnv>::new();
                        let status = checked_status(check, env.status.clone());
                        view! {
                            <tr data-testid="compute-env-row">
                                <td><span class="mono truncate" title=env.name.clone()>{env.name.clone()}</span></td>
                                <td>{env.platform.as_str()}</td>
                                <td>
                                    <span class="badge" data-testid="compute-env-status">{move || status.get()}</span>
                                </td>
                                <td class="mono small">{settings}</td>
                                <td>
                                    {if managed { "managed identity".to_string() } else { credentials_name(env.credentials_id) }}
                                </td>
                                {manage.then(|| view! {
                                    <td class="actions">
                                        <ComputeCheckButton check workspace_id compute_env_id=id/>
                                        <ConfirmDelete
                                            what=format!("the compute environment {}", env.name)
                                            consequence="Launches can no longer use it."
                                            testid="delete-compute-env"
                                            on_confirm=move || {
                                                delete.dispatch(DeleteComputeEnv {
                                                    workspace_id,
                                                    compute_env_id: id,
                                                });
                                            }
                                        />
                                    </td>
                                })}
                            </tr>
                            // A managed identity's section spans the table, below its environment.
                            {managed.then(|| view! {
                                <tr class="identity-row" data-testid="identity-row">
                                    <td colspan=if manage { "6" } else { "5" }>
                                        <CloudIdentityPanel workspace_id compute_env_id=id/>
                                    </td>
                                </tr>
                            })}
                            // The Check's outcome spans the table, below its environment.
                            <Show when=move || check.value().with(Option::is_some)>
                                <tr class="check-row" data-testid="check-row">
                                    <td colspan=if manage { "6" } else { "5" }>
                                        <ComputeCheckOutcome check/>
                                    </td>
                                </tr>
                            </Show>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The public fields of credentials, as one line.
fn public_fields(c: &CredentialsSummary) -> String {
    let p = &c.public;
    [
        p.access_key.as_ref().map(|k| format!("access key {k}")),
        p.assume_role_arn.as_ref().map(|r| format!("role {r}")),
        p.external_id.as_ref().map(|e| format!("external id {e}")),
        p.service_account_email.clone(),
        p.ssh_key_fingerprint.as_ref().map(|f| format!("key {f}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

#[component]
fn CredentialsTable(
    list: Vec<CredentialsSummary>,
    manage: bool,
    workspace_id: i64,
    delete: ServerAction<DeleteCredentials>,
    replace: ServerAction<ReplaceCredentials>,
    replacing: RwSignal<Option<i64>>,
) -> impl IntoView {
    let columns = if manage { 7 } else { 6 };
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="credentials-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Provider"</th>
                        <th>"Details"</th>
                        <th>"Created"</th>
                        <th>"Last updated"</th>
                        <th>"Last used"</th>
                        {manage.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|c| {
                        let id = c.id;
                        let details = public_fields(&c);
                        let summary = StoredValue::new(c.clone());
                        view! {
                            <tr data-testid="credentials-row">
                                <td><span class="mono truncate" title=c.name.clone()>{c.name.clone()}</span></td>
                                <td>{c.provider.label()}</td>
                                <td class="mono small">{details}</td>
                                <td><Timestamp at=c.created_at/></td>
                                <td><Timestamp at=c.updated_at/></td>
                                <td>
                                    {match c.last_used_at { Some(at) => view! { <Timestamp at/> }.into_any(), None => "never".into_any() }}
                                </td>
                                {manage.then(|| view! {
                                    <td class="actions">
                                        <button type="button" data-testid="replace-credentials-button"
                                            aria-expanded=move || (replacing.get() == Some(id)).to_string()
                                            on:click=move |_| replacing.update(|open| {
                                                *open = if *open == Some(id) { None } else { Some(id) };
                                            })>
                                            "Replace keys"
                                        </button>
                                        " "
                                        <ConfirmDelete
                                            what=format!("the credentials {}", c.name)
                                            consequence="Credentials a compute environment still uses are \
                                                         not deleted: change or delete that environment \
                                                         first."
                                            testid="delete-credentials"
                                            on_confirm=move || {
                                                delete.dispatch(DeleteCredentials {
                                                    workspace_id,
                                                    credentials_id: id,
                                                });
                                            }
                                        />
                                    </td>
                                })}
                            </tr>
                            <Show when=move || replacing.get() == Some(id)>
                                <tr class="check-row" data-testid="replace-credentials-row">
                                    <td colspan=columns>
                                        <Deferred load=move || replace_credentials_form(workspace_id, summary.get_value(), replace)/>
                                    </td>
                                </tr>
                            </Show>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
