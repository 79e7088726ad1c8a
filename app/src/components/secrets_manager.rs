//! The list of pipeline secrets with, for those allowed, add / update / delete. Used by the
//! workspace Secrets tab and by "Your secrets".
//!
//! Values are write-only: the value field never shows a stored value, is not autocompleted or
//! spell-checked, and is emptied as soon as it is sent. Forms post to the server function URL,
//! so even without JavaScript a value never lands in a URL (and so in a log line).

use crate::api::secrets::{list_secrets, CreateSecret, DeleteSecret, UpdateSecret};
use crate::components::{action_error, ErrorPanel, FormError, WorkspaceResource};
use crate::model::{check_secret_name, check_secret_value_len, format_timestamp, SecretMeta};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

const PAGE_SIZE: usize = 50;

/// Whether the caller may write: from the workspace's grants, or always for their own secrets.
async fn may_write(workspace: Option<WorkspaceResource>) -> bool {
    match workspace {
        Some(ws) => ws.await.map(|w| w.grants.write_secrets).unwrap_or(false),
        None => true,
    }
}

/// `workspace_id` 0 with no `workspace` manages the signed-in user's own secrets.
///
/// The resource and actions are created here, synchronously, never inside a `Suspend`: a
/// resource created after an `.await` gets a different identity on the server and in the
/// browser, and hydration then fails.
#[component]
pub fn SecretsManager(workspace_id: i64, workspace: Option<WorkspaceResource>) -> impl IntoView {
    let create = ServerAction::<CreateSecret>::new();
    let update = ServerAction::<UpdateSecret>::new();
    let delete = ServerAction::<DeleteSecret>::new();
    let search = RwSignal::new(String::new());
    let page = RwSignal::new(0usize);
    let secrets = Resource::new(
        move || (search.get(), create.version().get(), update.version().get(), delete.version().get()),
        move |(search, ..)| list_secrets(workspace_id, search),
    );
    let update_error = action_error(update);
    let delete_error = action_error(delete);
    let table_error = Signal::derive(move || update_error.get().or_else(|| delete_error.get()));

    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                may_write(workspace).await.then(|| view! { <AddSecretForm workspace_id create/> })
            })}
        </Suspense>
        <section class="card">
            <header class="card-header">
                <h2>"Pipeline secrets"</h2>
                <input
                    type="search"
                    class="search"
                    placeholder="Filter by name"
                    aria-label="Filter secrets by name"
                    data-testid="secret-search"
                    on:input=move |ev| {
                        page.set(0);
                        search.set(event_target_value(&ev));
                    }
                />
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let can_write = may_write(workspace).await;
                    match secrets.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" data-testid="no-secrets">"No secrets yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <SecretsTable list workspace_id can_write page update delete/>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Transition>
            <FormError message=table_error/>
        </section>
    }
}

#[component]
fn SecretsTable(
    list: Vec<SecretMeta>,
    workspace_id: i64,
    can_write: bool,
    page: RwSignal<usize>,
    update: ServerAction<UpdateSecret>,
    delete: ServerAction<DeleteSecret>,
) -> impl IntoView {
    let total = list.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let list = StoredValue::new(list);
    let editing = RwSignal::new(None::<i64>);
    let confirming = RwSignal::new(None::<i64>);
    let rows = move || {
        let start = page.get().min(pages - 1) * PAGE_SIZE;
        list.with_value(|l| l.iter().skip(start).take(PAGE_SIZE).cloned().collect::<Vec<_>>())
    };
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="secrets-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Created"</th>
                        <th>"Last updated"</th>
                        <th>"Last used"</th>
                        {can_write.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    <For each=rows key=|s| (s.id, s.updated_at) let:secret>
                        <SecretRow secret workspace_id can_write editing confirming update delete/>
                    </For>
                </tbody>
            </table>
        </div>
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages">
                <button type="button" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p -= 1)>
                    "Previous"
                </button>
                <span data-testid="secrets-page">
                    {move || format!("Page {} of {pages} ({total} secrets)", page.get() + 1)}
                </span>
                <button type="button" disabled=move || page.get() + 1 >= pages
                    on:click=move |_| page.update(|p| *p += 1)>
                    "Next"
                </button>
            </nav>
        })}
    }
}

#[component]
fn SecretRow(
    secret: SecretMeta,
    workspace_id: i64,
    can_write: bool,
    editing: RwSignal<Option<i64>>,
    confirming: RwSignal<Option<i64>>,
    update: ServerAction<UpdateSecret>,
    delete: ServerAction<DeleteSecret>,
) -> impl IntoView {
    let id = secret.id;
    let new_value = RwSignal::new(String::new());
    view! {
        <tr data-testid="secret-row" data-secret-id=id>
            <td>
                <span class="mono">{secret.name.clone()}</span>
                <OverrideBadge secret=secret.clone()/>
            </td>
            <td>{format_timestamp(secret.created_at)}</td>
            <td>{format_timestamp(secret.updated_at)}</td>
            <td>{secret.last_used_at.map(format_timestamp).unwrap_or_else(|| "never".into())}</td>
            {can_write.then(|| view! {
                <td class="actions">
                    <Show when=move || editing.get() == Some(id) fallback=move || view! {
                        <Show when=move || confirming.get() == Some(id) fallback=move || view! {
                            <button type="button" data-testid="edit-secret"
                                on:click=move |_| editing.set(Some(id))>"Update value"</button>
                            " "
                            <button type="button" class="danger-outline" data-testid="delete-secret"
                                on:click=move |_| confirming.set(Some(id))>"Delete"</button>
                        }>
                            <span class="confirm">
                                "Delete this secret? Launches that use it will fail. "
                                <button type="button" class="danger" data-testid="confirm-delete"
                                    on:click=move |_| {
                                        confirming.set(None);
                                        delete.dispatch(DeleteSecret { workspace_id, secret_id: id });
                                    }>"Delete"</button>
                                <button type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                            </span>
                        </Show>
                    }>
                        <form method="post" action=UpdateSecret::PATH class="inline-form"
                            data-testid="update-secret-form"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                let value = new_value.get_untracked();
                                // Cleared before the request returns: the value leaves the page at once.
                                new_value.set(String::new());
                                editing.set(None);
                                update.dispatch(UpdateSecret { workspace_id, secret_id: id, value });
                            }>
                            <input type="hidden" name="workspace_id" value=workspace_id/>
                            <input type="hidden" name="secret_id" value=id/>
                            <textarea name="value" rows="2" required autocomplete="off" spellcheck="false"
                                aria-label="New value" data-testid="new-secret-value"
                                prop:value=move || new_value.get()
                                on:input=move |ev| new_value.set(event_target_value(&ev))></textarea>
                            <button type="submit" class="primary"
                                disabled=move || check_secret_value_len(new_value.with(String::len)).is_err()>
                                "Save"
                            </button>
                            <button type="button"
                                on:click=move |_| {
                                    new_value.set(String::new());
                                    editing.set(None);
                                }>"Cancel"</button>
                        </form>
                    </Show>
                </td>
            })}
        </tr>
    }
}

#[component]
fn AddSecretForm(workspace_id: i64, create: ServerAction<CreateSecret>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let name_hint = move || name.with(|n| (!n.is_empty()).then(|| check_secret_name(n).err()).flatten());
    let value_hint =
        move || value.with(|v| (!v.is_empty()).then(|| check_secret_value_len(v.len()).err()).flatten());
    let invalid = move || {
        name.with(|n| check_secret_name(n).is_err())
            || value.with(|v| check_secret_value_len(v.len()).is_err())
    };
    // The name is kept when the server refuses it (so it can be corrected) and cleared on success.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
        }
    });
    view! {
        <section class="card">
            <h2>"Add Pipeline Secret"</h2>
            <form method="post" action=CreateSecret::PATH data-testid="add-secret-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let secret_value = value.get_untracked();
                    value.set(String::new());
                    create.dispatch(CreateSecret {
                        workspace_id,
                        name: name.get_untracked(),
                        value: secret_value,
                    });
                }>
                <input type="hidden" name="workspace_id" value=workspace_id/>
                <label for="secret-name">"Name"</label>
                <input id="secret-name" name="name" required autocomplete="off" placeholder="DB_PASSWORD"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <p class="hint" data-testid="secret-name-hint">{name_hint}</p>
                <label for="secret-value">"Value"</label>
                <textarea id="secret-value" name="value" rows="3" required autocomplete="off"
                    spellcheck="false"
                    data-testid="secret-value" placeholder="Write-only: it cannot be shown again after saving"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                <p class="hint">{value_hint}</p>
                <button type="submit" class="primary" disabled=invalid>"Add"</button>
            </form>
            <FormError message=action_error(create)/>
            {move || matches!(create.value().get(), Some(Ok(_)))
                .then(|| view! {
                    <p class="form-success" role="status">
                        "Secret saved. Its value cannot be shown again."
                    </p>
                })}
        </section>
    }
}

/// Says which value a launch by the signed-in user will use when a personal secret and a
/// workspace secret share a name: the personal one, always.
#[component]
fn OverrideBadge(secret: SecretMeta) -> impl IntoView {
    let workspace_side = secret.overridden_by_yours.then(|| {
        view! {
            <span class="badge override" data-testid="override-badge"
                title="You have a personal secret with this name: your launches use yours, not this one.">
                "Yours wins at launch"
            </span>
        }
    });
    let personal_side = (!secret.overrides_in.is_empty()).then(|| {
        let places = secret.overrides_in.join(", ");
        view! {
            <span class="badge override" data-testid="override-badge"
                title=format!("Your launches use this value instead of the workspace secret in {places}.")>
                {format!("Wins at launch over {places}")}
            </span>
        }
    });
    (workspace_side, personal_side)
}
