//! The Compute tab: the workspace's compute environments and cloud credentials for every
//! participant; forms to add and delete them for owners and admins. No page ever shows a secret
//! key or a private key: the server sends only the public fields.

use crate::api::compute::{
    list_compute_envs, list_credentials, CheckComputeEnv, DeleteComputeEnv, DeleteCredentials,
};
use crate::components::{
    action_error, add_compute_env_form, add_credentials_form, check_outcome, checked_status,
    replace_credentials_form, CloudIdentityPanel, ComputeCheckButton, ConfirmDelete, Deferred, ErrorPanel,
    FormError, Timestamp, WorkspaceResource,
};
use crate::model::{ComputeEnvRow, CredentialsRow};
use leptos::prelude::*;
use leptos::reactive::owner::WeakOwner;
use leptos_meta::Title;

#[component]
pub fn WorkspaceComputeTab() -> impl IntoView {
    let ws = expect_context::<WorkspaceResource>();
    let workspace_id = super::id_param("workspace_id")();
    // The owner of the forms' server actions: a form closed before its answer still reloads the
    // list once the item is saved (`page_owned_action`).
    let page = StoredValue::new(Owner::current().unwrap_or_default().downgrade());
    // What the forms saved (each makes its own server action, in the deferred forms' chunk): the
    // lists reload after each, and the page says so.
    let envs_added = RwSignal::new(0u32);
    let creds_added = RwSignal::new(0u32);
    let keys_replaced = RwSignal::new(0u32);
    // Created here, synchronously: see `SecretsManager` on resources made inside a `Suspend`.
    let delete_env = ServerAction::<DeleteComputeEnv>::new();
    let delete_creds = ServerAction::<DeleteCredentials>::new();
    let envs = Resource::new(
        move || (envs_added.get(), delete_env.version().get()),
        move |_| list_compute_envs(workspace_id),
    );
    let creds = Resource::new(
        move || (creds_added.get(), delete_creds.version().get(), keys_replaced.get()),
        move |_| list_credentials(workspace_id),
    );
    let env_error = action_error(delete_env);
    let creds_error = action_error(delete_creds);
    // List first: each form opens from its "New …" button and closes once what it made is listed.
    let adding_env = RwSignal::new(false);
    let adding_creds = RwSignal::new(false);
    // The credentials whose replace form is open, if any; it closes once the keys are saved.
    let replacing = RwSignal::new(None::<i64>);
    let env_added = Callback::new(move |()| {
        envs_added.update(|n| *n += 1);
        adding_env.set(false);
    });
    let creds_saved = Callback::new(move |()| {
        creds_added.update(|n| *n += 1);
        adding_creds.set(false);
    });
    let replaced = Callback::new(move |()| {
        keys_replaced.update(|n| *n += 1);
        replacing.set(None);
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
                {move || (envs_added.get() > 0 && !adding_env.get()).then(|| view! {
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
                {move || (creds_added.get() > 0 && !adding_creds.get()).then(|| view! {
                    <p class="form-success" role="status" data-testid="credentials-added">
                        "Credentials saved. Their keys cannot be shown again."
                    </p>
                })}
                {move || (keys_replaced.get() > 0 && replacing.get().is_none()).then(|| view! {
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
                                <CredentialsTable list manage workspace_id delete=delete_creds replaced replacing page/>
                            }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Transition>
                <FormError message=creds_error/>
            </section>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let (manage, org_id) = match ws.await {
                        Ok(view) => (view.grants.manage_compute, view.org.id),
                        Err(_) => (false, 0),
                    };
                    // Re-rendered when credentials are added, so the new ones can be chosen.
                    let credentials = creds.await.unwrap_or_default();
                    let credentials = StoredValue::new(credentials);
                    manage.then(|| view! {
                        <Show when=move || adding_creds.get()>
                            <Deferred load=move || add_credentials_form(page.get_value(), workspace_id, creds_saved)/>
                        </Show>
                        <Show when=move || adding_env.get()>
                            <Deferred load=move || add_compute_env_form(page.get_value(), workspace_id, org_id, env_added,
                                credentials.get_value())/>
                        </Show>
                    })
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn EnvsTable(
    list: Vec<ComputeEnvRow>,
    credentials: Vec<CredentialsRow>,
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
                        let settings = env.key_settings.clone();
                        let managed = env.managed_identity;
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
                                        <Deferred load=move || check_outcome(check)/>
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

#[component]
fn CredentialsTable(
    list: Vec<CredentialsRow>,
    manage: bool,
    workspace_id: i64,
    delete: ServerAction<DeleteCredentials>,
    /// Run by a replace form once the new keys are saved.
    replaced: Callback<()>,
    replacing: RwSignal<Option<i64>>,
    /// The page's owner, for the replace forms' actions.
    page: StoredValue<WeakOwner>,
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
                        let summary = StoredValue::new(c.clone());
                        view! {
                            <tr data-testid="credentials-row">
                                <td><span class="mono truncate" title=c.name.clone()>{c.name.clone()}</span></td>
                                <td>{c.provider.label()}</td>
                                <td class="mono small">{c.details.clone()}</td>
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
                                        <Deferred load=move || replace_credentials_form(page.get_value(), workspace_id, summary.get_value(), replaced)/>
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
